"""Render jobs: a status that advances lazily when read, by virtual time or, at time scale 0, by reads.

Status only moves forward: pending -> processing -> completed | failed (B-REN-09). A job takes a
duration drawn from the profile's range (B-REN-11, 30-90 s). At time scale 0 no time passes, so
each poll moves the job one stage on: the first poll sees `processing`, the second the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


@dataclass(slots=True)
class RenderJob:
    id: str
    owner: str
    session_id: str
    draft: dict[str, Any]
    submitted_at: float
    duration_s: float
    output_path: Path
    fault: str | None = None  # "fail" | "stall" from a fault rule
    reads: int = 0
    status: str = "pending"
    progress: int = 5  # B-REN-04's submit example
    completed_at: float | None = None
    reason: str | None = None
    output_bytes: int = 0
    output_duration_s: float = 0.0

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")

    def target(self, now: float, time_scale: float) -> tuple[str, int]:
        """Where the job should be at `now` (before the file is checked): (status, progress)."""
        if self.finished:
            return self.status, self.progress
        fraction = (now - self.submitted_at) / self.duration_s if self.duration_s > 0 else 1.0
        if time_scale == 0:
            fraction = max(fraction, 0.5 * self.reads)
        if fraction < 0.1:
            return "pending", 5
        if self.fault == "stall":
            return "processing", max(self.progress, 50)
        if fraction < 1.0:
            return "processing", max(self.progress, min(95, 10 + int(85 * fraction)))
        if self.fault == "fail":
            return "failed", self.progress
        return "completed", 100

    def move(self, status: str, progress: int, now: float, reason: str | None = None) -> None:
        """Advance; never backwards (the contract checks that status only moves forward)."""
        if ORDER[status] < ORDER[self.status] or self.finished:
            return
        self.status = status
        self.progress = max(self.progress, progress)
        if status in ("completed", "failed"):
            self.completed_at = now
            self.reason = reason
