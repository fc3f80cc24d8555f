"""What a user message asks the backend agent for: a question, a new video or edits.

Keyword rules in English and Chinese (`vocabulary`), no model. The backend's own understanding is
not documented; the mock only needs to be predictable enough that clients and tests can steer it.

An edit names what it changes and, where the message says so, when (`at`, seconds from the start
or `"end"`) and how much (`value`: "140%", "2x", "1:1", a colour). Every edit kind is one the
timeline functions can apply; whether a particular edit changes a particular draft is decided
there, and the planner answers with text when it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mockserver.agent import vocabulary as words
from mockserver.agent.measures import (
    Moment,
    chinese_number,
    parse_duration_s,
    parse_factor,
    parse_moment,
    parse_percent,
    parse_volume,
)

IntentKind = Literal["question", "generate", "edit"]
Language = Literal["en", "zh"]
EditOp = Literal["title", "bgm", "subtitles", "transition", "effect", "sound", "sticker", "trim", "remove"]

EDIT_OPS: tuple[EditOp, ...] = (
    "title",
    "bgm",
    "subtitles",
    "transition",
    "effect",
    "sound",
    "sticker",
    "trim",
    "remove",
)
#: What `remove` can take away.
REMOVE_TARGETS = ("bgm", "title", "subtitles", "effects", "transitions", "sounds", "stickers")

#: Canvas sizes per aspect ratio at 1080p (B-PROF-07: output up to 1080x1920).
ASPECT_SIZES: dict[str, tuple[int, int]] = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}

__all__ = [
    "ASPECT_SIZES",
    "EDIT_OPS",
    "QUOTED_TEXT",
    "REMOVE_TARGETS",
    "Edit",
    "EditOp",
    "Intent",
    "IntentKind",
    "Language",
    "Moment",
    "chinese_number",
    "classify",
    "detect_language",
    "generation_params",
    "parse_duration_s",
    "parse_edits",
    "parse_volume",
    "quoted_texts",
]


@dataclass(frozen=True, slots=True)
class Edit:
    """One requested change of the draft. `params` by `op` (None or absent: the message did not say):

    title `text`, `color`, `position`, `seconds`, `at`; bgm `genre`, `volume` (0..1), `name`;
    subtitles `text`, `color`, `at`; transition `style`, `at`; effect `name`, `value`, `at`;
    sound `name`, `at`; sticker `name`, `symbol`, `position`, `at`; trim `seconds`;
    remove `target` (one of REMOVE_TARGETS) and, for effects, `name`.
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


# ------------------------------------------------------------------------------ messages

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

#: Quoted text: "...", “...”, 「...」, 『...』, ‘...’ or '...' (an apostrophe inside a word is no quote).
QUOTED_TEXT = re.compile(r"\"([^\"]+)\"|“([^”]+)”|「([^」]+)」|『([^』]+)』|‘([^’]+)’|(?<!\w)'(.+?)'(?!\w)")
# Clauses: a decimal point ("3.25 seconds") does not end one, a full stop does.
_CLAUSE_SPLIT = re.compile(r"[,;，；。!！]|\.(?!\d)|\band\b|\bthen\b|\balso\b|然后|并且|同时|再")
_RESOLUTION = re.compile(r"\b(720|1080)p\b")
_PLACEHOLDER = "\x00q{}\x00"
_RATIO = re.compile(r"\b(\d{1,2})\s*[:x/]\s*(\d{1,2})\b|(\d{1,2})\s*[：比]\s*(\d{1,2})")


def _first(choices: words.Choices, text: str) -> str | None:
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
    aspect = _first(words.ASPECTS, lowered)
    if aspect not in ASPECT_SIZES:
        aspect = None  # a shape a generation does not offer (4:3): the default canvas
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


# ------------------------------------------------------------------------------ edit values


