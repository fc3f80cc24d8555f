"""Pure functions on timeline drafts (format: docs/design.md, B-STATE-04).

Every function takes a draft and returns a new one; the input is never mutated, so a plan's
`Apply.change` can be run, retried or compared freely. Ids of new tracks and segments are
derived from the ids already in the draft, which keeps the functions deterministic without
an id source.

An edit either changes what the draft shows or leaves it as it was (a moment past the end, a
look the clip already has, nothing to remove); `same_content` tells the two apart and
`unchanged_reason` says why, so that the agent never answers an edit that changed nothing
with silence (B-SSE-09).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from mockserver.agent.intents import Edit
from mockserver.agent.measures import END, Moment

VIDEO, AUDIO, TEXT = 0, 1, 7
TRACK_TYPES = (VIDEO, AUDIO, TEXT)
DEFAULT_CLIP_MS = 5000  # a Seedance clip when nothing says otherwise
TITLE_MS = 3000
CAPTION_MS = 3000  # a caption placed at a moment
SOUND_MS = 1000  # a sound effect
STICKER_MS = 2000
MIN_TRIM_MS = 1000
DEFAULT_VOLUME = 0.35
SOUND_VOLUME = 0.8
#: `m.kind` of audio and text segments that are neither music nor titles and subtitles.
SOUND_KIND = "sfx"
STICKER_KIND = "sticker"

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
    """'title', 'subtitle' or 'sticker' for a text segment; tracks named like captions hold subtitles."""
    kind = segment.get("m", {}).get("kind")
    if kind in ("title", "subtitle", STICKER_KIND):
        return str(kind)
    name = str(track.get("m", {}).get("name", "")).lower()
    if "sticker" in name:
        return STICKER_KIND
    return "subtitle" if "sub" in name or "caption" in name else "title"


def is_sound_track(track: Track) -> bool:
    """An audio track of sound effects (its segments are `m.kind` "sfx"), not music."""
    if track.get("tt") != AUDIO:
        return False
    segments = track.get("sg", [])
    if segments:
        return all(seg.get("m", {}).get("kind") == SOUND_KIND for seg in segments)
    return "sound" in str(track.get("m", {}).get("name", "")).lower()


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


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(item) for item in value]
    return value


def same_content(before: Draft | None, after: Draft | None) -> bool:
    """True when two drafts show the same thing: equal but for the ids of tracks and segments."""
    normal = [_without_ids(apply_edits(draft, ())) if draft else None for draft in (before, after)]
    return normal[0] == normal[1]


# ------------------------------------------------------------------------------ where


def start_ms(draft: Draft, at: Moment | None, length_ms: int) -> int | None:
    """Where something lasting up to `length_ms` starts when placed `at` (None: at the start);
    None when that moment is not inside the picture."""
    end = content_ms(draft)
    if at is None:
        start = 0
    elif at == END:
        start = max(0, end - length_ms)
    else:
        start = round(float(at) * 1000)
    return start if 0 <= start < end else None


def segments_at(draft: Draft, at: Moment | None) -> list[Segment]:
    """The video segments an edit at `at` applies to: all of them without a moment, else the one
    playing then (the last one for `END`); none when the moment is past the picture."""
    segments = video_segments(draft)
    if at is None:
        return segments
    if at == END:
        return [max(segments, key=segment_end)] if segments else []
    ms = round(float(at) * 1000)
    return [seg for seg in segments if seg["st"] <= ms < segment_end(seg)][:1]


# ------------------------------------------------------------------------------ edits


def _find_track(draft: Draft, tt: int, kind: str | None = None) -> Track | None:
    if tt == AUDIO:
        return sound_track(draft) if kind == SOUND_KIND else bgm_track(draft)
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
    """The background-music track: an audio track named like music, else the first audio track
    that is not sound effects."""
    audio = [t for t in draft.get("t", []) if t.get("tt") == AUDIO and not is_sound_track(t)]
    named = [track for track in audio if _is_music(track)]
    return (named or audio or [None])[0]


def sound_track(draft: Draft) -> Track | None:
    """The track holding the sound effects, if there is one."""
    return next((track for track in draft.get("t", []) if is_sound_track(track)), None)


def _put_track(
    draft: Draft, used: set[str], tt: int, kind: str | None, name: str, segments: list[Segment]
) -> None:
    """Replace the segments of the matching track, or append a new track holding them."""
    track = _find_track(draft, tt, kind)
    if track is None:
        track = {"tt": tt, "id": fresh_id(used, f"trk_{name.lower().replace(' ', '_')}"), "m": {"name": name}}
        track["sg"] = []
        draft["t"].append(track)
    # A text track may mix titles and subtitles: keep the segments of the other kind.
    others = [seg for seg in track["sg"] if kind is not None and text_kind(track, seg) != kind]
    track["sg"] = others + segments


def _add_segment(draft: Draft, used: set[str], tt: int, kind: str, name: str, segment: Segment) -> None:
    """Add one segment to the track of its kind (made when missing), in time order, unless the
    track already has one with the same start and metadata."""
    track = _find_track(draft, tt, kind)
    if track is not None and any(
        seg["st"] == segment["st"] and seg.get("m") == segment["m"] for seg in track["sg"]
    ):
        return
    segment = {"id": fresh_id(used, f"seg_{kind}"), **segment}
    if track is None:
        track = {"tt": tt, "id": fresh_id(used, f"trk_{kind}"), "m": {"name": name}, "sg": []}
        draft["t"].append(track)
    track["sg"] = sorted([*track["sg"], segment], key=lambda seg: (seg["st"], str(seg.get("id"))))


def _title(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    text = params.get("text") or draft["m"].get("title") or "My Video"
    wanted = round(float(params["seconds"]) * 1000) if params.get("seconds") else TITLE_MS
    start = start_ms(draft, params.get("at"), wanted) if params.get("at") is not None else 0
    if start is None:
        return
    end = int(draft.get("d") or 0) or start + wanted
    segment = {
        "id": fresh_id(used, "seg_title"),
        "st": start,
        "d": max(1, min(wanted, end - start)),
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


def _scene_name(draft: Draft, ms: int) -> str | None:
    scene = next((s for s in video_segments(draft) if s["st"] <= ms < segment_end(s)), None)
    name = scene.get("m", {}).get("name") if scene else None
    return str(name).capitalize() if name else None


def _subtitles(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    style = {"color": params.get("color") or "white", "position": "bottom-center"}
    text = params.get("text")
    if params.get("at") is not None:
        _caption(draft, used, params, style)
        return
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


def _caption(draft: Draft, used: set[str], params: dict[str, Any], style: dict[str, str]) -> None:
    """One caption at a moment; captions it overlaps give way to it."""
    start = start_ms(draft, params.get("at"), CAPTION_MS)
    if start is None:
        return
    length = min(CAPTION_MS, content_ms(draft) - start)
    text = params.get("text") or _scene_name(draft, start) or draft["m"].get("title") or "…"
    meta = {"kind": "subtitle", "text": text, **style}
    track = _find_track(draft, TEXT, "subtitle")
    if track is not None:
        if any(seg["st"] == start and seg["d"] == length and seg.get("m") == meta for seg in track["sg"]):
            return
        track["sg"] = [
            seg
            for seg in track["sg"]
            if text_kind(track, seg) != "subtitle" or segment_end(seg) <= start or seg["st"] >= start + length
        ]
    _add_segment(draft, used, TEXT, "subtitle", "Subtitles", {"st": start, "d": length, "m": meta})


def _sound(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    """A sound effect: a short segment on the sound-effects track (tt 1, `m.kind` "sfx")."""
    start = start_ms(draft, params.get("at"), SOUND_MS)
    if start is None:
        return
    meta = {"kind": SOUND_KIND, "name": str(params.get("name") or "whoosh"), "volume": SOUND_VOLUME}
    segment = {"st": start, "d": min(SOUND_MS, content_ms(draft) - start), "m": meta}
    _add_segment(draft, used, AUDIO, SOUND_KIND, "Sound effects", segment)


def _sticker(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    """A sticker: an overlay segment on the stickers track (tt 7, `m.kind` "sticker")."""
    start = start_ms(draft, params.get("at"), STICKER_MS)
    if start is None:
        return
    name = str(params.get("name") or "star")
    meta = {
        "kind": STICKER_KIND,
        "name": name,
        "text": str(params.get("symbol") or name),
        "position": str(params.get("position") or "center"),
    }
    segment = {"st": start, "d": min(STICKER_MS, content_ms(draft) - start), "m": meta}
    _add_segment(draft, used, TEXT, STICKER_KIND, "Stickers", segment)


def _trim(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
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


def effect_label(name: str, value: str | None = None) -> str:
    """How an effect is written in `m.effects`: its name, then its value ("zoom_in 140%")."""
    return f"{name} {value}" if value else name


def _base(label: str) -> str:
    return label.split(" ", 1)[0]


def _remove(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    target = str(params.get("target"))
    remover = _REMOVERS.get(target)
    if remover is None:
        raise ValueError(f"cannot remove {target!r}")
    remover(draft, params.get("name"))


def _remove_bgm(draft: Draft, name: str | None) -> None:
    music = bgm_track(draft)
    draft["t"] = [track for track in draft["t"] if track is not music]


def _remove_sounds(draft: Draft, name: str | None) -> None:
    draft["t"] = [track for track in draft["t"] if not is_sound_track(track)]


def _remove_texts(kind: str) -> Callable[[Draft, str | None], None]:
    """A remover of every text segment of one kind (title, subtitle, sticker)."""

    def remove(draft: Draft, name: str | None) -> None:
        for track in draft["t"]:
            if track.get("tt") == TEXT:
                track["sg"] = [seg for seg in track["sg"] if text_kind(track, seg) != kind]

    return remove


def _remove_effects(draft: Draft, name: str | None) -> None:
    """Every effect, or every effect called `name` whatever its value."""
    for seg in video_segments(draft):
        meta = seg.get("m", {})
        kept = [e for e in meta.get("effects", []) if name is not None and _base(str(e)) != name]
        if kept:
            meta["effects"] = kept
        else:
            meta.pop("effects", None)


def _remove_transitions(draft: Draft, name: str | None) -> None:
    for seg in video_segments(draft):
        seg.get("m", {}).pop("transition_in", None)


#: What `remove` does per target (intents.REMOVE_TARGETS).
_REMOVERS: dict[str, Callable[[Draft, str | None], None]] = {
    "bgm": _remove_bgm,
    "sounds": _remove_sounds,
    "title": _remove_texts("title"),
    "subtitles": _remove_texts("subtitle"),
    "stickers": _remove_texts(STICKER_KIND),
    "effects": _remove_effects,
    "transitions": _remove_transitions,
}


def _effect(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    """An effect on the clip playing `at` (every clip without a moment). An effect with a value
    replaces the same effect's other value ("zoom_in 120%" -> "zoom_in 140%"); normal speed
    ("speed 1x") takes the speed effect away."""
    name = str(params.get("name") or "color_grading")
    value = params.get("value")
    if name == "crop" and not value:
        return  # to what shape? the agent asks instead
    label = effect_label(name, str(value) if value else None)
    for seg in segments_at(draft, params.get("at")):
        meta = seg.setdefault("m", {})
        effects = [str(e) for e in meta.get("effects", []) if not value or _base(str(e)) != name]
        if label != "speed 1x" and label not in effects:
            effects.append(label)
        if effects:
            meta["effects"] = effects
        else:
            meta.pop("effects", None)


def _transition(draft: Draft, used: set[str], params: dict[str, Any]) -> None:
    for seg in segments_at(draft, params.get("at")):
        seg.setdefault("m", {})["transition_in"] = str(params.get("style") or "fade")


def apply_edit(draft: Draft | None, edit: Edit) -> Draft:
    """The draft after one edit (B-STATE-04 keys; `d` = end of the last segment); input untouched."""
    result = copy.deepcopy(draft) if draft else empty_draft()
    result.setdefault("t", [])
    result["m"] = {**DEFAULT_CANVAS, **result.get("m", {})}
    finish(result)
    apply = _APPLY.get(edit.op)
    if apply is None:
        raise ValueError(f"unknown edit op {edit.op!r}")
    apply(result, _used_ids(result), edit.params)
    return finish(result)


#: How each edit op changes a draft in place: (draft, ids in use, params).
_APPLY: dict[str, Callable[[Draft, set[str], dict[str, Any]], None]] = {
    "title": _title,
    "bgm": _bgm,
    "subtitles": _subtitles,
    "transition": _transition,
    "effect": _effect,
    "sound": _sound,
    "sticker": _sticker,
    "trim": _trim,
    "remove": _remove,
}


def apply_edits(draft: Draft | None, edits: Iterable[Edit]) -> Draft:
    """The draft after several edits, in order."""
    result = copy.deepcopy(draft) if draft else empty_draft()
    for edit in edits:
        result = apply_edit(result, edit)
    return finish(result)


def unchanged_reason(draft: Draft, edit: Edit) -> tuple[str, dict[str, Any]]:
    """Why `edit` leaves `draft` as it was: `outside` (a moment past the picture), `unclear`
    (a crop without a shape), `absent` (nothing to remove), `short` (already that short) or
    `present` (the draft already shows it), with what a reply needs to say so."""
    params = edit.params
    at = params.get("at")
    length_s = content_ms(draft) / 1000
    if edit.op == "effect" and params.get("name") == "crop" and not params.get("value"):
        return "unclear", {"what": "crop"}
    if at is not None and at != END and float(at) >= length_s:
        return "outside", {"at": float(at), "length": length_s}
    if edit.op == "remove":
        return "absent", {"target": str(params.get("target")), "name": params.get("name")}
    if edit.op == "trim":
        return "short", {"length": int(draft.get("d") or 0) / 1000}
    return "present", {"what": edit_subject(edit)}


def edit_subject(edit: Edit) -> str:
    """What an edit adds, in a word or two ("glitch", "zoom_in 140%", "whoosh", "'Urban Dreams'")."""
    params = edit.params
    if edit.op == "effect":
        return effect_label(str(params.get("name") or "color_grading"), params.get("value"))
    if edit.op in ("title", "subtitles") and params.get("text"):
        return f"'{params['text']}'"
    for key in ("name", "style", "genre", "text"):
        if params.get(key):
            return str(params[key])
    return edit.op


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
