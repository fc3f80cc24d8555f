"""Reading timeline drafts: export readiness, the one-line track summary and change reports.

Draft format (docs/design.md, B-STATE-04): `t` tracks, `tt` track type (0 video, 1 audio/BGM,
7 text), `sg` segments with `st` start and `d` duration in ms and `m` metadata. Everything here is
pure and tolerant: a draft may be None, `{}`, half-filled or of an unknown shape, and no function
raises on it (odd values count as missing).

- `is_export_ready` — B-STATE-05.
- `summarize` — the documented one-line format (B-STATE-06, v1.9 §3.4):
  `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%)
  3. Title: "Urban Dreams" (0-3s)` (one line; wrapped here).
- `diff` / `diff_states` / `describe_changes` — what an edit changed, for the silent-response
  fallback and the after-edit summary (B-CLI-10, B-CLI-11, B-CLI-12), e.g.
  "✅ Title added: 'Paradise Found' (white, top-center, fade-in, 0-3s)".
- `suggest_next_steps` — 2-3 follow-ups (B-CLI-12).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

VIDEO, AUDIO, TEXT = 0, 1, 7  # track types `tt` (B-STATE-04)

#: Metadata keys read as the style words of a title, in the order they are printed.
TITLE_STYLE_KEYS = ("color", "font", "size", "position", "animation")

_SUBTITLE_KINDS = frozenset({"subtitle", "subtitles", "caption", "captions"})
_TITLE_KINDS = frozenset({"title", "heading", "text"})
_STICKER_KINDS = frozenset({"sticker", "stickers", "emoji", "overlay"})
#: `m.kind` of an audio segment that is a sound effect rather than music.
_SOUND_KINDS = frozenset({"sfx", "sound", "sound_effect", "sound effect"})

# ---------------------------------------------------------------------------- tolerant reading


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return []


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def format_seconds(ms: float) -> str:
    """Milliseconds as seconds: "10" for 10000, "1.5" for 1500 (one decimal, none when whole)."""
    if not math.isfinite(ms):
        ms = 0.0
    tenths = math.floor(abs(ms) / 100 + 0.5)
    sign = "-" if ms < 0 and tenths else ""
    whole, frac = divmod(tenths, 10)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac}"


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment, read tolerantly: start and end in ms, metadata as a dict."""

    id: str | None
    start: float
    end: float
    meta: dict[str, Any]

    @property
    def name(self) -> str | None:
        src = _text(self.meta.get("src"))
        from_src = re.split(r"[/\\]", src)[-1] if src else None
        return _text(self.meta.get("name")) or _text(self.meta.get("text")) or from_src or None


@dataclass(frozen=True, slots=True)
class Track:
    """One track, read tolerantly. `tt` is None when missing or not an integer."""

    id: str | None
    tt: int | None
    meta: dict[str, Any]
    segments: tuple[Segment, ...]


def _segment(raw: object) -> Segment:
    seg = _dict(raw)
    start = _number(seg.get("st")) or 0.0
    end = start + max(_number(seg.get("d")) or 0.0, 0.0)
    return Segment(_text(seg.get("id")), start, end if math.isfinite(end) else start, _dict(seg.get("m")))


def tracks(draft: object) -> tuple[Track, ...]:
    """The tracks of a draft, skipping entries that are not objects."""
    result = []
    for raw in _list(_dict(draft).get("t")):
        if not isinstance(raw, dict):
            continue
        tt = raw.get("tt")
        result.append(
            Track(
                _text(raw.get("id")),
                tt if isinstance(tt, int) and not isinstance(tt, bool) else None,
                _dict(raw.get("m")),
                tuple(_segment(s) for s in _list(raw.get("sg"))),
            )
        )
    return tuple(result)


def _span(segments: Iterable[Segment]) -> tuple[float, float] | None:
    segs = list(segments)
    if not segs:
        return None
    return min(s.start for s in segs), max(s.end for s in segs)


def _span_text(segments: Iterable[Segment]) -> str:
    span = _span(segments)
    if span is None:
        return ""
    return f"{format_seconds(span[0])}-{format_seconds(span[1])}s"


