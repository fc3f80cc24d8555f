"""Pure functions on timeline drafts (format: docs/design.md, B-STATE-04).

Every function takes a draft and returns a new one; the input is never mutated, so a plan's
`Apply.change` can be run, retried or compared freely. Ids of new tracks and segments are
derived from the ids already in the draft, which keeps the functions deterministic without
an id source.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from mockserver.agent.intents import Edit

VIDEO, AUDIO, TEXT = 0, 1, 7
TRACK_TYPES = (VIDEO, AUDIO, TEXT)
DEFAULT_CLIP_MS = 5000  # a Seedance clip when nothing says otherwise
TITLE_MS = 3000
MIN_TRIM_MS = 1000
DEFAULT_VOLUME = 0.35

GENRE_LABELS = {
    "lo-fi": "Lo-fi",
    "jazz": "Jazz",
    "epic": "Epic",
    "cinematic": "Cinematic",
    "piano": "Piano",
    "rock": "Rock",
    "electronic": "Electronic",
    "ambient": "Ambient",
    "classical": "Classical",
    "upbeat": "Upbeat",
    "hip-hop": "Hip-hop",
}

Draft = dict[str, Any]
Track = dict[str, Any]
Segment = dict[str, Any]


# ------------------------------------------------------------------------------ basics


DEFAULT_CANVAS = {"width": 1920, "height": 1080, "fps": 30}


def empty_draft() -> Draft:
    """A draft with no tracks (what an edit starts from when the session has none)."""
    return {"t": [], "d": 0, "m": dict(DEFAULT_CANVAS)}


def segment_end(segment: Segment) -> int:
    return int(segment["st"]) + int(segment["d"])


def finish(draft: Draft) -> Draft:
    """Drop empty tracks and set `d` to the end of the last segment (docs/design.md)."""
    draft["t"] = [track for track in draft.get("t", []) if track.get("sg")]
    draft["d"] = max((segment_end(seg) for track in draft["t"] for seg in track["sg"]), default=0)
    return draft


def has_content(draft: Draft | None) -> bool:
    """True when the draft has at least one segment (B-STATE-05: export-ready)."""
    if not draft:
        return False
    return any(track.get("sg") for track in draft.get("t", []))


def video_segments(draft: Draft) -> list[Segment]:
    return [seg for track in draft.get("t", []) if track.get("tt") == VIDEO for seg in track.get("sg", [])]


def content_ms(draft: Draft) -> int:
    """How long the picture runs: the end of the last video segment, else the draft's `d`."""
    ends = [segment_end(seg) for seg in video_segments(draft)]
    return max(ends) if ends else int(draft.get("d") or 0) or DEFAULT_CLIP_MS


def text_kind(track: Track, segment: Segment) -> str:
    """'title' or 'subtitle' for a text segment; tracks named like captions hold subtitles."""
    kind = segment.get("m", {}).get("kind")
    if kind in ("title", "subtitle"):
        return str(kind)
    name = str(track.get("m", {}).get("name", "")).lower()
    return "subtitle" if "sub" in name or "caption" in name else "title"


def _used_ids(draft: Draft) -> set[str]:
    ids = {str(track.get("id")) for track in draft.get("t", [])}
    ids.update(str(seg.get("id")) for track in draft.get("t", []) for seg in track.get("sg", []))
    return ids


def fresh_id(used: set[str], stem: str) -> str:
    """`stem`, or `stem_2`, `stem_3` ... whichever is free; the result is added to `used`."""
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}_{n}"
    used.add(candidate)
    return candidate


def rescale(draft: Draft, duration_ms: int) -> Draft:
    """The draft stretched or squeezed in time so that it lasts `duration_ms`."""
    result = copy.deepcopy(draft)
    old = int(result.get("d") or 0)
    if old <= 0 or old == duration_ms:
        return result
    factor = duration_ms / old
    for track in result["t"]:
        scaled = []
        for seg in track["sg"]:
            start, end = round(seg["st"] * factor), round(segment_end(seg) * factor)
            if end > start:
                scaled.append({**seg, "st": start, "d": end - start})
        track["sg"] = scaled
    return finish(result)


# ------------------------------------------------------------------------------ edits


def _find_track(draft: Draft, tt: int, kind: str | None = None) -> Track | None:
    if tt == AUDIO:
        return bgm_track(draft)
    for track in draft["t"]:
        if track.get("tt") != tt:
            continue
        if kind is None or any(text_kind(track, seg) == kind for seg in track["sg"]):
            return track
    return None


