"""Render jobs and the registry that owns them (B-REN-*): everything about an export, HTTP-free.

- **Who may export, and what it costs.** An export is free (B-REN-15): no credits are frozen or
  spent, whatever becomes of the job. The free plan may be refused (`--free-tier-export-blocked`),
  and an anonymous or free account whose call does not say which skill sent it is refused too
  (B-ATTR-08, U-15): HTTP 402, before any job exists. `Renders.submit` decides both.
- **Lifecycle.** A job's status advances lazily when read, by virtual time or, at time scale 0, by
  reads (moto's `ManagedState`). Status only moves forward: pending -> processing -> completed |
  failed (B-REN-09). A job takes a duration drawn from the profile's range (B-REN-11, 30-90 s). At
  time scale 0 no time passes, so each poll moves the job one stage on: the first poll sees
  `processing`, the second the end. A cancel ends it `failed` with reason `cancelled` (U-14).
- **Files.** Each job is encoded to a real MP4 as soon as it is accepted (an encoder the owner
  supplies, on worker threads); the file is served once a poll has seen the job completed. A poll
  (or download) that finds the job due to complete waits for its file at most `FILE_WAIT_S` real
  seconds: a draft whose file takes longer (an hour of music is seconds of encoding) stays
  `processing` at `FILE_PROGRESS` until a later poll finds the file, instead of holding the
  request past a client's timeout.

`Renders.check()` states the invariants; tests drive any sequence of moves against it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from mockserver import media
from mockserver.clock import VirtualClock
from mockserver.errors import ApiError, bad_request, conflict, not_found
from mockserver.state.accounts import Account

log = logging.getLogger("nemo-mock")

ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}
#: A job's progress when accepted (B-REN-04's submit example) and while pending.
START_PROGRESS = 5
#: Real seconds a poll waits for the file of a job that is due to complete (see the docstring).
FILE_WAIT_S = 3.0
#: A job's progress while its file is still being written after its time is up.
FILE_PROGRESS = 99
#: Characters a render id keeps in its file name (render_file_name).
_FILE_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
MAX_FILE_STEM = 200
EXPORT_BLOCKED = "Export not available on the free plan: register or upgrade to unlock export"

#: Starts encoding a draft to a file; the future gives what was made (media.render_draft's result).
Encoder = Callable[[dict[str, Any], Path], asyncio.Future[media.RenderResult]]


@dataclass(slots=True)
class RenderJob:
    """One export: what it renders, where its file goes, and where it has got to."""

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
    progress: int = START_PROGRESS
    completed_at: float | None = None
    reason: str | None = None
    output_bytes: int = 0
    output_duration_s: float = 0.0
    history: list[tuple[float, str]] = field(default_factory=list)  # (when, status) of each move

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
            return "pending", START_PROGRESS
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
        if status != self.status:
            self.history.append((now, status))
        self.status = status
        self.progress = max(self.progress, progress)
        if status in ("completed", "failed"):
            self.completed_at = now
            self.reason = reason


class Renders(Mapping[str, RenderJob]):
    """Every render job by id, their encodings and their files (read as a mapping of jobs)."""

    def __init__(
        self,
        rng: random.Random,
        clock: VirtualClock,
        directory: Path,
        encode: Encoder,
        *,
        duration_s: tuple[float, float] = (30.0, 90.0),
        free_tier_blocked: bool = False,
    ) -> None:
        self.rng = rng  # shared with the owner's ids: a job's duration is one draw in that sequence
        self.clock = clock
        self.directory = directory
        self.encode = encode
        self.duration_s = duration_s
        self.free_tier_blocked = free_tier_blocked
        self.jobs: dict[str, RenderJob] = {}
        self.encodings: dict[str, asyncio.Future[media.RenderResult]] = {}
        self.files: dict[str, Path] = {}  # file name -> file, once a poll saw the job completed

    # ------------------------------------------------------------------ the mapping

    def __getitem__(self, render_id: str) -> RenderJob:
        return self.jobs[render_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.jobs)

    def __len__(self) -> int:
        return len(self.jobs)

    # ------------------------------------------------------------------ moves

    def submit(
        self,
        account: Account,
        session_id: str,
        render_id: str,
        draft: dict[str, Any],
        *,
        attributed: bool,
        fault: str | None = None,
    ) -> RenderJob:
        """Accept an export and start encoding it (B-REN-01..04, B-ATTR-08, U-15), free of credits
        (B-REN-15): 402 for a plan that may not export, 400 for a draft that cannot be rendered,
        409 for an id already used; a refused export leaves nothing behind."""
        self._check_allowed(account, attributed)
        try:
            media.check_draft(draft)  # B-STATE-05 and a renderable shape; refused before any job exists
        except ValueError as exc:
            raise bad_request(f"The draft cannot be rendered: {exc}") from None
        if render_id in self.jobs:
            raise conflict(f"Render id already used: {render_id}; retry with a new id")
        low, high = self.duration_s
        now = self.clock.now()
        job = RenderJob(
            id=render_id,
            owner=account.user_id,
            session_id=session_id,
            draft=draft,
            submitted_at=now,
            duration_s=self.rng.uniform(low, high),
            output_path=self.directory / render_file_name(render_id),
            fault=fault,
            history=[(now, "pending")],
        )
        self.jobs[render_id] = job
        if fault is None:
            self.encodings[render_id] = self.encode(draft, job.output_path)
        return job

    def _check_allowed(self, account: Account, attributed: bool) -> None:
        blocked = account.tier == "free" and self.free_tier_blocked
        if account.tier in ("anonymous", "free") and not attributed:
            blocked = True
        if blocked:
            raise ApiError(402, EXPORT_BLOCKED, status=402)

    def owned(self, account: Account, render_id: str) -> RenderJob:
        """The job if `account` submitted it; otherwise 404, as if it did not exist."""
        job = self.jobs.get(render_id)
        if job is None or job.owner != account.user_id:
            raise not_found(f"Render not found: {render_id:.128}")
        return job

    async def observe(self, job: RenderJob) -> RenderJob:
        """A poll: advance the job to where virtual time (or, at scale 0, the reads) say it is."""
        job.reads += 1
        status, progress = job.target(self.clock.now(), self.clock.time_scale)
        if status == "completed":
            fut = self.encodings.get(job.id)
            if fut is not None and not fut.done():
                done, _ = await asyncio.wait((fut,), timeout=FILE_WAIT_S)
                if not done and not job.finished:  # still encoding: not completed yet
                    job.move("processing", FILE_PROGRESS, self.clock.now())
                    return job
            failure = await self._collect(job)
            if failure is not None:
                job.move("failed", job.progress, self.clock.now(), reason=failure)
                return job
        reason = "render failed" if status == "failed" else None
        job.move(status, progress, self.clock.now(), reason=reason)
        return job

    async def _collect(self, job: RenderJob) -> str | None:
        """Wait for the job's file and note it; the reason the job failed instead, if it did."""
        fut = self.encodings.get(job.id)
        try:
            if fut is None:
                raise RuntimeError("no render output")
            result = await asyncio.shield(fut)
        except asyncio.CancelledError:
            if fut is None or not fut.cancelled():
                raise  # this request itself is being cancelled
            return "cancelled"  # a cancel or a reset threw the encoding away while this poll waited
        except Exception as exc:  # an encoder failure is a failed render, not a 500
            log.warning("render %s failed: %s", job.id, exc)
            return "render failed"
        job.output_bytes = result.size_bytes
        job.output_duration_s = result.duration_s
        self.files[job.output_path.name] = job.output_path
        return None

    def cancel(self, job: RenderJob) -> RenderJob:
        """U-14: cancelling ends the job as `failed` with reason `cancelled`; a finished job stays."""
        if not job.finished:
            job.move("failed", job.progress, self.clock.now(), reason="cancelled")
            fut = self.encodings.pop(job.id, None)
            if fut is not None:
                fut.cancel()
        return job

    def file(self, name: str) -> Path | None:
        """The file of a completed render by its name (the URL quotes it; its path arrives decoded)."""
        return self.files.get(name)

    def close(self) -> None:
        """Throw every encoding in progress away; the jobs stay readable (server shutdown)."""
        for fut in self.encodings.values():
            fut.cancel()

    def reset(self) -> None:
        """No jobs, encodings or files (`POST /_mock/reset`)."""
        self.close()
        self.encodings.clear()
        self.jobs.clear()
        self.files.clear()

    # ------------------------------------------------------------------ invariants

    def check(self) -> None:
        """Raise AssertionError when the invariants do not hold."""
        paths = [job.output_path for job in self.jobs.values()]
        assert len(set(paths)) == len(paths), "two jobs share a file"
        assert set(self.encodings) <= set(self.jobs), "an encoding without its job"
        for render_id, job in self.jobs.items():
            assert job.id == render_id and job.owner and job.session_id, f"{render_id}: misfiled"
            _check_job(job)
            if job.fault is not None:
                assert render_id not in self.encodings, f"{render_id}: a faulted job is never encoded"
            if job.reason == "cancelled" and render_id in self.encodings:
                assert self.encodings[render_id].cancelled(), f"{render_id}: cancelled, still encoding"
        served = {job.output_path.name: job for job in self.jobs.values() if job.status == "completed"}
        assert self.files.keys() == served.keys(), "served files differ from the completed jobs"
        assert all(self.files[name] == job.output_path for name, job in served.items()), "a file misnamed"


