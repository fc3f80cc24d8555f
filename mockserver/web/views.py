"""What the pages show, as plain data: the timeline on its ruler, the turns and their changes, renders.

Reading never changes state: a render's status is shown as it stands (only an API poll moves it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mockserver.agent import describe_changes
from mockserver.agent.timeline import AUDIO, TEXT, VIDEO
from mockserver.backend import RENDER_RESULTS, Backend
from mockserver.state.sessions import Session, Turn

#: What a track of each type is called when it has no name of its own.
TRACK_KINDS = {VIDEO: "video", AUDIO: "audio", TEXT: "text"}
#: Ruler ticks aim at about this many marks across the timeline.
RULER_MARKS = 8
#: Colours for segments that name none (video clips usually carry their own).
PALETTE = {"video": "#4a6fa5", "audio": "#3e8e6e", "text": "#b0713a", "other": "#777777"}


@dataclass(frozen=True, slots=True)
class SegmentView:
    id: str
    label: str
    start_s: float
    duration_s: float
    left_pct: float
    width_pct: float
    color: str
    detail: str


@dataclass(frozen=True, slots=True)
class TrackView:
    id: str
    name: str
    kind: str
    segments: tuple[SegmentView, ...]


@dataclass(frozen=True, slots=True)
class TimelineView:
    duration_s: float
    width: int
    height: int
    fps: float
    tracks: tuple[TrackView, ...]
    ticks: tuple[tuple[float, float], ...]  # (seconds, left %)

    @property
    def segment_count(self) -> int:
        return sum(len(track.segments) for track in self.tracks)


def _number(value: object, default: float = 0.0) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return default


def _meta(holder: dict[str, Any]) -> dict[str, Any]:
    meta = holder.get("m")
    return meta if isinstance(meta, dict) else {}


def _segment_label(kind: str, meta: dict[str, Any]) -> str:
    for key in ("text", "name", "genre", "kind"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    return kind


def _segment_detail(meta: dict[str, Any]) -> str:
    parts = []
    for key in ("kind", "genre", "volume", "position", "animation", "effects", "filter", "speed"):
        value = meta.get(key)
        if value not in (None, "", [], {}):
            parts.append(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    return "; ".join(parts)


def _tick_step(duration_s: float) -> float:
    raw = max(duration_s, 1.0) / RULER_MARKS
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if step >= raw:
            return float(step)
    return float(math.ceil(raw / 3600) * 3600)


def timeline(draft: dict[str, Any] | None) -> TimelineView | None:
    """The draft's tracks as rows of segments placed on a ruler (B-STATE-04's format); None before any."""
    if not isinstance(draft, dict):
        return None
    tracks_raw = [track for track in draft.get("t") or [] if isinstance(track, dict)]
    meta = _meta(draft)
    ends = [
        _number(seg.get("st")) + _number(seg.get("d"))
        for track in tracks_raw
        for seg in track.get("sg") or []
        if isinstance(seg, dict)
    ]
    duration_ms = max([_number(draft.get("d")), *ends, 1.0])
    tracks = []
    for index, track in enumerate(tracks_raw):
        track_type = track.get("tt")
        kind = TRACK_KINDS.get(track_type, "other") if isinstance(track_type, int) else "other"
        track_meta = _meta(track)
        segments = []
        for seg in track.get("sg") or []:
            if not isinstance(seg, dict):
                continue
            seg_meta = _meta(seg)
            start, length = _number(seg.get("st")), _number(seg.get("d"))
            color = seg_meta.get("color")
            segments.append(
                SegmentView(
                    id=str(seg.get("id") or ""),
                    label=_segment_label(kind, seg_meta),
                    start_s=start / 1000,
                    duration_s=length / 1000,
                    left_pct=round(100 * start / duration_ms, 3),
                    width_pct=round(max(0.5, 100 * length / duration_ms), 3),
                    # A colour from the draft is drawn only if it is a plain #hex (it goes into a style).
                    color=color if isinstance(color, str) and _is_hex_colour(color) else PALETTE[kind],
                    detail=_segment_detail(seg_meta),
                )
            )
        name = track_meta.get("name") if isinstance(track_meta.get("name"), str) else None
        tracks.append(TrackView(str(track.get("id") or index), name or kind, kind, tuple(segments)))
    duration_s = duration_ms / 1000
    step = _tick_step(duration_s)
    ticks = tuple(
        (round(n * step, 3), round(100 * n * step / duration_s, 3))
        for n in range(int(duration_s // step) + 1)
    )
    return TimelineView(
        duration_s=duration_s,
        width=int(_number(meta.get("width"), 1920)),
        height=int(_number(meta.get("height"), 1080)),
        fps=_number(meta.get("fps"), 30),
        tracks=tuple(tracks),
        ticks=ticks,
    )


def _is_hex_colour(value: str) -> bool:
    return len(value) in (4, 7) and value[0] == "#" and all(c in "0123456789abcdefABCDEF" for c in value[1:])


def title_of(session: Session) -> str:
    """The project's title: the draft's, else the task name the session was created with."""
    meta = (session.draft or {}).get("m")
    title = meta.get("title") if isinstance(meta, dict) else None
    return str(title) if title else session.task_name


@dataclass(frozen=True, slots=True)
class TurnView:
    number: int
    text: str
    kind: str
    silent: bool
    replies: tuple[str, ...]
    changes: tuple[str, ...]
    status: str  # running | done | failed
    started_at: float
    finished_at: float | None


def turn_view(number: int, turn: Turn) -> TurnView:
    if turn.finished_at is None:
        changes: tuple[str, ...] = ()
        status = "running"
    else:
        after = turn.draft_after
        changes = tuple(describe_changes(turn.draft_before, after)) if after is not None else ()
        status = "failed" if turn.failed else "done"
    return TurnView(
        number,
        turn.text,
        turn.kind,
        turn.silent,
        turn.replies,
        changes,
        status,
        turn.started_at,
        turn.finished_at,
    )


def turns(session: Session) -> list[TurnView]:
    return [turn_view(number, turn) for number, turn in enumerate(session.history, 1)]


@dataclass(frozen=True, slots=True)
class RenderView:
    id: str
    status: str
    progress: int
    reason: str | None
    video_url: str | None  # a path on this server, once the MP4 is served
    duration_s: float
    submitted_at: float


def renders(backend: Backend, session_id: str) -> list[RenderView]:
    out = []
    for job in backend.renders.jobs.values():
        if job.session_id != session_id:
            continue
        name = job.output_path.name
        served = job.status == "completed" and backend.renders.file(name) is not None
        out.append(
            RenderView(
                job.id,
                job.status,
                job.progress,
                job.reason,
                f"/cdn/{RENDER_RESULTS}{name}" if served else None,
                job.output_duration_s,
                job.submitted_at,
            )
        )
    return out


def fingerprint(backend: Backend, session: Session) -> tuple[Any, ...]:
    """Changes whenever what the workspace page shows does (the page reloads its parts then)."""
    account = backend.accounts.accounts.get(session.owner)
    ledger = account.ledger if account else None
    return (
        id(session.draft),
        len(session.history),
        sum(turn.finished_at is not None for turn in session.history),
        tuple(
            (job.id, job.status, job.progress)
            for job in backend.renders.jobs.values()
            if job.session_id == session.session_id
        ),
        (ledger.available, ledger.frozen) if ledger else None,
    )