def _title(clause: str, whole: str, quotes: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {"text": quotes[0] if quotes else None}
    color = _first(words.COLORS, clause) or _first(words.COLORS, whole)
    position = _first(words.POSITIONS, clause) or _first(words.POSITIONS, whole)
    keyword = words.TITLE.search(clause)
    # "title 'X' for 4 seconds": a duration after the keyword (a moment is no duration).
    seconds = parse_duration_s(clause[keyword.end() :]) if keyword else None
    if color:
        params["color"] = color
    if position:
        params["position"] = position
    if seconds is not None:
        params["seconds"] = seconds
    return params


def _effect(clause: str, in_transition: bool) -> dict[str, Any]:
    """The effect a clause names: a reframing (crop), a motion (zoom, speed), a look, or a tint."""
    if words.CROP.search(clause) or words.CROP_ZH_SHAPE.search(clause):
        return {"name": "crop", "value": _crop_shape(clause)}
    if words.ZOOM.search(clause) and not in_transition:
        return _zoom(clause)
    if words.SPEED.search(clause):
        return {"name": "speed", "value": f"{_speed_factor(clause):g}x"}
    return _look(clause)


def _crop_shape(clause: str) -> str | None:
    """ "1:1", "9:16", "80%"; None for "crop the video" (to what? answered with a question)."""
    aspect = _first(words.ASPECTS, clause)
    if aspect:
        return aspect
    ratio = _RATIO.search(clause)
    if ratio:
        a, b = (group for group in ratio.groups() if group is not None)
        return f"{a}:{b}"
    percent = parse_percent(clause)
    return f"{percent:g}%" if percent is not None else None


def _zoom(clause: str) -> dict[str, Any]:
    percent = parse_percent(clause)
    factor = parse_factor(clause)
    if percent is None and factor is not None:
        percent = round(factor * 100)
    name = "zoom_out" if words.ZOOM_OUT.search(clause) else "zoom_in"
    return {"name": name, "value": f"{percent:g}%" if percent is not None else None}


def _speed_factor(clause: str) -> float:
    """ "2x", "at 150%", else half for "slower" and double for any other speed change."""
    factor = parse_factor(clause)
    if factor is not None:
        return factor
    percent = parse_percent(clause)
    return percent / 100 if percent else (0.5 if words.SPEED_SLOWER.search(clause) else 2.0)


def _look(clause: str) -> dict[str, Any]:
    """A named look, a tint of a colour, "<word> filter", else a colour grade."""
    named = _first(words.EFFECTS, clause)
    if named:
        return {"name": named}
    color = _first(words.COLORS, clause)
    if color:
        return {"name": "tint", "value": color}
    for match in re.finditer(r"([a-z][a-z-]+)\s+(?:filters?|effects?|looks?)\b", clause):
        if match.group(1) not in words.NOT_EFFECT_NAMES:
            return {"name": match.group(1).replace("-", "_")}
    return {"name": "color_grading"}


def _sound(clause: str) -> dict[str, Any]:
    name = _first(words.SOUND_NAMES, clause)
    if name is None:
        before = re.search(r"([a-z][a-z-]+)\s+(?:sound|sfx)", clause)
        if before and before.group(1) not in words.NOT_SOUND_NAMES:
            name = before.group(1)
    return {"name": name or words.DEFAULT_SOUND}


def _sticker(clause: str) -> dict[str, Any]:
    found = next(((n, s) for n, s, pattern in words.STICKERS if pattern.search(clause)), None)
    if found is None:
        before = re.search(r"([a-z][a-z-]+)\s+(?:stickers?|emojis?)", clause)
        if before and before.group(1) not in words.NOT_EFFECT_NAMES:
            found = (before.group(1), before.group(1))
    name, symbol = found or next((n, s) for n, s, _ in words.STICKERS if n == words.DEFAULT_STICKER)
    return {"name": name, "symbol": symbol, "position": _first(words.POSITIONS, clause) or "center"}


def _edit_params(op: EditOp, clause: str, whole: str, quotes: list[str]) -> dict[str, Any]:
    """Parameters for `op`, read from its clause first and from the whole message second."""
    if op == "title":
        return _title(clause, whole, quotes)
    if op == "bgm":
        volume = parse_volume(clause)
        return {
            "genre": _first(words.GENRES, clause) or _first(words.GENRES, whole),
            "volume": volume if volume is not None else parse_volume(whole),
        }
    if op == "subtitles":
        return {"text": quotes[0] if quotes else None, "color": _first(words.COLORS, clause)}
    if op == "transition":
        return {"style": _first(words.TRANSITIONS, clause) or _first(words.TRANSITIONS, whole) or "fade"}
    if op == "effect":
        return _effect(clause, in_transition=bool(words.TRANSITION.search(clause)))
    if op == "sound":
        return _sound(clause)
    if op == "sticker":
        return _sticker(clause)
    if op == "trim":
        seconds = parse_duration_s(clause)
        return {"seconds": seconds if seconds is not None else parse_duration_s(whole)}
    raise ValueError(f"no parameters for {op!r}")


# ------------------------------------------------------------------------------ edits


def _has_sound(clause: str) -> bool:
    if words.SOUND.search(clause):
        return True
    name = _first(words.SOUND_NAMES, clause)
    return name in words.PLAIN_SOUNDS


#: Edit kinds a word of their own marks ("title", "贴纸"); sounds and effects need a closer look.
_MARKED: tuple[tuple[EditOp, re.Pattern[str]], ...] = (
    ("title", words.TITLE),
    ("bgm", words.BGM),
    ("subtitles", words.SUBTITLES),
    ("transition", words.TRANSITION),
    ("sticker", words.STICKER),
)


def _adding_ops(clause: str) -> list[EditOp]:
    """The kinds of edit a clause asks for, in a fixed order."""
    ops: list[EditOp] = [op for op, pattern in _MARKED if pattern.search(clause)]
    sound = _has_sound(clause)
    if sound:
        ops.append("sound")
    rest = words.SOUND.sub(" ", clause) if sound else clause  # "sound effect" is no video effect
    crop = bool(words.CROP.search(rest) or words.CROP_ZH_SHAPE.search(rest))
    effect = bool(
        words.EFFECT_WORDS.search(rest)
        or crop
        or words.SPEED.search(rest)
        or (words.ZOOM.search(rest) and "transition" not in ops)
    )
    if not effect and not ops and any(pattern.search(rest) for _, pattern in words.EFFECTS):
        effect = True  # "make it black and white", "add slow motion"
    if effect and ("transition" not in ops or words.EFFECT_WORDS.search(rest)) and "sticker" not in ops:
        ops.append("effect")
    if words.TRIM.search(rest) and not (crop and words.CROP_ZH_SHAPE.search(rest)):
        ops.append("trim")
    return ops


def _remove_targets(clause: str) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    if _has_sound(clause):
        targets.append({"target": "sounds"})
        clause = words.SOUND.sub(" ", clause)
    if words.STICKER.search(clause):
        targets.append({"target": "stickers"})
    for target, pattern in (("bgm", words.BGM), ("title", words.TITLE), ("subtitles", words.SUBTITLES)):
        if pattern.search(clause):
            targets.append({"target": target})
    if words.EFFECT_WORDS.search(clause) or (not targets and _first(words.EFFECTS, clause)):
        named = _first(words.EFFECTS, clause)
        targets.append({"target": "effects", **({"name": named} if named else {})})
    if words.TRANSITION.search(clause):
        targets.append({"target": "transitions"})
    if words.TEXT_TARGET.search(clause):
        present = {t["target"] for t in targets}
        targets.extend({"target": t} for t in ("title", "subtitles") if t not in present)
    return targets


#: Edits that take place at a moment of the video when the message names one.
_TIMED: frozenset[EditOp] = frozenset({"title", "subtitles", "transition", "effect", "sound", "sticker"})


def parse_edits(text: str) -> tuple[Edit, ...]:
    """The edits a message asks for, clause by clause ("remove the title and add jazz music at 30%").

    A moment in a clause of its own ("at 2 seconds, add a whoosh") belongs to the next edit; a
    clause without a verb after a removal ("remove the music and the title") goes on removing.
    """
    quotes = quoted_texts(text)
    masked = QUOTED_TEXT.sub(lambda m: _PLACEHOLDER.format(m.start()), text).lower()
    edits: list[Edit] = []
    removing = False
    pending: Moment | None = None
    for clause in _CLAUSE_SPLIT.split(masked):
        if not clause.strip():
            continue
        removing = _removes(clause, removing)
        if removing:
            edits += [Edit("remove", target) for target in _remove_targets(clause)]
            continue
        moment = parse_moment(clause)
        ops = _adding_ops(clause)
        if not ops:
            pending = moment if moment is not None else pending
            continue
        at = moment if moment is not None else pending
        pending = None
        edits += [_adding_edit(op, clause, masked, quotes, at) for op in ops]
    return _first_of_each(edits)


def _removes(clause: str, removing: bool) -> bool:
    """Whether a clause takes something away: a removal verb, a verbless clause after one, or
    "cut" with a target and no length ("cut the music", not "cut it to 5 seconds")."""
    if words.REMOVE.search(clause) or (removing and not words.ADD_VERBS.search(clause)):
        return True
    cut = words.CUT.search(clause) and not re.search(r"\bcut\s+to\b", clause)
    cut_target = cut and parse_duration_s(clause) is None and parse_percent(clause) is None
    return bool(cut_target and _remove_targets(clause))


def _adding_edit(op: EditOp, clause: str, whole: str, quotes: list[str], at: Moment | None) -> Edit:
    params = _edit_params(op, clause, whole, quotes)
    if op in _TIMED and at is not None:
        params["at"] = at
    return Edit(op, params)


def _first_of_each(edits: list[Edit]) -> tuple[Edit, ...]:
    """One edit per op (per target, for removals): the first the message names."""
    first: dict[tuple[str, str], Edit] = {}
    for edit in edits:
        first.setdefault((edit.op, str(edit.params.get("target", ""))), edit)
    return tuple(first.values())


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
    if not edits and seconds is not None and parse_moment(lowered) is None:
        edits = (Edit("trim", {"seconds": seconds}),)  # "make it 8 seconds", "改成5秒"
    if edits:
        return Intent("edit", language, prompt, edits)
    return Intent("question", language, prompt)
