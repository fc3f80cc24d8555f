"""Media for the mock: real MP4 renders of timeline drafts, and what uploads really contain.

- `render_draft` (render.py): a draft (B-STATE-04) to a playable H.264 MP4 (B-REN-06, B-PROF-07).
- `sniff`, `probe`, `content_matches_extension` (probe.py): upload checks (B-UPL-04..07, U-13).
"""

from __future__ import annotations

from mockserver.media.probe import MediaInfo, content_matches_extension, probe, sniff
from mockserver.media.render import RenderResult, check_draft, render_draft

__all__ = [
    "MediaInfo",
    "RenderResult",
    "check_draft",
    "content_matches_extension",
    "probe",
    "render_draft",
    "sniff",
]
