"""Numbers in a message: durations, moments on the timeline, percentages and speed factors.

English and Chinese ("5 seconds", "5秒", "五秒"; "at 3.25 seconds", "在3.25秒处", "第三秒"; "35%",
"百分之三十五"; "2x", "两倍"). A *duration* says how long ("trim it to 5 seconds"); a *moment*
says when ("a whoosh at 2 seconds"). The two look alike, so a moment is cut out of a text before
a duration is read from it.
"""

from __future__ import annotations

import re

#: A moment: seconds from the start of the video, or the end of the video.
Moment = float | str
END = "end"

_ZH_NUM = "[零一二两三四五六七八九十百]+"
_NUM = rf"(\d+(?:\.\d+)?|{_ZH_NUM})"
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(s|sec|secs|second|seconds)\b")
_MINUTES = re.compile(r"(\d+(?:\.\d+)?)\s*-?\s*(min|mins|minute|minutes)\b")
_SECONDS_ZH = re.compile(rf"{_NUM}\s*秒")
_MINUTES_ZH = re.compile(rf"{_NUM}\s*分钟")
_PERCENT_VALUE = re.compile(rf"(\d{{1,3}}(?:\.\d+)?)\s*%|百分之({_ZH_NUM}|\d+(?:\.\d+)?)")
_FACTOR = re.compile(rf"(\d+(?:\.\d+)?)\s*x\b|×\s*(\d+(?:\.\d+)?)|{_NUM}\s*倍")
_UNIT = r"\s*-?\s*(?:s|secs?|seconds?)\b"

#: Moments, each with the group holding its seconds (or minutes:seconds).
_MOMENTS = (
    re.compile(rf"\b(?:at|from|around)\s+(?:the\s+)?(\d+(?:\.\d+)?){_UNIT}(?:\s*mark\b)?"),
    re.compile(rf"\b(\d+(?:\.\d+)?){_UNIT}\s+in\b"),
    re.compile(rf"(?:在|于|从|第)\s*{_NUM}\s*秒(?:钟)?(?:处|时|的时候|的位置|那里)?"),
    re.compile(rf"{_NUM}\s*秒(?:钟)?(?:处|时|的时候|的位置|那里)"),
)
_CLOCK_MOMENT = re.compile(r"\b(?:at|from)\s+(\d{1,2}):(\d{2}(?:\.\d+)?)\b")
_START = re.compile(r"\b(?:at|from) the (?:very )?(?:start|beginning)\b|开头|开始时|片头")
_END = re.compile(r"\bat the (?:very )?end\b|结尾|末尾|最后|片尾")

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


def number(raw: str) -> float | None:
    """`raw` as a number: digits ("3.25") or a Chinese numeral ("三")."""
    try:
        return float(raw)
    except ValueError:
        value = chinese_number(raw)
        return None if value is None else float(value)


def parse_moment(text: str) -> Moment | None:
    """When a text places something: seconds from the start, `END`, or None when it says nothing."""
    lowered = text.lower()
    clock = _CLOCK_MOMENT.search(lowered)
    if clock:
        return int(clock.group(1)) * 60 + float(clock.group(2))
    for pattern in _MOMENTS:
        match = pattern.search(lowered)
        if match:
            value = number(match.group(1))
            if value is not None:
                return value
    if _START.search(lowered):
        return 0.0
    if _END.search(lowered):
        return END
    return None


def strip_moments(text: str) -> str:
    """`text` without the moments it names ("trim to 5s at 2 seconds" -> "trim to 5s  ")."""
    out = _CLOCK_MOMENT.sub(" ", text.lower())
    for pattern in (*_MOMENTS, _START, _END):
        out = pattern.sub(" ", out)
    return out


def parse_duration_s(text: str) -> float | None:
    """First duration a text states, in seconds ("5-second", "5s", "10 seconds", "5秒", "1 minute").

    Moments ("at 2 seconds") are no durations and are skipped.
    """
    lowered = strip_moments(text)
    for pattern, factor in ((_SECONDS, 1), (_SECONDS_ZH, 1), (_MINUTES, 60), (_MINUTES_ZH, 60)):
        match = pattern.search(lowered)
        if match:
            value = number(match.group(1))
            if value is not None and value > 0:
                return value * factor
    return None


def parse_percent(text: str) -> float | None:
    """The first percentage a text states, as a number ("140%" -> 140.0, "百分之三十" -> 30.0)."""
    match = _PERCENT_VALUE.search(text)
    if not match:
        return None
    return number(match.group(1) or match.group(2))


def parse_volume(text: str) -> float | None:
    """A percentage in the text as a 0..1 volume ("35%", "百分之三十五")."""
    value = parse_percent(text)
    return None if value is None else max(0.0, min(1.0, value / 100))


def parse_factor(text: str) -> float | None:
    """A multiplier ("2x", "0.5x", "×1.5", "两倍"), or None."""
    match = _FACTOR.search(text.lower())
    if not match:
        return None
    value = number(next(group for group in match.groups() if group is not None))
    return value if value is not None and value > 0 else None
