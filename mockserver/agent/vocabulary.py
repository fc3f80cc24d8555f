"""The words the scripted agent understands, in English and Chinese: edit kinds and their values.

Pure data: `(value, pattern)` tables searched in order (the first match wins, so longer or more
specific names come first) and the patterns that say which kind of edit a clause asks for. The
backend's own vocabulary is not documented; this one only has to be predictable, so that clients
and tests can steer the mock. `intents` reads a message with it.
"""

from __future__ import annotations

import re

Choices = tuple[tuple[str, re.Pattern[str]], ...]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _choices(*rows: tuple[str, str]) -> Choices:
    return tuple((name, re.compile(pattern)) for name, pattern in rows)


# ------------------------------------------------------------------------------ which edit

#: What marks a clause as asking for each kind of edit.
TITLE = re.compile(r"\b(title|titles|headline|heading)\b|标题|片名|题目")
BGM = re.compile(
    r"\b(bgm|music|soundtrack|song|background track)\b|背景音乐|配乐|音乐|(?<![a-z])bgm(?![a-z])"
)
SUBTITLES = re.compile(r"\b(subtitles?|captions?|closed captions)\b|字幕")
TRANSITION = re.compile(r"\b(transitions?|crossfade|cross-fade)\b|转场|过渡")
#: Sound effects: the words, or a sound that cannot be anything else (`SOUND_NAMES` below).
SOUND = re.compile(r"\bsound[- ]?effects?\b|\bsfx\b|\bsounds?\b(?![- ]?track)|音效|声效")
STICKER = re.compile(r"\b(stickers?|emojis?|emoticons?)\b|贴纸|贴图|表情")
#: Effects: the words, and the looks, motions and reframings that are effects on a clip.
EFFECT_WORDS = re.compile(r"\b(effects?|filters?|looks?|tint(?:ed)?)\b|特效|滤镜|效果|色调")
ZOOM = re.compile(r"\bzoom(?:s|ed|ing)?\b|\bpush[- ]in\b|\bken burns\b|放大|推近|拉近|缩小|拉远|缩放")
ZOOM_OUT = re.compile(r"\bzoom(?:s|ed|ing)?[- ]?out\b|缩小|拉远")
SPEED = re.compile(
    r"\bspeed\b|\bspeed(?:s|ed|ing)? (?:it |this |the (?:video|clip) )?up\b|\bfaster\b|\bslower\b"
    r"|\bslow(?:s|ed|ing)? (?:it |this |the (?:video|clip) |everything )?down\b|\b(?:half|double)[- ]speed\b"
    r"|\btwice as fast\b|\b\d+(?:\.\d+)?\s*x\b|加速|减速|放慢|快进|慢放|倍速|\d+(?:\.\d+)?\s*倍"
)
SPEED_SLOWER = re.compile(r"\bslow|\bhalf[- ]speed\b|减速|放慢|慢放")
CROP = re.compile(r"\bcrop(?:s|ped|ping)?\b|裁切|剪裁|画幅|裁成")
#: 裁剪 is a trim ("裁剪成三秒") unless it names a shape ("裁剪成正方形"): then it is a crop.
CROP_ZH_SHAPE = re.compile(r"裁剪.{0,6}(?:正方形|方形|竖屏|竖版|横屏|横版|\d+\s*[:：比]\s*\d+)")
TRIM = re.compile(r"\b(trim|cut|shorten|shorter)\b|剪短|裁剪|剪到|剪成|缩短|截取|只保留")
#: "cut the music" removes; "cut it to 5 seconds" trims.
CUT = re.compile(r"\bcut\b|剪掉")
REMOVE = re.compile(
    r"\b(remove|delete|strip|drop|get rid of|take out|take off|without|no more|mute)\b"
    r"|删除|去掉|删掉|移除|去除|拿掉|关掉|不要"
)
ADD_VERBS = re.compile(
    r"\b(add|put|use|apply|insert|include|make|change|set|give|replace|switch|turn|trim|cut|shorten"
    r"|play|speed|slow|zoom|crop|place)\b|加|添加|换|改|用|放|设置|剪"
)
TEXT_TARGET = re.compile(r"\b(text|texts|overlays?)\b|文字")