def _check_job(job: RenderJob) -> None:
    assert job.status in ORDER and START_PROGRESS <= job.progress <= 100, (
        f"{job.id}: {job.status} {job.progress}"
    )
    statuses = [status for _, status in job.history]
    times = [at for at, _ in job.history]
    assert statuses and statuses[0] == "pending" and statuses[-1] == job.status, f"{job.id}: {statuses}"
    assert all(ORDER[a] < ORDER[b] for a, b in pairwise(statuses)), f"{job.id} went back"
    assert times == sorted(times), f"{job.id}: moves out of time order"
    assert job.finished == (job.completed_at is not None), f"{job.id}: completed_at {job.completed_at}"
    if job.status == "completed":
        assert job.progress == 100 and job.reason is None, f"{job.id}: completed at {job.progress}"
    if job.status == "failed":
        assert job.reason in ("cancelled", "render failed"), f"{job.id}: failed for {job.reason!r}"


def render_file_name(render_id: str) -> str:
    """The file of one render: `<id>.mp4` for ids of lower-case letters, digits, `-`, `_` and `.`
    (B-REN-14: `render_xxx.mp4`); every other character is %XX-escaped, upper case included, so
    that distinct ids never share a file, even on a case-insensitive file system (`x.render`,
    `x_render` and `X_render` are three files). Names too long for a file system are a digest,
    marked with a `+`, which no escaped name holds."""
    escaped = "".join(
        ch if ch in _FILE_SAFE else "".join(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
        for ch in render_id
    )
    if len(escaped) > MAX_FILE_STEM:
        escaped = "+" + hashlib.sha256(render_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{escaped}.mp4"