def _volume_percent(meta: Mapping[str, Any]) -> int | None:
    volume = _number(meta.get("volume"))
    if volume is None:
        return None
    # 0..1 is the documented scale; a larger number is read as a percentage already.
    return round(volume * 100) if volume <= 1 else round(volume)


def _text_role(track: Track, segment: Segment | None = None) -> str:
    """'title', 'subtitle' or 'sticker' for a text segment (B-STATE-07: captions live in `tt`=7 tracks)."""
    for source in (segment.meta if segment else {}, track.meta):
        kind = _text(source.get("kind"))
        if kind and kind.lower() in _SUBTITLE_KINDS:
            return "subtitle"
        if kind and kind.lower() in _STICKER_KINDS:
            return "sticker"
        if kind and kind.lower() in _TITLE_KINDS:
            return "title"
    name = (_text(track.meta.get("name")) or "").lower()
    if "subtitle" in name or "caption" in name:
        return "subtitle"
    if "sticker" in name:
        return "sticker"
    return "subtitle" if len(track.segments) > 1 else "title"


def _is_sound(track: Track, segment: Segment | None = None) -> bool:
    """A sound effect rather than music: its `m.kind`, else a track named like sound effects."""
    kind = _text((segment.meta if segment else {}).get("kind"))
    if kind:
        return kind.lower() in _SOUND_KINDS
    name = (_text(track.meta.get("name")) or "").lower()
    return "sfx" in name or "sound" in name


def _is_sound_track(track: Track) -> bool:
    return track.tt == AUDIO and bool(track.segments) and all(_is_sound(track, s) for s in track.segments)


def _at(seg: Segment) -> str:
    return f"at {format_seconds(seg.start)}s"


# ---------------------------------------------------------------------------- readiness, summary


def is_export_ready(draft: object) -> bool:
    """`draft.t` exists and at least one track has a non-empty `sg` (B-STATE-05, B-CLI-14)."""
    raw_tracks = _dict(draft).get("t")
    if not isinstance(raw_tracks, list):
        return False
    return any(isinstance(t, dict) and isinstance(t.get("sg"), list) and t["sg"] for t in raw_tracks)


def _track_line(track: Track) -> str:
    segs = track.segments
    span = _span_text(segs)
    first = segs[0] if segs else None
    if track.tt == VIDEO:
        label = f"Video: {first.name or 'untitled'}" if first else "Video: empty"
        return f"{label} ({span})" if span else label
    if track.tt == AUDIO and _is_sound_track(track):
        names = ", ".join(dict.fromkeys(s.name or "untitled" for s in segs))
        return f"Sound effects: {names} ({span})"
    if track.tt == AUDIO:
        if not first:
            return "BGM: empty"
        volume = _volume_percent(first.meta)
        inner = ", ".join(p for p in (span, f"{volume}%" if volume is not None else "") if p)
        return f"BGM: {first.name or 'untitled'} ({inner})" if inner else f"BGM: {first.name or 'untitled'}"
    if track.tt == TEXT:
        if not first:
            return "Text: empty"
        if _text_role(track, first) == "subtitle":
            return f"Subtitles: {_lines(len(segs))} ({span})"
        if _text_role(track, first) == "sticker":
            names = ", ".join(dict.fromkeys(s.name or "untitled" for s in segs))
            return f"Stickers: {names} ({span})"
        return f'Title: "{_text(first.meta.get("text")) or first.name or ""}" ({span})'
    kind = f"type {track.tt}" if track.tt is not None else "unknown type"
    label = _text(track.meta.get("name")) or "Track"
    if not segs:
        return f"{label} ({kind}): empty"
    return f"{label} ({kind}): {len(segs)} segment{'s' if len(segs) != 1 else ''} ({span})"


def _lines(count: int) -> str:
    return f"{count} line{'s' if count != 1 else ''}"


