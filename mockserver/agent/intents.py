"""What a user message asks the backend agent for: a question, a new video or edits.

Keyword rules in English and Chinese, no model. The backend's own understanding is not
documented; the mock only needs to be predictable enough that clients and tests can steer it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

IntentKind = Literal["question", "generate", "edit"]
Language = Literal["en", "zh"]
EditOp = Literal["title", "bgm", "subtitles", "transition", "effect", "trim", "remove"]

EDIT_OPS: tuple[EditOp, ...] = ("title", "bgm", "subtitles", "transition", "effect", "trim", "remove")
_ADDING_OPS: tuple[EditOp, ...] = tuple(op for op in EDIT_OPS if op != "remove")

#: Canvas sizes per aspect ratio at 1080p (B-PROF-07: output up to 1080x1920).
ASPECT_SIZES: dict[str, tuple[int, int]] = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}


@dataclass(frozen=True, slots=True)
class Edit:
    """One requested change of the draft. `params` by `op` (None: the message did not say):

    title `text`, `color`, `position`, `seconds`; bgm `genre`, `volume` (0..1), `name`;
    subtitles `text`; transition `style`; effect `name`; trim `seconds`;
    remove `target` (bgm, title, subtitles, effects, transitions).
    """

    op: EditOp
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Intent:
    """A classified user message.

    `params` carries generation settings (`duration_s`, `aspect_ratio`, `width`, `height`,
    `resolution`; None when the message does not say). For a generation, `edits` are wishes
    for the post-production stage (a quoted title, a music genre, "without music").
    """

    kind: IntentKind
    language: Language
    prompt: str
    edits: tuple[Edit, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------ vocabulary

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_QUESTION_EN = re.compile(
    r"^\s*(what|what's|whats|how|why|when|where|which|who|whose|does|do|did|is|are|was|should|will)\b"
)
_QUESTION_ZH = re.compile(r"怎么|怎样|如何|为什么|为何|多久|多长时间|多少|哪些|哪个|哪里|什么")

_GENERATE_VERBS = frozenset({"generate", "create", "make", "produce", "render", "want", "need", "give"})
_VIDEO_NOUNS = frozenset(
    {"video", "videos", "clip", "clips", "film", "movie", "animation", "reel", "footage", "vlog", "trailer"}
)
# A definite determiner between verb and noun means "the existing video": an edit, not a new one.
_DEFINITE = frozenset({"the", "this", "that", "my", "it", "its", "your", "our", "their", "these", "those"})
_REGENERATE_EN = re.compile(r"\bre-?generate\b|\b(generate|make|create) (it |one )?again\b")
_GENERATE_ZH = re.compile(
    r"(生成|制作|做|拍|创建|创作|来)[^，。,.!?！？；;]{0,12}?(视频|短片|片子|影片|动画|短视频)"
)
_REGENERATE_ZH = re.compile(r"重新生成|再生成|重新制作|重做|重新做")
_WORD = re.compile(r"[a-z0-9']+")

_OP_PATTERNS: dict[EditOp, re.Pattern[str]] = {
    "title": re.compile(r"\b(title|titles|headline|heading)\b|标题|片名|题目"),
    "bgm": re.compile(
        r"\b(bgm|music|soundtrack|song|background track)\b|背景音乐|配乐|音乐|(?<![a-z])bgm(?![a-z])"
    ),
    "subtitles": re.compile(r"\b(subtitles?|captions?|closed captions)\b|字幕"),
    "transition": re.compile(r"\b(transitions?|crossfade|cross-fade)\b|转场|过渡"),
    "effect": re.compile(r"\b(effects?|filters?|colou?r[- ]grad(e|ed|ing)|lut)\b|特效|滤镜|调色|效果"),
    "trim": re.compile(r"\b(trim|cut|shorten|shorter|reduce)\b|剪短|裁剪|剪到|剪成|缩短|截取|只保留"),
}
_REMOVE = re.compile(
    r"\b(remove|delete|strip|drop|get rid of|take out|take off|without|no more|mute)\b"
    r"|删除|去掉|删掉|移除|去除|拿掉|关掉|不要"
)
_ADD_VERBS = re.compile(
    r"\b(add|put|use|apply|insert|include|make|change|set|give|replace|switch|turn|trim|cut|shorten)\b"
    r"|加|添加|换|改|用|放|设置|剪"
)
_TEXT_TARGET = re.compile(r"\b(text|texts|overlays?)\b|文字")

_GENRES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lo-fi", re.compile(r"\blo-?fi\b|低保真")),
    ("jazz", re.compile(r"\bjazz\w*|爵士")),
    ("epic", re.compile(r"\bepic\b|史诗|震撼")),
    ("cinematic", re.compile(r"\bcinematic\b|电影感")),
    ("piano", re.compile(r"\bpiano\b|钢琴")),
    ("rock", re.compile(r"\brock\b|摇滚")),
    ("electronic", re.compile(r"\b(electronic|edm|synth\w*)\b|电子")),
    ("ambient", re.compile(r"\b(ambient|calm|chill)\b|舒缓|轻音乐")),
    ("classical", re.compile(r"\bclassical\b|古典")),
    ("upbeat", re.compile(r"\b(upbeat|happy|energetic)\b|欢快|动感")),
    ("hip-hop", re.compile(r"\bhip-?hop\b|嘻哈")),
)
_TRANSITIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("dissolve", re.compile(r"\b(dissolve|cross-?fade)\b|溶解|叠化")),
    ("slide", re.compile(r"\bslide\b|滑动|滑入")),
    ("wipe", re.compile(r"\bwipe\b|擦除")),
    ("zoom", re.compile(r"\bzoom\b|缩放")),
    ("fade", re.compile(r"\bfade\b|淡入|淡出|渐变")),
)
_EFFECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("color_grading", re.compile(r"\b(colou?r[- ]grad(e|ed|ing)|grading|lut)\b|调色")),
    ("black_and_white", re.compile(r"\b(black and white|black-and-white|b&w|monochrome|grayscale)\b|黑白")),
    ("vintage", re.compile(r"\b(vintage|retro|film grain)\b|复古|怀旧")),
    ("blur", re.compile(r"\bblur\w*|模糊")),
    ("glow", re.compile(r"\b(glow|bloom)\b|发光|光晕")),
    ("warm", re.compile(r"\bwarm\w*|暖色|暖调")),
    ("cool", re.compile(r"\b(cool|cold) (tone|look|colou?rs?)\b|冷色|冷调")),
    ("slow_motion", re.compile(r"\bslow[- ]?mo(tion)?\b|慢动作")),
)
_COLORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("white", re.compile(r"\bwhite\b|白色")),
    ("black", re.compile(r"\bblack\b(?! and white)|黑色")),
    ("red", re.compile(r"\bred\b|红色")),
    ("yellow", re.compile(r"\byellow\b|黄色")),
    ("gold", re.compile(r"\bgold(en)?\b|金色")),
    ("blue", re.compile(r"\bblue\b|蓝色")),
)
_POSITIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("top-center", re.compile(r"\btop\b|顶部|上方")),
    ("bottom-center", re.compile(r"\bbottom\b|底部|下方")),
    ("center", re.compile(r"\b(center|centre|middle)\b|中间|居中")),
)
_ASPECTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "9:16",
        re.compile(
            r"\b(vertical|portrait|tiktok|reels?|shorts|stories)\b|9\s*[:x/]\s*16|竖屏|竖版|抖音|快手"
        ),
    ),
    ("1:1", re.compile(r"\bsquare\b|1\s*[:x/]\s*1\b|正方形|方形")),
    ("16:9", re.compile(r"\b(horizontal|landscape|widescreen|youtube)\b|16\s*[:x/]\s*9|横屏|横版")),
)

#: Quoted text: "...", “...”, 「...」, 『...』, ‘...’ or '...' (an apostrophe inside a word is no quote).
QUOTED_TEXT = re.compile(r"\"([^\"]+)\"|“([^”]+)”|「([^」]+)」|『([^』]+)』|‘([^’]+)’|(?<!\w)'(.+?)'(?!\w)")
_CLAUSE_SPLIT = re.compile(r"[,;，；。!！]|\band\b|\bthen\b|\balso\b|然后|并且|同时|再")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%|百分之([零一二两三四五六七八九十]+|\d+)")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(s|sec|secs|second|seconds)\b")
_MINUTES = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(min|mins|minute|minutes)\b")
_SECONDS_ZH = re.compile(r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百]+)\s*秒")
_MINUTES_ZH = re.compile(r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百]+)\s*分钟")
_RESOLUTION = re.compile(r"\b(720|1080)p\b")
_PLACEHOLDER = "\x00q{}\x00"

_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def chinese_number(text: str) -> int | None:
    """Value of a small Chinese numeral (up to 999), e.g. 五 5, 十五 15, 三十 30; None if not one."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in _ZH_DIGITS:
            current = _ZH_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _number(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        value = chinese_number(raw)
        return None if value is None else float(value)


def parse_duration_s(text: str) -> float | None:
    """First duration a message states, in seconds ("5-second", "5s", "10 seconds", "5秒", "1 minute")."""
    lowered = text.lower()
    for pattern, factor in ((_SECONDS, 1), (_SECONDS_ZH, 1), (_MINUTES, 60), (_MINUTES_ZH, 60)):
        match = pattern.search(lowered)
        if match:
            value = _number(match.group(1))
            if value is not None and value > 0:
                return value * factor
    return None


def parse_volume(text: str) -> float | None:
    """A percentage in the message as a 0..1 volume ("35%", "百分之三十五")."""
    match = _PERCENT.search(text)
    if not match:
        return None
    value = _number(match.group(1) or match.group(2))
    if value is None:
        return None
    return max(0.0, min(1.0, value / 100))


def _first(choices: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    return next((name for name, pattern in choices if pattern.search(text)), None)


def quoted_texts(text: str) -> list[str]:
    """Texts in '...', "...", “...”, 「...」, 『...』 or ‘...’, in order."""
    return [next(g for g in match.groups() if g is not None).strip() for match in QUOTED_TEXT.finditer(text)]


def detect_language(text: str) -> Language:
    """'zh' when the message holds any CJK ideograph, else 'en'."""
    return "zh" if _CJK.search(text) else "en"


def generation_params(text: str) -> dict[str, Any]:
    """Duration, aspect ratio, canvas size and resolution a generation request states."""
    lowered = text.lower()
    aspect = _first(_ASPECTS, lowered)
    resolution_match = _RESOLUTION.search(lowered)
    resolution = f"{resolution_match.group(1)}p" if resolution_match else "1080p"
    width = height = None
    if aspect is not None:
        width, height = ASPECT_SIZES[aspect]
        if resolution == "720p":
            width, height = width * 2 // 3, height * 2 // 3
    return {
        "duration_s": parse_duration_s(lowered),
        "aspect_ratio": aspect,
        "width": width,
        "height": height,
        "resolution": resolution,
    }


def _is_generation(lowered: str) -> bool:
    if _REGENERATE_EN.search(lowered) or _REGENERATE_ZH.search(lowered) or _GENERATE_ZH.search(lowered):
        return True
    words = _WORD.findall(lowered)
    if words and words[0] in {"a", "an"} and _VIDEO_NOUNS.intersection(words):
        return True  # "a 10-second video of ...": an order without a verb
    for index, word in enumerate(words):
        if word not in _GENERATE_VERBS:
            continue
        for following in words[index + 1 : index + 7]:
            if following in _DEFINITE:
                break
            if following in _VIDEO_NOUNS:
                return True
    return False


def _is_question(lowered: str, language: Language) -> bool:
    if _QUESTION_EN.search(lowered):
        return True
    return language == "zh" and bool(_QUESTION_ZH.search(lowered))


def _edit_params(op: EditOp, clause: str, whole: str, quotes: list[str]) -> dict[str, Any]:
    """Parameters for `op`, read from its clause first and from the whole message second."""
    if op == "title":
        params: dict[str, Any] = {"text": quotes[0] if quotes else None}
        color = _first(_COLORS, clause) or _first(_COLORS, whole)
        position = _first(_POSITIONS, clause) or _first(_POSITIONS, whole)
        keyword = _OP_PATTERNS["title"].search(clause)
        seconds = parse_duration_s(clause[keyword.end() :]) if keyword else None  # "title 'X' for 4 seconds"
        if color:
            params["color"] = color
        if position:
            params["position"] = position
        if seconds is not None:
            params["seconds"] = seconds
        return params
    if op == "bgm":
        volume = parse_volume(clause)
        return {
            "genre": _first(_GENRES, clause) or _first(_GENRES, whole),
            "volume": volume if volume is not None else parse_volume(whole),
        }
    if op == "subtitles":
        return {"text": quotes[0] if quotes else None}
    if op == "transition":
        return {"style": _first(_TRANSITIONS, clause) or _first(_TRANSITIONS, whole) or "fade"}
    if op == "effect":
        return {"name": _first(_EFFECTS, clause) or _first(_EFFECTS, whole) or "color_grading"}
    if op == "trim":
        seconds = parse_duration_s(clause)
        return {"seconds": seconds if seconds is not None else parse_duration_s(whole)}
    raise ValueError(f"no parameters for {op!r}")


def _remove_targets(clause: str) -> list[str]:
    direct: tuple[EditOp, ...] = ("bgm", "title", "subtitles")
    targets: list[str] = [op for op in direct if _OP_PATTERNS[op].search(clause)]
    if _OP_PATTERNS["effect"].search(clause):
        targets.append("effects")
    if _OP_PATTERNS["transition"].search(clause):
        targets.append("transitions")
    if _TEXT_TARGET.search(clause):
        targets.extend(t for t in ("title", "subtitles") if t not in targets)
    return targets


def parse_edits(text: str) -> tuple[Edit, ...]:
    """The edits a message asks for, clause by clause ("remove the title and add jazz music at 30%")."""
    quotes = quoted_texts(text)
    masked = QUOTED_TEXT.sub(lambda m: _PLACEHOLDER.format(m.start()), text).lower()
    edits: list[Edit] = []
    seen: set[tuple[str, str]] = set()

    def add(edit: Edit) -> None:
        key = (edit.op, str(edit.params.get("target", "")))
        if key not in seen:
            seen.add(key)
            edits.append(edit)

    removing = False
    for clause in _CLAUSE_SPLIT.split(masked):
        if not clause.strip():
            continue
        # "remove the music and the title": a clause without a verb goes on removing.
        removing = bool(_REMOVE.search(clause)) or (removing and not _ADD_VERBS.search(clause))
        cut_target = _OP_PATTERNS["trim"].search(clause) and parse_duration_s(clause) is None
        if removing or (cut_target and _remove_targets(clause)):  # "cut the music"
            removing = True
            for target in _remove_targets(clause):
                add(Edit("remove", {"target": target}))
            continue
        for op in _ADDING_OPS:
            if _OP_PATTERNS[op].search(clause):
                add(Edit(op, _edit_params(op, clause, masked, quotes)))
    return tuple(edits)


def classify(text: str) -> Intent:
    """Sort a user message into a question, a generation or edits (see module docstring)."""
    prompt = text.strip()
    language = detect_language(prompt)
    lowered = prompt.lower()
    if _is_question(lowered, language):
        return Intent("question", language, prompt)
    if _is_generation(lowered):
        return Intent("generate", language, prompt, parse_edits(prompt), generation_params(prompt))
    edits = parse_edits(prompt)
    seconds = parse_duration_s(lowered)
    if not edits and seconds is not None:
        edits = (Edit("trim", {"seconds": seconds}),)  # "make it 8 seconds", "改成5秒"
    if edits:
        return Intent("edit", language, prompt, edits)
    return Intent("question", language, prompt)