def _is_music(track: Track) -> bool:
    name = str(track.get("m", {}).get("name", "")).lower()
    return "bgm" in name or "music" in name


def bgm_track(draft: Draft) -> Track | None:
    """The background-music track: an audio track named like music, else the first audio track."""
    audio = [track for track in draft.get("t", []) if track.get("tt") == AUDIO]
    named = [track for track in audio if _is_music(track)]
    return (named or audio or [None])[0]


def _put_track(
    draft: Draft, used: set[str], tt: int, kind: str | None, name: str, segments: list[Segment]
) -> None:
    """Replace the segments of the matching track, or append a new track holding them."""
    track = _find_track(draft, tt, kind)
    if track is None:
        track = {"tt": tt, "id": fresh_id(used, f"trk_{name.lower()}"), "m": {"name": name}, "sg": []}
        draft["t"].append(track)
    # A text track may mix titles and subtitles: keep the segments of the other kind.
    others = [seg for seg in track["sg"] if kind is not None and text_kind(track, seg) != kind]
    track["sg"] = others + segments


def _title(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    text = params.get("text") or draft["m"].get("title") or "My Video"
    wanted = round(float(params["seconds"]) * 1000) if params.get("seconds") else TITLE_MS
    length = min(wanted, int(draft.get("d") or 0) or wanted)
    segment = {
        "id": fresh_id(used, "seg_title"),
        "st": 0,
        "d": length,
        "m": {
            "kind": "title",
            "text": text,
            "color": params.get("color") or "white",
            "position": params.get("position") or "top-center",
            "animation": "fade-in",
        },
    }
    _put_track(draft, used, TEXT, "title", "Title", [segment])
    draft["m"]["title"] = text


def _bgm(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    current = bgm_track(draft)
    old_m = current["sg"][0].get("m", {}) if current and current.get("sg") else {}
    genre = params.get("genre")
    name = params.get("name") or GENRE_LABELS.get(str(genre), "") or old_m.get("name") or "Background music"
    volume = params.get("volume")
    if volume is None:
        volume = old_m.get("volume", DEFAULT_VOLUME)
    meta: dict[str, Any] = {"name": name, "volume": round(float(volume), 4)}
    if genre:
        meta["genre"] = genre
    segment = {"id": fresh_id(used, "seg_bgm"), "st": 0, "d": content_ms(draft), "m": meta}
    _put_track(draft, used, AUDIO, None, "BGM", [segment])


def _subtitles(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    style = {"color": "white", "position": "bottom-center"}
    text = params.get("text")
    scenes = video_segments(draft)
    if text or not scenes:
        lines = [(0, content_ms(draft), text or draft["m"].get("title") or "…")]
    else:
        lines = [
            (seg["st"], seg["d"], str(seg.get("m", {}).get("name") or f"Scene {n}").capitalize())
            for n, seg in enumerate(scenes, start=1)
        ]
    segments = [
        {"id": fresh_id(used, "seg_sub"), "st": st, "d": d, "m": {"kind": "subtitle", "text": line, **style}}
        for st, d, line in lines
        if d > 0
    ]
    _put_track(draft, used, TEXT, "subtitle", "Subtitles", segments)


def _trim(draft: Draft, params: dict[str, Any]) -> None:
    length = int(draft.get("d") or 0)
    seconds = params.get("seconds")
    target = round(float(seconds) * 1000) if seconds else round(length * 2 / 3 / 1000) * 1000
    target = max(MIN_TRIM_MS, target)
    if target >= length:
        return
    for track in draft["t"]:
        kept = []
        for seg in track["sg"]:
            if seg["st"] < target:
                kept.append({**seg, "d": min(seg["d"], target - seg["st"])})
        track["sg"] = kept


def _remove(draft: Draft, target: str) -> None:
    if target == "bgm":
        music = bgm_track(draft)
        draft["t"] = [track for track in draft["t"] if track is not music]
    elif target in ("title", "subtitles"):
        kind = "title" if target == "title" else "subtitle"
        for track in draft["t"]:
            if track.get("tt") == TEXT:
                track["sg"] = [seg for seg in track["sg"] if text_kind(track, seg) != kind]
    elif target in ("effects", "transitions"):
        key = "effects" if target == "effects" else "transition_in"
        for seg in video_segments(draft):
            seg.get("m", {}).pop(key, None)
    else:
        raise ValueError(f"cannot remove {target!r}")


def _mark_video(draft: Draft, key: str, value: str) -> None:
    for seg in video_segments(draft):
        meta = seg.setdefault("m", {})
        if key == "effects":
            effects = list(meta.get("effects", []))
            if value not in effects:
                effects.append(value)
            meta["effects"] = effects
        else:
            meta[key] = value


def apply_edit(draft: Draft | None, edit: Edit) -> Draft:
    """The draft after one edit (B-STATE-04 keys; `d` = end of the last segment); input untouched."""
    result = copy.deepcopy(draft) if draft else empty_draft()
    result.setdefault("t", [])
    result["m"] = {**DEFAULT_CANVAS, **result.get("m", {})}
    finish(result)
    used = _used_ids(result)
    params = edit.params
    if edit.op == "title":
        _title(result, used, params)
    elif edit.op == "bgm":
        _bgm(result, used, params)
    elif edit.op == "subtitles":
        _subtitles(result, used, params)
    elif edit.op == "transition":
        _mark_video(result, "transition_in", str(params.get("style") or "fade"))
    elif edit.op == "effect":
        _mark_video(result, "effects", str(params.get("name") or "color_grading"))
    elif edit.op == "trim":
        _trim(result, params)
    elif edit.op == "remove":
        _remove(result, str(params.get("target")))
    else:
        raise ValueError(f"unknown edit op {edit.op!r}")
    return finish(result)


def apply_edits(draft: Draft | None, edits: Iterable[Edit]) -> Draft:
    """The draft after several edits, in order."""
    result = copy.deepcopy(draft) if draft else empty_draft()
    for edit in edits:
        result = apply_edit(result, edit)
    return finish(result)


def adopt_extras(draft: Draft | None, template: Draft) -> Draft:
    """The draft plus a template's non-video tracks and the looks of its video segments.

    Post-production of a clip built from a fixture draft (B-SSE-11): the template's BGM, titles
    and captions are added, and its effects/transitions are put back on segments with the same id.
    """
    result = copy.deepcopy(draft) if draft else empty_draft()
    present = {track.get("id") for track in result.get("t", [])}
    looks = {seg["id"]: seg.get("m", {}) for seg in video_segments(template)}
    for seg in video_segments(result):
        source = looks.get(seg["id"], {})
        for key in ("effects", "transition_in"):
            if key in source:
                seg.setdefault("m", {})[key] = copy.deepcopy(source[key])
    for track in template.get("t", []):
        if track.get("tt") != VIDEO and track.get("id") not in present:
            result["t"].append(copy.deepcopy(track))
    return finish(result)


# ------------------------------------------------------------------------------ descriptions

_LABELS = {
    "en": {VIDEO: "Video", AUDIO: "BGM", "title": "Title", "subtitle": "Subtitles"},
    "zh": {VIDEO: "视频", AUDIO: "背景音乐", "title": "标题", "subtitle": "字幕"},
}


def seconds_text(ms: int) -> str:
    """12000 -> '12', 2500 -> '2.5'."""
    return f"{ms / 1000:.1f}".removesuffix(".0")


def _span(segments: list[Segment]) -> tuple[int, int]:
    return min(seg["st"] for seg in segments), max(segment_end(seg) for seg in segments)


def track_entry(track: Track, language: str = "en") -> str:
    """One track in the B-STATE-06 summary style: `BGM: Lo-fi (0-10s, 35%)`."""
    labels = _LABELS.get(language, _LABELS["en"])
    zh = language == "zh"
    segments = track.get("sg", [])
    tt = track.get("tt")
    kind = text_kind(track, segments[0]) if tt == TEXT and segments else "title"
    label = labels[kind] if tt == TEXT else labels.get(tt, str(track.get("m", {}).get("name", "Track")))
    colon = "：" if zh else ": "
    if not segments:
        return f"{label}{colon}{'（空）' if zh else '(empty)'}"
    start, end = _span(segments)
    span = f"{seconds_text(start)}-{seconds_text(end)}{'秒' if zh else 's'}"
    extra = ""
    if tt == TEXT and kind == "title":
        what = f"“{segments[0]['m'].get('text', '')}”" if zh else f'"{segments[0]["m"].get("text", "")}"'
    elif tt == TEXT:
        what = f"{len(segments)} 条" if zh else f"{len(segments)} line{'s' if len(segments) != 1 else ''}"
    else:
        names = dict.fromkeys(str(seg.get("m", {}).get("name") or seg.get("id")) for seg in segments)
        what = ", ".join(names)
        volume = segments[0].get("m", {}).get("volume")
        if tt == AUDIO and isinstance(volume, int | float):
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