# ------------------------------------------------------------------------------ values

GENRES = _choices(
    ("lo-fi", r"\blo-?fi\b|低保真"),
    ("jazz", r"\bjazz\w*|爵士"),
    ("epic", r"\bepic\b|史诗|震撼"),
    ("cinematic", r"\bcinematic\b|电影感"),
    ("piano", r"\bpiano\b|钢琴"),
    ("rock", r"\brock\b|摇滚"),
    ("electronic", r"\b(electronic|edm|synth\w*)\b|电子"),
    ("ambient", r"\b(ambient|calm|chill)\b|舒缓|轻音乐"),
    ("classical", r"\bclassical\b|古典"),
    ("upbeat", r"\b(upbeat|happy|energetic)\b|欢快|动感"),
    ("hip-hop", r"\bhip-?hop\b|嘻哈"),
)
TRANSITIONS = _choices(
    ("dissolve", r"\b(dissolve|cross-?fade)\b|溶解|叠化"),
    ("slide", r"\bslide\b|滑动|滑入"),
    ("wipe", r"\bwipe\b|擦除"),
    ("zoom", r"\bzoom\b|缩放"),
    ("spin", r"\bspin\w*|旋转"),
    ("glitch", r"\bglitch\w*|故障"),
    ("flash", r"\bflash\w*|闪白"),
    ("blur", r"\bblur\w*|模糊"),
    ("fade", r"\bfade\b|淡入|淡出|渐变"),
)
#: Looks and effects without a value; `color_grading` is what an unnamed effect means.
EFFECTS = _choices(
    ("color_grading", r"\b(colou?r[- ]grad(e|ed|ing)|grading|lut)\b|调色"),
    ("black_and_white", r"\b(black and white|black-and-white|b&w|monochrome|grayscale)\b|黑白"),
    ("vintage", r"\b(vintage|retro|film grain)\b|复古|怀旧"),
    ("glitch", r"\bglitch\w*|故障|毛刺"),
    ("sepia", r"\bsepia\b|棕褐|泛黄"),
    ("vignette", r"\bvignett\w*|暗角"),
    ("shake", r"\b(?:camera )?shak(?:e|y|ing)\b|抖动|震动"),
    ("sharpen", r"\bsharpen\w*|锐化"),
    ("neon", r"\bneon\b|霓虹"),
    ("mirror", r"\bmirror\w*|镜像"),
    ("pixelate", r"\bpixel\w*|\bmosaic\b|马赛克|像素"),
    ("vhs", r"\bvhs\b|录像带"),
    ("dreamy", r"\bdream\w*|梦幻"),
    ("flash", r"\bflash\w*|闪白|闪光"),
    ("fisheye", r"\bfish-?eye\b|鱼眼"),
    ("invert", r"\binvert\w*|反色|负片"),
    ("blur", r"\bblur\w*|模糊"),
    ("glow", r"\b(glow|bloom)\b|发光|光晕"),
    ("warm", r"\bwarm\w*|暖色|暖调"),
    ("cool", r"\b(cool|cold) (tone|look|colou?rs?|filter)\b|冷色|冷调"),
    ("slow_motion", r"\bslow[- ]?mo(tion)?\b|慢动作"),
)
#: Words before "filter" / "effect" that name no effect ("add a new effect").
NOT_EFFECT_NAMES = _words(
    "a an the some this that these those my its it new another nice cool great special visual video "
    "clip simple little small big subtle strong slow fast quick same different any"
)
COLORS = _choices(
    ("white", r"\bwhite\b|白色"),
    ("black", r"\bblack\b(?! and white)|黑色"),
    ("red", r"\bred\b|红色"),
    ("yellow", r"\byellow\b|黄色"),
    ("gold", r"\bgold(en)?\b|金色"),
    ("blue", r"\bblue\b|蓝色"),
    ("green", r"\bgreen\b|绿色"),
    ("purple", r"\b(purple|violet)\b|紫色"),
    ("pink", r"\bpink\b|粉色|粉红"),
    ("orange", r"\borange\b|橙色"),
)
POSITIONS = _choices(
    ("top-right", r"\b(top|upper)[- ]right\b|右上"),
    ("top-left", r"\b(top|upper)[- ]left\b|左上"),
    ("bottom-right", r"\b(bottom|lower)[- ]right\b|右下"),
    ("bottom-left", r"\b(bottom|lower)[- ]left\b|左下"),
    ("top-center", r"\btop\b|顶部|上方"),
    ("bottom-center", r"\bbottom\b|底部|下方"),
    ("center", r"\b(center|centre|middle)\b|中间|居中|中央"),
)
ASPECTS = _choices(
    (
        "9:16",
        r"\b(vertical|portrait|tiktok|reels?|shorts|stories)\b|9\s*[:x/：比]\s*16|竖屏|竖版|抖音|快手",
    ),
    ("1:1", r"\bsquare\b|1\s*[:x/：比]\s*1\b|正方形|方形"),
    ("16:9", r"\b(horizontal|landscape|widescreen|youtube)\b|16\s*[:x/：比]\s*9|横屏|横版"),
    ("4:3", r"\b4\s*[:x/]\s*3\b|4\s*[：比]\s*3"),
    ("4:5", r"\b4\s*[:x/]\s*5\b|4\s*[：比]\s*5"),
)
#: Sound effects by name; the first column is what the draft calls them.
SOUND_NAMES = _choices(
    ("whoosh", r"\b(?:whoosh|swoosh|swish|woosh)\w*|嗖|呼啸|唰"),
    ("camera shutter", r"\b(?:camera )?shutter\b|快门"),
    ("cash register", r"\b(?:cha-?ching|cash register)\b|收银"),
    ("drum roll", r"\bdrum ?rolls?\b|鼓点|击鼓"),
    ("applause", r"\b(?:applause|clapping|claps?)\b|掌声|鼓掌"),
    ("laughter", r"\blaugh\w*|笑声"),
    ("thunder", r"\bthunder\w*|雷声|打雷"),
    ("ding", r"\b(?:ding|chime)\w*|叮|提示音"),
    ("bell", r"\bbells?\b|铃声|钟声"),
    ("pop", r"\bpop\b|啵"),
    ("click", r"\bclicks?\b|咔嗒"),
    ("boom", r"\b(?:boom|explosion|bang)\b|爆炸|轰"),
    ("heartbeat", r"\bheart ?beats?\b|心跳"),
    ("birdsong", r"\b(?:birds?|birdsong|chirp\w*)\b|鸟叫|鸟鸣"),
    ("rain", r"\brain\b|雨声"),
    ("door knock", r"\bknock\w*|敲门"),
    ("typing", r"\btyping\b|\bkeyboard\b|打字|键盘"),
)
#: Sounds named so plainly that no "sound effect" words are needed ("add applause at the end").
PLAIN_SOUNDS = frozenset({"whoosh", "camera shutter", "cash register", "drum roll", "applause", "ding"})
#: Words before "sound" that name no sound ("add a sound effect").
NOT_SOUND_NAMES = _words(
    "a an the some this that my its new another nice cool great funny little short quick loud soft background"
)
#: Stickers by name, with the symbol the draft shows for each.
STICKERS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (name, symbol, re.compile(pattern))
    for name, symbol, pattern in (
        ("thumbs up", "👍", r"\bthumbs?[- ]?up\b|点赞|大拇指"),
        ("laughing face", "😂", r"😂|\blaugh(?:ing)?[- ](?:emoji|face|sticker)\b|笑哭"),
        ("heart", "❤", r"\bhearts?\b|❤|爱心|心形"),
        ("star", "★", r"\bstars?\b|★|星星|五角星"),
        ("smiley", "☺", r"\b(?:smile\w*|smiley|happy face)\b|☺|笑脸|微笑"),
        ("fire", "🔥", r"\b(?:fire|flames?)\b|🔥|火焰|火苗"),
        ("sparkles", "✨", r"\b(?:sparkl\w*|glitter)\b|✨|闪亮|星光"),
        ("arrow", "➜", r"\barrows?\b|箭头"),
        ("crown", "♛", r"\bcrowns?\b|皇冠"),
        ("sun", "☀", r"\bsun\b|太阳"),
    )
)
DEFAULT_STICKER = "star"
DEFAULT_SOUND = "whoosh"