def summarize(draft: object) -> str:
    """The one-line track summary (B-STATE-06); "Timeline (0 tracks): empty" when there is none."""
    found = tracks(draft)
    if not found:
        return "Timeline (0 tracks): empty"
    count = f"{len(found)} track{'s' if len(found) != 1 else ''}"
    body = " ".join(f"{i}. {_track_line(track)}" for i, track in enumerate(found, start=1))
    return f"Timeline ({count}): {body}"


def duration_ms(draft: object) -> float:
    """The draft's length: its `d`, else the end of its last segment (design.md)."""
    declared = _number(_dict(draft).get("d"))
    if declared is not None and declared > 0:
        return declared
    ends = [seg.end for track in tracks(draft) for seg in track.segments]
    return max(ends, default=0.0)


# ---------------------------------------------------------------------------- changes


class ChangeKind(StrEnum):
    """What kind of visible change an edit made (B-CLI-10)."""

    VIDEO_GENERATED = "video_generated"
    VIDEO_REGENERATED = "video_regenerated"
    CLIP_ADDED = "clip_added"
    CLIP_REMOVED = "clip_removed"
    TRIMMED = "trimmed"
    EXTENDED = "extended"
    TRANSITION_ADDED = "transition_added"
    TRANSITION_REMOVED = "transition_removed"
    EFFECT_ADDED = "effect_added"
    EFFECT_CHANGED = "effect_changed"
    EFFECT_REMOVED = "effect_removed"
    SOUND_ADDED = "sound_added"
    SOUND_REMOVED = "sound_removed"
    STICKER_ADDED = "sticker_added"
    STICKER_REMOVED = "sticker_removed"
    CAPTION_ADDED = "caption_added"
    BGM_ADDED = "bgm_added"
    BGM_CHANGED = "bgm_changed"
    BGM_VOLUME = "bgm_volume"
    TITLE_ADDED = "title_added"
    TITLE_CHANGED = "title_changed"
    TITLE_RESTYLED = "title_restyled"
    SUBTITLES_ADDED = "subtitles_added"
    SUBTITLES_CHANGED = "subtitles_changed"
    SUBTITLES_EDITED = "subtitles_edited"
    TRACK_ADDED = "track_added"
    TRACK_REMOVED = "track_removed"
    UPLOAD_ADDED = "upload_added"
    MEDIA_GENERATED = "media_generated"
    TIMELINE_UPDATED = "timeline_updated"


@dataclass(frozen=True, slots=True)
class Change:
    """One visible change: `subject` is the thing (name, text, track label); `before`/`after`
    the compared values; `detail` the style and timing words."""

    kind: ChangeKind
    subject: str = ""
    before: str | None = None
    after: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class _Roles:
    """A draft seen as what a user talks about: video clips, BGM, title, subtitles, extras."""

    video: tuple[Segment, ...]
    bgm: Segment | None
    title: Segment | None
    subtitles: tuple[Segment, ...]
    transitions: Counter[str]
    effects: Counter[str]
    other: Counter[str]  # unknown track labels -> count of such tracks with segments
    duration: float
    sounds: tuple[Segment, ...] = ()
    stickers: tuple[Segment, ...] = ()


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    result = []
    for item in _list(value):
        name = _text(item) or (_text(_dict(item).get("name")) or _text(_dict(item).get("type")))
        if name:
            result.append(name)
    return result


def _roles(draft: object) -> _Roles:
    video: list[Segment] = []
    bgm: Segment | None = None
    title: Segment | None = None
    subtitles: list[Segment] = []
    transitions: Counter[str] = Counter()
    effects: Counter[str] = Counter()
    other: Counter[str] = Counter()
    sounds: list[Segment] = []
    stickers: list[Segment] = []
    for track in tracks(draft):
        effects.update(_names(track.meta.get("effects")))
        for seg in track.segments:
            for key in ("transition_in", "transition", "transition_out"):
                transitions.update(_names(seg.meta.get(key)))
            effects.update(_names(seg.meta.get("effects")))
        if track.tt == VIDEO:
            video.extend(track.segments)
        elif track.tt == AUDIO and _is_sound_track(track):
            sounds.extend(track.segments)
        elif track.tt == AUDIO:
            if bgm is None and track.segments:
                bgm = track.segments[0]
        elif track.tt == TEXT:
            for seg in track.segments:
                role = _text_role(track, seg)
                if role == "subtitle":
                    subtitles.append(seg)
                elif role == "sticker":
                    stickers.append(seg)
                elif title is None:
                    title = seg
        elif track.segments:
            other[_other_label(track)] += 1
    return _Roles(
        tuple(video),
        bgm,
        title,
        tuple(subtitles),
        transitions,
        effects,
        other,
        duration_ms(draft),
        tuple(sounds),
        tuple(stickers),
    )


