"""What the scripted backend agent says, in English and Chinese.

The real backend assumes a GUI (B-SSE-20): its replies tell the user to click buttons, open
panels, drag clips and preview in the timeline. The mock keeps that habit so that clients
exercise their GUI translation (B-CLI-03).
"""

from __future__ import annotations

import random
import re
from typing import Any

from contracts import wording
from contracts.profiles import Profile
from mockserver.agent.intents import QUOTED_TEXT, Language, quoted_texts

#: U-18: the trailing noise text per language; one home with the pattern clients filter it by.
TEMPORARY_ISSUE = wording.TEMPORARY_ISSUE

_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("greeting", re.compile(r"^\W*(hi|hello|hey|good (morning|afternoon|evening))\b|^\W*(你好|您好|嗨)")),
    ("timing", re.compile(r"how long|how much time|\bwait\b|\bminutes?\b|多久|多长时间|要等|几分钟")),
    (
        "credits",
        re.compile(r"credit|\bcost|price|\bpay|balance|how much|billing|积分|费用|多少钱|价格|余额|收费"),
    ),
    ("export", re.compile(r"export|download|\bsave\b|\brender|导出|下载|保存|渲染")),
    ("formats", re.compile(r"format|upload|\bfiles?\b|\bmp4\b|\bmov\b|格式|上传|文件")),
    (
        "timeline",
        re.compile(r"timeline|tracks?\b|what'?s in|current|draft|status|progress|时间线|轨道|当前|进度|草稿"),
    ),
    (
        "capabilities",
        re.compile(r"what can you|what do you do|\bhelp\b|capabilit|features?|能做什么|可以做什么|功能|帮助"),
    ),
)

_ANSWERS: dict[str, dict[Language, tuple[str, ...]]] = {
    "greeting": {
        "en": (
            "Hi! I'm your video assistant. Describe the video you want, for example \"a 10-second city "
            "timelapse at night\", and I'll create it.",
            "Hello! Tell me what to make and I'll generate it; you can preview everything in the timeline.",
        ),
        "zh": (
            "你好！我是你的视频助手。描述你想要的视频，比如“10秒的城市夜景延时”，我来帮你制作。",
            "你好！告诉我想做什么视频，我来生成，所有内容都可以在时间线中预览。",
        ),
    },
    "timing": {
        "en": (
            "A text reply takes a few seconds; generating a new clip usually takes {gen} and each edit "
            "{edit}. You can follow the progress in the task panel.",
            "Generation usually finishes in {gen}. Edits such as titles or music take {edit}. Keep this page "
            "open and watch the preview panel.",
        ),
        "zh": (
            "文字回复只需几秒；生成新视频通常需要{gen}，每次编辑需要{edit}。你可以打开任务面板查看进度。",
            "生成一般在{gen}内完成，加标题、配乐等编辑需要{edit}。请保持页面打开，在预览面板查看进度。",
        ),
    },
    "credits": {
        "en": (
            "Generating a video costs {gen_cost} credits and each edit {edit_cost} credits; exporting is "
            "{export}. Check your account page for the balance, or open the billing page to top up.",
            "Each generation uses {gen_cost} credits and each edit {edit_cost}. Your remaining credits are "
            "shown on your dashboard.",
        ),
        "zh": (
            "生成一个视频消耗 {gen_cost} 积分，每次编辑 {edit_cost} 积分，导出{export}。"
            "请在账户页面查看余额，或打开充值页面购买积分。",
            "每次生成使用 {gen_cost} 积分，每次编辑 {edit_cost} 积分。剩余积分可以在个人中心查看。",
        ),
    },
    "export": {
        "en": (
            "When you're happy with the timeline, click the Export button in the top-right corner and choose "
            "1080p MP4. The download starts as soon as rendering finishes.",
            "Open the Export panel, pick the resolution and click Export; rendering usually takes a minute "
            "or so.",
        ),
        "zh": (
            "对时间线满意后，点击右上角的导出按钮，选择 1080p MP4。渲染完成后会自动开始下载。",
            "打开导出面板，选择分辨率后点击导出，渲染通常需要一分钟左右。",
        ),
    },
    "formats": {
        "en": (
            "You can upload video ({video}), images ({image}) and audio ({audio}). Just drag the file into "
            "the media panel or click the Upload button.",
        ),
        "zh": (
            "支持上传视频（{video}）、图片（{image}）和音频（{audio}）。把文件拖拽到素材面板，或点击上传按钮即可。",
        ),
    },
    "capabilities": {
        "en": (
            "I can create videos from a text description and polish them: titles, background music, "
            "subtitles, transitions, effects and trimming. Tell me what you'd like, then preview it in the "
            "timeline and click the Export button when it looks right.",
            "I'm your video assistant. Describe a scene and I'll generate it, then add music, a title or "
            "captions. You can also drag clips into the media panel and I'll work with them.",
        ),
        "zh": (
            "我可以根据文字描述生成视频，并帮你添加标题、背景音乐、字幕、转场和特效，或者剪短视频。"
            "告诉我你的想法，然后在时间线里预览，满意后点击导出按钮即可。",
            "我是你的视频助手。描述一个画面我就能生成视频，还可以加音乐、标题或字幕。"
            "你也可以把素材拖拽到素材面板里，我来帮你编辑。",
        ),
    },
    "general": {
        "en": (
            "I can help with that through the video itself: ask me to generate a clip, or to add a title, "
            "music, subtitles, transitions or effects. Open the editor panel at any time to see the "
            "timeline.",
            "I work on videos: generation from a description and edits like titles, music, captions and "
            "trimming. What would you like to make?",
        ),
        "zh": (
            "我可以通过生成或编辑视频来帮你：让我生成一段视频，或添加标题、音乐、字幕、转场和特效。"
            "随时打开编辑面板查看当前时间线。",
            "我专注于视频：根据描述生成视频，以及加标题、配乐、字幕、剪辑等编辑。你想做什么样的视频？",
        ),
    },
}

