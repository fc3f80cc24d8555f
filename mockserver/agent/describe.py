"""What a draft holds and what an edit changed, in words: the track summary the agent's replies
carry (B-STATE-06) and the change lines of an `edit_multitrack` tool result."""

from __future__ import annotations

from mockserver.agent.timeline import (
    AUDIO,
    STICKER_KIND,
    TEXT,
    VIDEO,
    Draft,
    Segment,
    Track,
    empty_draft,
    is_sound_track,
    segment_end,
    text_kind,
    video_segments,
)

_LABELS = {
    "en": {
        VIDEO: "Video",
        AUDIO: "BGM",
        "sfx": "Sound effects",
        "title": "Title",
        "subtitle": "Subtitles",
        STICKER_KIND: "Stickers",
    },
    "zh": {
        VIDEO: "视频",
        AUDIO: "背景音乐",
        "sfx": "音效",
        "title": "标题",
        "subtitle": "字幕",
        STICKER_KIND: "贴纸",
    },
}


def seconds_text(ms: int) -> str:
    """12000 -> '12', 2500 -> '2.5'."""
    return f"{ms / 1000:.1f}".removesuffix(".0")


def _span(segments: list[Segment]) -> tuple[int, int]:
    return min(seg["st"] for seg in segments), max(segment_end(seg) for seg in segments)


def _names(segments: list[Segment]) -> str:
    return ", ".join(dict.fromkeys(str(seg.get("m", {}).get("name") or seg.get("id")) for seg in segments))


def track_entry(track: Track, language: str = "en") -> str:
    """One track in the B-STATE-06 summary style: `BGM: Lo-fi (0-10s, 35%)`."""
    labels = _LABELS.get(language, _LABELS["en"])
    zh = language == "zh"
    segments = track.get("sg", [])
    tt = track.get("tt")
    kind = text_kind(track, segments[0]) if tt == TEXT and segments else "title"
    if tt == TEXT:
        label = labels[kind]
    elif is_sound_track(track):
        label = labels["sfx"]
    else:
        label = labels.get(tt, str(track.get("m", {}).get("name", "Track")))
    colon = "：" if zh else ": "
    if not segments:
        return f"{label}{colon}{'（空）' if zh else '(empty)'}"
    start, end = _span(segments)
    span = f"{seconds_text(start)}-{seconds_text(end)}{'秒' if zh else 's'}"
    extra = ""
    if tt == TEXT and kind == "title":
        what = f"“{segments[0]['m'].get('text', '')}”" if zh else f'"{segments[0]["m"].get("text", "")}"'
    elif tt == TEXT and kind == "subtitle":
        what = f"{len(segments)} 条" if zh else f"{len(segments)} line{'s' if len(segments) != 1 else ''}"
    else:
        what = _names(segments)
        volume = segments[0].get("m", {}).get("volume")
        if tt == AUDIO and not is_sound_track(track) and isinstance(volume, int | float):
            extra = f"{'，' if zh else ', '}{round(volume * 100)}%"
    return f"{label}{colon}{what}{'（' if zh else ' ('}{span}{extra}{'）' if zh else ')'}"


def track_summary(draft: Draft | None, language: str = "en") -> str:
    """`Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) ...` (B-STATE-06)."""
    tracks = [track for track in (draft or {}).get("t", []) if track.get("sg")]
    entries = " ".join(f"{n}. {track_entry(track, language)}" for n, track in enumerate(tracks, start=1))
    if language == "zh":
        return f"时间线（{len(tracks)} 条轨道）：{entries}" if tracks else "时间线为空"
    plural = "s" if len(tracks) != 1 else ""
    return f"Timeline ({len(tracks)} track{plural}): {entries}" if tracks else "Timeline is empty"


def _without_looks(track: Track) -> list[Segment]:
    if track.get("tt") != VIDEO:
        return list(track.get("sg", []))
    return [
        {**seg, "m": {k: v for k, v in seg.get("m", {}).items() if k not in ("effects", "transition_in")}}
        for seg in track.get("sg", [])
    ]


def _looks(draft: Draft, key: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for seg in video_segments(draft):
        value = seg.get("m", {}).get(key)
        values = value if isinstance(value, list) else [value] if value else []
        for item in values:
            found.setdefault(str(item), set()).add(str(seg["id"]))
    return found


def describe_changes(before: Draft | None, after: Draft) -> list[str]:
    """What changed from one draft to the next, as short English lines for a tool_result."""
    old = before or empty_draft()
    changes: list[str] = []
    old_tracks = {track.get("id"): track for track in old.get("t", [])}
    new_tracks = {track.get("id"): track for track in after.get("t", [])}
    for track_id, track in new_tracks.items():
        if track_id not in old_tracks:
            changes.append(f"added {track_entry(track)}")
        elif _without_looks(old_tracks[track_id]) != _without_looks(track):
            changes.append(f"updated {track_entry(track)}")
    changes.extend(
        f"removed {track_entry(track)}" for tid, track in old_tracks.items() if tid not in new_tracks
    )
    for key, noun in (("effects", "effect"), ("transition_in", "transition")):
        was, now = _looks(old, key), _looks(after, key)
        for name, ids in now.items():
            if ids - was.get(name, set()):
                count = len(ids)
                changes.append(f"{noun} {name} on {count} video segment{'s' if count != 1 else ''}")
        changes.extend(f"removed {noun} {name}" for name in was if name not in now)
    if int(old.get("d") or 0) != int(after.get("d") or 0):
        changes.append(
            f"duration {seconds_text(int(old.get('d') or 0))}s -> {seconds_text(int(after['d']))}s"
        )
    return changes or ["no change"]