def _other_label(track: Track) -> str:
    kind = f"type {track.tt}" if track.tt is not None else "unknown type"
    return f"{_text(track.meta.get('name')) or 'Track'} ({kind})"


def _title_text(seg: Segment) -> str:
    return _text(seg.meta.get("text")) or seg.name or ""


def _title_detail(seg: Segment) -> str:
    words = [w for w in (_text(seg.meta.get(k)) for k in TITLE_STYLE_KEYS) if w]
    return ", ".join([*words, _span_text([seg])])


def _segment_key(seg: Segment, index: int) -> str:
    return seg.id or f"#{index}:{seg.name}:{seg.start}:{seg.end}"


def _signature(seg: Segment) -> tuple[object, ...]:
    return (seg.name, _text(seg.meta.get("src")), seg.start, seg.end)


def _diff_video(before: _Roles, after: _Roles) -> list[Change]:
    if not after.video:
        return [Change(ChangeKind.TRACK_REMOVED, "Video")] if before.video else []
    first = after.video[0]
    if [_signature(s) for s in before.video] == [_signature(s) for s in after.video]:
        return []  # same clips, perhaps under new ids
    if not before.video:
        return [Change(ChangeKind.VIDEO_GENERATED, first.name or "untitled", detail=_span_text(after.video))]
    old = {_segment_key(s, i): s for i, s in enumerate(before.video)}
    new = {_segment_key(s, i): s for i, s in enumerate(after.video)}
    if not old.keys() & new.keys():
        return [
            Change(ChangeKind.VIDEO_REGENERATED, first.name or "untitled", detail=_span_text(after.video))
        ]
    changes = [
        Change(ChangeKind.CLIP_ADDED, seg.name or "untitled", detail=_span_text([seg]))
        for key, seg in new.items()
        if key not in old
    ]
    changes += [
        Change(ChangeKind.CLIP_REMOVED, seg.name or "untitled") for key, seg in old.items() if key not in new
    ]
    return changes


def _diff_duration(before: _Roles, after: _Roles) -> list[Change]:
    if before.duration <= 0 or after.duration <= 0:
        return []
    old, new = format_seconds(before.duration), format_seconds(after.duration)
    if old == new:
        return []
    kind = ChangeKind.TRIMMED if after.duration < before.duration else ChangeKind.EXTENDED
    return [Change(kind, before=f"{old}s", after=f"{new}s")]


def _diff_counts(
    before: Counter[str], after: Counter[str], added: ChangeKind, removed: ChangeKind
) -> list[Change]:
    changes = [Change(added, name) for name in (after - before)]
    changes += [Change(removed, name) for name in (before - after)]
    return changes


def _diff_bgm(before: _Roles, after: _Roles) -> list[Change]:
    old, new = before.bgm, after.bgm
    if new is None:
        return [Change(ChangeKind.TRACK_REMOVED, "BGM")] if old else []
    new_volume = _volume_percent(new.meta)
    if old is None:
        detail = f"{new_volume}%" if new_volume is not None else None
        return [Change(ChangeKind.BGM_ADDED, new.name or "untitled", detail=detail)]
    changes = []
    if old.name != new.name:
        changes.append(
            Change(ChangeKind.BGM_CHANGED, new.name or "untitled", old.name or "untitled", new.name)
        )
    old_volume = _volume_percent(old.meta)
    if new_volume is not None and old_volume != new_volume:
        before_text = f"{old_volume}%" if old_volume is not None else "default"
        changes.append(Change(ChangeKind.BGM_VOLUME, new.name or "untitled", before_text, f"{new_volume}%"))
    return changes