_TIMELINE = {
    "en": (
        "Here is your project: {summary}. Preview it in the timeline, or drag a clip to reorder it.",
        "Your timeline is empty. Describe the video you want and I'll generate it.",
    ),
    "zh": (
        "这是你的项目：{summary}。可以在时间线中预览，或拖拽片段调整顺序。",
        "时间线还是空的。描述一下你想要的视频，我来帮你生成。",
    ),
}

_GENERATION_INTRO = {
    "en": (
        "I'll generate your video now...",
        "Great idea! I'll generate a {seconds}-second {shape} video of {subject}. This usually takes a few "
        "minutes.",
        "Starting generation: {subject}, {seconds}s, {shape}.",
    ),
    "zh": (
        "好的，我现在开始生成视频……",
        "好主意！我将为你生成一段{seconds}秒的{shape}视频：{subject}。通常需要几分钟。",
        "开始生成：{subject}，{seconds}秒，{shape}。",
    ),
}
_SHAPES = {
    "en": {"16:9": "landscape", "9:16": "vertical", "1:1": "square"},
    "zh": {"16:9": "横屏", "9:16": "竖屏", "1:1": "方形"},
}

_RAW_CLIP_READY = {
    "en": (
        "The raw clip is ready ({seconds}s, {width}x{height}). Now adding the finishing touches: music, "
        "a title and colour grading.",
        "Your clip has been generated. I'm adding background music, a title and effects next.",
    ),
    "zh": (
        "原始片段已生成（{seconds}秒，{width}x{height}）。接下来添加背景音乐、标题和调色。",
        "视频片段已生成，正在为你添加背景音乐、标题和特效。",
    ),
}

_GENERATION_DONE = {
    "en": (
        "Your video is ready! {summary}. Preview it in the timeline, and click the Export button when you're "
        "happy with it.",
        "Done! {summary}. You can drag the title to a new position or open the music panel to change the "
        "track.",
        "All finished. {summary}. Let me know if you'd like a different title or music.",
    ),
    "zh": (
        "视频已完成！{summary}。可以在时间线中预览，满意后点击导出按钮。",
        "完成了！{summary}。你可以拖拽标题调整位置，或打开音乐面板更换配乐。",
        "全部完成。{summary}。如果想换标题或音乐，请告诉我。",
    ),
}

_EDIT_DONE = {
    "en": (
        "Done: {changes}. {summary}. Preview the result in the timeline.",
        "I've updated your video ({changes}). {summary}.",
        "All set: {changes}. Click Export when you're ready, or drag the clips to fine-tune the timing.",
    ),
    "zh": (
        "已完成修改。{summary}。请在时间线中预览效果。",
        "修改好了！{summary}。满意的话点击导出按钮。",
        "已更新视频：{summary}。你可以拖拽片段微调时间。",
    ),
}

