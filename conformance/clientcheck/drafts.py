"""The timeline drafts a world's state answers show, before and after its change.

Drafts follow the twin's format (docs/design.md, B-STATE-04): a video track (`tt` 0), a BGM
track (`tt` 1) and a title track (`tt` 7), segments with `id`, `st`, `d` and `m`.
"""

from __future__ import annotations

from typing import Any

from .world import Timeline

CLIP_MS = 10_000


def video_draft(name: str) -> dict[str, Any]:
    """A draft holding one generated clip called `name` (export-ready, B-STATE-05)."""
    return {
        "t": [
            {
                "tt": 0,
                "id": "trk_video",
                "m": {"name": "Video"},
                "sg": [
                    {"id": "seg_v1", "st": 0, "d": CLIP_MS, "m": {"name": name, "src": "generated://clip_1"}}
                ],
            }
        ],
        "d": CLIP_MS,
        "m": {"title": name, "width": 1080, "height": 1920, "fps": 30},
    }


def _with_track(draft: dict[str, Any], track: dict[str, Any]) -> dict[str, Any]:
    return {**draft, "t": [*draft["t"], track]}


def with_title(draft: dict[str, Any], text: str) -> dict[str, Any]:
    segment = {
        "id": "seg_t1",
        "st": 0,
        "d": 3000,
        "m": {
            "kind": "title",
            "text": text,
            "color": "white",
            "position": "top-center",
            "animation": "fade-in",
        },
    }
    return _with_track(draft, {"tt": 7, "id": "trk_title", "m": {"name": "Title"}, "sg": [segment]})


def with_music(draft: dict[str, Any], name: str) -> dict[str, Any]:
    segment = {"id": "seg_a1", "st": 0, "d": CLIP_MS, "m": {"name": name, "volume": 0.35}}
    return _with_track(draft, {"tt": 1, "id": "trk_bgm", "m": {"name": "BGM"}, "sg": [segment]})


def draft_before(timeline: Timeline) -> dict[str, Any] | None:
    """The draft before the request; None before anything was generated (U-17)."""
    return video_draft(timeline.video) if timeline.video is not None else None


def draft_after(timeline: Timeline) -> dict[str, Any] | None:
    """The draft once the change is visible."""
    before = draft_before(timeline)
    if timeline.change == "video":
        return video_draft(timeline.subject)
    if before is None or timeline.change == "none":
        return before
    if timeline.change == "title":
        return with_title(before, timeline.subject)
    return with_music(before, timeline.subject)