def _diff_title(before: _Roles, after: _Roles) -> list[Change]:
    old, new = before.title, after.title
    if new is None:
        return [Change(ChangeKind.TRACK_REMOVED, "Title")] if old else []
    if old is None:
        return [Change(ChangeKind.TITLE_ADDED, _title_text(new), detail=_title_detail(new))]
    if _title_text(old) != _title_text(new):
        return [Change(ChangeKind.TITLE_CHANGED, _title_text(new), _title_text(old), _title_text(new))]
    if _title_detail(old) != _title_detail(new):
        return [
            Change(
                ChangeKind.TITLE_RESTYLED,
                _title_text(new),
                _title_detail(old),
                _title_detail(new),
                _title_detail(new),
            )
        ]
    return []


def _caption_key(seg: Segment) -> tuple[object, ...]:
    return (_title_text(seg), seg.start, seg.end)


def _diff_subtitles(before: _Roles, after: _Roles) -> list[Change]:
    old, new = before.subtitles, after.subtitles
    if not new:
        return [Change(ChangeKind.TRACK_REMOVED, "Subtitles")] if old else []
    old_keys = {_caption_key(s) for s in old}
    added = [s for s in new if _caption_key(s) not in old_keys]
    kept = {_caption_key(s) for s in new}
    if old and added and len(added) <= 3 and all(_caption_key(s) in kept for s in old if s.end > s.start):
        # captions placed at a moment, the others untouched: name each one
        return [Change(ChangeKind.CAPTION_ADDED, _title_text(s), detail=_span_text([s])) for s in added]
    if not old:
        return [Change(ChangeKind.SUBTITLES_ADDED, _lines(len(new)), detail=_span_text(new))]
    if len(old) != len(new):
        return [Change(ChangeKind.SUBTITLES_CHANGED, _lines(len(new)), str(len(old)), str(len(new)))]
    if [(_title_text(s), s.start, s.end) for s in old] != [(_title_text(s), s.start, s.end) for s in new]:
        return [Change(ChangeKind.SUBTITLES_EDITED, _lines(len(new)))]
    return []


def _moment_key(seg: Segment) -> tuple[object, ...]:
    return (seg.name, seg.start, seg.end, _text(seg.meta.get("position")))


def _diff_moments(
    before: tuple[Segment, ...], after: tuple[Segment, ...], added: ChangeKind, removed: ChangeKind
) -> list[Change]:
    """Sound effects and stickers: each one named with its moment ("whoosh at 2s")."""
    old = {_moment_key(s) for s in before}
    new = {_moment_key(s) for s in after}
    changes = [
        Change(added, s.name or "untitled", detail=_where(s)) for s in after if _moment_key(s) not in old
    ]
    changes += [
        Change(removed, s.name or "untitled", detail=_at(s)) for s in before if _moment_key(s) not in new
    ]
    return changes


def _where(seg: Segment) -> str:
    position = _text(seg.meta.get("position"))
    return f"{_at(seg)}, {position}" if position else _at(seg)


def _effect_base(label: str) -> str:
    return label.split(" ", 1)[0]


def _diff_effects(before: _Roles, after: _Roles, old_draft: object, new_draft: object) -> list[Change]:
    """Effects added, removed or re-valued ("zoom_in 120%" -> "zoom_in 140%"); an effect on only
    some clips names them."""
    gained, lost = after.effects - before.effects, before.effects - after.effects
    changes: list[Change] = []
    for name in list(gained):
        was = next((old for old in lost if _effect_base(old) == _effect_base(name) and old != name), None)
        if was is not None:
            del lost[was]
            changes.append(Change(ChangeKind.EFFECT_CHANGED, _effect_base(name), was, name))
        else:
            changes.append(Change(ChangeKind.EFFECT_ADDED, name, detail=_clips_with(new_draft, name)))
    changes += [Change(ChangeKind.EFFECT_REMOVED, name) for name in lost]
    return changes