_NO_DRAFT = {
    "en": (
        "There's no video in this project yet. Generate one first (for example \"make a 10-second video of a "
        'beach at sunset") or upload a clip by dragging it into the media panel, then I can edit it.',
    ),
    "zh": (
        "当前项目还没有视频。请先生成一个视频（例如“生成一段10秒的海边日落视频”），"
        "或把素材拖拽到素材面板上传，然后我再帮你编辑。",
    ),
}


#: Why an edit changed nothing (timeline.unchanged_reason), said instead of silence (B-SSE-09).
_NOT_APPLIED: dict[str, dict[Language, str]] = {
    "outside": {
        "en": "There is no picture at {at}s: the video is {length}s long. Tell me a moment between 0 and "
        "{length}s.",
        "zh": "{at}秒处没有画面：视频只有{length}秒。请告诉我 0 到 {length} 秒之间的时间点。",
    },
    "unclear": {
        "en": "What shape should I crop the video to: square (1:1), vertical (9:16) or landscape (16:9)?",
        "zh": "要把画面裁切成什么比例：正方形（1:1）、竖屏（9:16）还是横屏（16:9）？",
    },
    "absent": {
        "en": "There is no {target} to remove.",
        "zh": "没有可以删除的{target}。",
    },
    "short": {
        "en": "The video is already {length}s long, so there is nothing to trim.",
        "zh": "视频已经只有{length}秒了，不需要再剪短。",
    },
    "present": {
        "en": "The video already has that ({what}), so nothing changed.",
        "zh": "视频里已经有了（{what}），所以没有改动。",
    },
}
_TARGETS: dict[Language, dict[str, str]] = {
    "en": {
        "bgm": "background music",
        "title": "title",
        "subtitles": "subtitle",
        "effects": "effect",
        "transitions": "transition",
        "sounds": "sound effect",
        "stickers": "sticker",
    },
    "zh": {
        "bgm": "背景音乐",
        "title": "标题",
        "subtitles": "字幕",
        "effects": "特效",
        "transitions": "转场",
        "sounds": "音效",
        "stickers": "贴纸",
    },
}


def _number_text(value: object) -> str:
    return f"{float(str(value)):g}"


def not_applied(language: Language, reasons: list[tuple[str, dict[str, Any]]], summary: str | None) -> str:
    """Why the edits of a message changed nothing, one sentence each, then the tracks (if given)."""
    sentences: list[str] = []
    for reason, fields in reasons:
        values = dict(fields)
        if reason == "outside":
            values = {"at": _number_text(values["at"]), "length": _number_text(values["length"])}
        elif reason == "short":
            values = {"length": _number_text(values["length"])}
        elif reason == "absent":
            target = _TARGETS[language].get(str(values["target"]), str(values["target"]))
            values = {"target": f"{values['name']} {target}" if values.get("name") else target}
        sentence = _NOT_APPLIED[reason][language].format(**values)
        if sentence not in sentences:
            sentences.append(sentence)
    if summary:
        sentences.append(f"{summary}。" if language == "zh" else f"{summary}.")
    return ("" if language == "zh" else " ").join(sentences)


def _minutes(low_s: float, high_s: float, language: Language) -> str:
    if high_s < 90:
        low, high = round(low_s), round(high_s)
        return f"{low}-{high} 秒" if language == "zh" else f"{low}-{high} seconds"
    low, high = max(1, round(low_s / 60)), max(1, round(high_s / 60))
    return f"{low}-{high} 分钟" if language == "zh" else f"{low}-{high} minutes"


def topic_of(prompt: str) -> str:
    """What a question is about: greeting, timing, credits, export, formats, timeline, capabilities
    or general."""
    lowered = prompt.lower()
    return next((name for name, pattern in _TOPICS if pattern.search(lowered)), "general")