def _clips_with(draft: object, effect: str) -> str | None:
    """ "on <clip> (<span>)" when the effect is on some clips only; None when on all of them."""
    clips = [s for t in tracks(draft) if t.tt == VIDEO for s in t.segments]
    having = [s for s in clips if effect in _names(s.meta.get("effects"))]
    if not having or len(having) == len(clips):
        return None
    return (
        "on "
        + ", ".join(f"{s.name or 'untitled'} ({_span_text([s])})" for s in having[:2])
        + (f" and {len(having) - 2} more" if len(having) > 2 else "")
    )


def diff(before: object, after: object) -> list[Change]:
    """The visible changes from draft `before` to draft `after` (B-CLI-10, B-CLI-12).

    Order: video, length, transitions, effects, BGM, title, subtitles, other tracks. When the
    drafts differ in a way none of these names, one TIMELINE_UPDATED change says so; identical
    drafts give an empty list (the caller then reports "no visible change yet").
    """
    old, new = _roles(before), _roles(after)
    changes = [
        *_diff_video(old, new),
        *_diff_duration(old, new),
        *_diff_counts(
            old.transitions, new.transitions, ChangeKind.TRANSITION_ADDED, ChangeKind.TRANSITION_REMOVED
        ),
        *_diff_effects(old, new, before, after),
        *_diff_bgm(old, new),
        *_diff_moments(old.sounds, new.sounds, ChangeKind.SOUND_ADDED, ChangeKind.SOUND_REMOVED),
        *_diff_title(old, new),
        *_diff_subtitles(old, new),
        *_diff_moments(old.stickers, new.stickers, ChangeKind.STICKER_ADDED, ChangeKind.STICKER_REMOVED),
        *_diff_counts(old.other, new.other, ChangeKind.TRACK_ADDED, ChangeKind.TRACK_REMOVED),
    ]
    if not changes and _normal(before) != _normal(after):
        changes.append(Change(ChangeKind.TIMELINE_UPDATED))
    return changes


def _normal(draft: object) -> object:
    # None, {}, {"t": []} and bare track skeletons all mean "nothing on the timeline yet" (U-17).
    return draft if is_export_ready(draft) else None


def _state(value: object) -> dict[str, Any]:
    """`data.state` from a state object, a `data` object or a whole state response."""
    state = _dict(value)
    for key in ("data", "state"):
        if "draft" not in state and isinstance(state.get(key), dict):
            state = state[key]
    return state


def _asset_name(item: object) -> str | None:
    if isinstance(item, str):
        return item.rsplit("/", 1)[-1] or None
    info = _dict(item)
    for key in ("filename", "name", "title", "cdn_url", "url", "id"):
        name = _text(info.get(key))
        if name:
            return name.rsplit("/", 1)[-1] or name
    return None


def _assets(value: object) -> Counter[str]:
    return Counter(name for name in (_asset_name(item) for item in _list(value)) if name)


def diff_states(before_state: object, after_state: object) -> list[Change]:
    """Changes between two session states: the draft plus new uploads and generated media.

    Accepts `data.state` objects (or whole state responses). Uploads come from `video_infos`
    (B-UPL-11) less the clips `generated_media` names; generated media (B-STATE-03) is reported
    only when the draft shows no new video.
    """
    old, new = _state(before_state), _state(after_state)
    changes = diff(old.get("draft"), new.get("draft"))
    # `video_infos` lists generated clips too (B-STATE-03): those are not uploads.
    generated = _assets(new.get("generated_media"))
    uploads = _assets(new.get("video_infos")) - _assets(old.get("video_infos"))
    uploads = Counter({name: n for name, n in uploads.items() if name not in generated})
    changes += [Change(ChangeKind.UPLOAD_ADDED, name) for name in uploads]
    video_kinds = {ChangeKind.VIDEO_GENERATED, ChangeKind.VIDEO_REGENERATED, ChangeKind.CLIP_ADDED}
    if not any(c.kind in video_kinds for c in changes):
        media = generated - _assets(old.get("generated_media"))
        changes += [Change(ChangeKind.MEDIA_GENERATED, name) for name in media]
    return changes


def describe(change: Change) -> str:
    """One concrete report line, e.g. "✅ BGM volume: 35% → 20%" (B-CLI-10, B-CLI-12)."""
    k, s = change.kind, change.subject
    detail = f" ({change.detail})" if change.detail else ""
    text = {
        ChangeKind.VIDEO_GENERATED: f"Video generated: {s}{detail}",
        ChangeKind.VIDEO_REGENERATED: f"Video regenerated: {s}{detail}",
        ChangeKind.CLIP_ADDED: f"Clip added: {s}{detail}",
        ChangeKind.CLIP_REMOVED: f"Clip removed: {s}",
        ChangeKind.TRIMMED: f"Trimmed: {change.before} → {change.after}",
        ChangeKind.EXTENDED: f"Extended: {change.before} → {change.after}",
        ChangeKind.TRANSITION_ADDED: f"Transition added: {s}",
        ChangeKind.TRANSITION_REMOVED: f"Transition removed: {s}",
        ChangeKind.EFFECT_ADDED: f"Effect added: {s}{detail}",
        ChangeKind.EFFECT_CHANGED: f"Effect changed: {change.before} → {change.after}",
        ChangeKind.EFFECT_REMOVED: f"Effect removed: {s}",
        ChangeKind.SOUND_ADDED: f"Sound effect added: {s} {change.detail}",
        ChangeKind.SOUND_REMOVED: f"Sound effect removed: {s} {change.detail}",
        ChangeKind.STICKER_ADDED: f"Sticker added: {s} {change.detail}",
        ChangeKind.STICKER_REMOVED: f"Sticker removed: {s} {change.detail}",
        ChangeKind.CAPTION_ADDED: f"Caption added: '{s}'{detail}",
        ChangeKind.BGM_ADDED: f"BGM added: {s}{detail}",
        ChangeKind.BGM_CHANGED: f"BGM changed: {change.before} → {change.after}",
        ChangeKind.BGM_VOLUME: f"BGM volume: {change.before} → {change.after}",
        ChangeKind.TITLE_ADDED: f"Title added: '{s}'{detail}",
        ChangeKind.TITLE_CHANGED: f"Title changed: '{change.before}' → '{change.after}'",
        ChangeKind.TITLE_RESTYLED: f"Title restyled: '{s}'{detail}",
        ChangeKind.SUBTITLES_ADDED: f"Subtitles added: {s}",
        ChangeKind.SUBTITLES_CHANGED: f"Subtitles changed: {change.before} → {change.after} lines",
        ChangeKind.SUBTITLES_EDITED: f"Subtitles edited: {s}",
        ChangeKind.TRACK_ADDED: f"Track added: {s}",
        ChangeKind.TRACK_REMOVED: f"Track removed: {s}",
        ChangeKind.UPLOAD_ADDED: f"Upload added: {s}",
        ChangeKind.MEDIA_GENERATED: f"Media generated: {s}",
        ChangeKind.TIMELINE_UPDATED: "Timeline updated",
    }[k]
    return f"✅ {text}"


def describe_changes(changes: Iterable[Change]) -> list[str]:
    """Report lines for changes; an empty list when nothing changed (the caller decides)."""
    return [describe(change) for change in changes]


# ---------------------------------------------------------------------------- next steps


def suggest_next_steps(draft: object) -> list[str]:
    """Two or three follow-ups a user can ask for next, phrased as requests (B-CLI-12)."""
    if not is_export_ready(draft):
        return [
            "describe the video you want (e.g. 'a 10-second city timelapse at night')",
            "send a video or image in chat, or give me a URL, to start from your own footage",
        ]
    roles = _roles(draft)
    missing = [
        step
        for step, absent in (
            ("add subtitles", not roles.subtitles),
            ("add background music", roles.bgm is None),
            ("add a title", roles.title is None),
            ("add a transition", not roles.transitions and len(roles.video) > 1),
        )
        if absent
    ]
    if len(missing) < 2:
        missing += [s for s in ("adjust timing or style", "change the music volume") if s not in missing]
    return [*missing[:2], "export the video"]