def answer(prompt: str, language: Language, rng: random.Random, profile: Profile, summary: str | None) -> str:
    """A reply to a question; `summary` is the track summary of the session's draft, if any."""
    topic = topic_of(prompt)
    if topic == "timeline":
        templates = _TIMELINE[language]
        return templates[0].format(summary=summary) if summary else templates[1]
    template = rng.choice(_ANSWERS[topic][language])
    export = (
        ("免费" if language == "zh" else "free") if profile.export_cost == 0 else f"{profile.export_cost}"
    )
    formats = {
        kind: ", ".join(ext.upper() for ext in exts) for kind, exts in profile.accepted_formats.items()
    }
    return template.format(
        gen=_minutes(*profile.generation_s, language),
        edit=_minutes(*profile.edit_s, language),
        gen_cost=profile.generation_cost,
        edit_cost=profile.edit_cost,
        export=export,
        video=formats.get("video", ""),
        image=formats.get("image", ""),
        audio=formats.get("audio", ""),
    )


def generation_intro(language: Language, rng: random.Random, subject: str, seconds: int, aspect: str) -> str:
    template = rng.choice(_GENERATION_INTRO[language])
    return template.format(subject=subject, seconds=seconds, shape=_SHAPES[language].get(aspect, aspect))


def raw_clip_ready(language: Language, rng: random.Random, seconds: int, width: int, height: int) -> str:
    return rng.choice(_RAW_CLIP_READY[language]).format(seconds=seconds, width=width, height=height)


def generation_done(language: Language, rng: random.Random, summary: str) -> str:
    return rng.choice(_GENERATION_DONE[language]).format(summary=summary)


def edit_done(language: Language, rng: random.Random, changes: list[str], summary: str) -> str:
    return rng.choice(_EDIT_DONE[language]).format(changes="; ".join(changes), summary=summary)


def no_draft(language: Language, rng: random.Random) -> str:
    return rng.choice(_NO_DRAFT[language])


# ------------------------------------------------------------------------------ subject and title

NO_SUBJECT = {"en": "your idea", "zh": "你的创意"}  # what a prompt without a subject is about
_SUBJECT_AFTER = re.compile(r"\b(?:of|about|showing|featuring|depicting)\s+(.+)")
_DURATION_WORDS = re.compile(r"\b\d+(?:\.\d+)?\s*-?\s*(?:s|sec|secs|seconds?|min|mins|minutes?)\b")
_FILLER_EN = frozenset(
    re.findall(
        r"\S+",
        "please can could would you me i want need like give a an the generate create make produce render "
        "regenerate new video clip film movie animation reel short quick vertical horizontal landscape "
        "portrait square widescreen tiktok youtube hd 1080p 720p",
    )
)
_CUT_EN = re.compile(r"\s+(?:with|and add|and then|for|in \d)\b|[,.;!?]")
_FILLER_ZH = re.compile(
    r"请|帮我|帮忙|给我|麻烦|重新|生成|制作|创建|创作|做|拍|一个|一段|一条|一部|关于|视频|短片|片子|影片|动画|"
    r"竖屏|横屏|竖版|横版|方形|高清|[0-9零一二两三四五六七八九十百]+\s*(?:秒|分钟)|的$|^的"
)


def subject_of(prompt: str, language: Language) -> str:
    """What a generation prompt is about, in a few words ('city timelapse at night')."""
    text = QUOTED_TEXT.sub(" ", prompt).strip()
    if language == "zh":
        core = re.split(r"[，。,.!！?？；;]", text)[0]
        for _ in range(3):  # fillers can uncover fillers ("一段10秒的")
            core = _FILLER_ZH.sub("", core).strip()
        core = core.strip("的 ")
        return core[:12] or NO_SUBJECT["zh"]
    lowered = _DURATION_WORDS.sub(" ", text.lower())
    found = _SUBJECT_AFTER.search(lowered)
    rest = found.group(1) if found else lowered
    rest = _CUT_EN.split(rest, maxsplit=1)[0]
    words = [w for w in re.findall(r"[a-z0-9'&-]+", rest)]
    if not found:
        words = [w for w in words if w not in _FILLER_EN]
    while words and words[0] in {"a", "an", "the", "some"}:
        words = words[1:]
    return " ".join(words[:6]) or NO_SUBJECT["en"]


def title_for(prompt: str, language: Language, subject: str) -> str:
    """The title for a video: quoted text in the prompt, else a few words of its subject."""
    quotes = quoted_texts(prompt)
    if quotes:
        return quotes[0]
    if subject in NO_SUBJECT.values():
        return "我的视频" if language == "zh" else "My Video"
    if language == "zh" or not subject.isascii():
        return subject[:8]
    return " ".join(word.capitalize() for word in subject.split()[:4])
