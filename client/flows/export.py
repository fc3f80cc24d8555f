"""The export flow, handled by the client and never sent to the backend agent (v1.9 §3.5, B-CLI-13).

a) query the state; a draft that is not export-ready gets "generate first" (B-CLI-14, B-STATE-05);
b) submit the state's draft with a fresh id (B-REN-01/03/19) and say "⏳ Rendering ~30s" (B-CLI-15);
c) poll every `poll_interval_s` (30 s), at most `max_polls` (10) times (B-REN-10), showing the
   progress ("⏳ 50%") and reading status and URL from either answer shape (B-REN-06/07);
d) a failed render, or one that never finishes, is tried once more with a new id; a second failure
   says "try again later" (B-CLI-16). A 402 is a plan limit: no retry, the subscription message
   (B-REN-16);
e) download `output.url`, falling back to the download endpoint (B-REN-13); deliver the file with
   "✅ Video ready!" and always the task detail link (B-CLI-14e, B-CLI-19).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client import new_render_id
from client.errors import ExportBlocked, InsufficientCredits, NemoError, RateLimited, TokenInvalid
from client.models import RenderJob, State
from client.plans import Sleep
from client.remedies import NOTHING_TO_EXPORT, RENDER_FAILED_TWICE, Failure

from .messages import MessageKind
from .steps import Do, Flow

if TYPE_CHECKING:
    from .context import SkillContext

RENDERING = "⏳ Rendering ~30s"  # B-CLI-15
RENDER_ATTEMPTS = 2  # B-CLI-16: the first try and one retry with a new id
#: Errors a new render id cannot cure: raised to the caller's error table instead of retried.
_NOT_RETRIED = (ExportBlocked, TokenInvalid, RateLimited, InsufficientCredits)


def plan_export(ctx: SkillContext, out: str | Path | None = None) -> Flow[Failure | None]:
    """Render the project's draft to an MP4 at `out` (default: `<downloads_dir>/<render id>.mp4`)."""
    if ctx.project is None:
        yield ctx.emit(MessageKind.NOTICE, NOTHING_TO_EXPORT)
        return Failure.GENERIC
    state: State = yield from ctx.plan_state()
    if not state.export_ready or state.draft is None:
        yield ctx.emit(MessageKind.NOTICE, NOTHING_TO_EXPORT)
        return Failure.GENERIC
    yield ctx.emit(MessageKind.PROGRESS, RENDERING)
    job: RenderJob | None = None
    failure = Failure.SERVER
    why = ""
    for attempt in range(1, RENDER_ATTEMPTS + 1):
        job, why, failure = yield from _plan_render(ctx, state.draft)
        if job is not None:
            break
        if attempt < RENDER_ATTEMPTS:
            yield ctx.emit(MessageKind.STATUS, f"The render {why}; retrying once with a new id.")
    if job is None:
        yield ctx.emit(MessageKind.ERROR, f"{RENDER_FAILED_TWICE} The second try {why}.")
        return failure
    target = Path(out) if out is not None else ctx.downloads_dir / f"{job.id}.mp4"
    try:
        saved = yield from _plan_download(ctx, job, target)
    except OSError as exc:
        yield ctx.emit(MessageKind.ERROR, f"Can't write {target}: {exc.strerror or exc}.")
        return Failure.GENERIC
    if saved is None:
        where = f" It is online at {job.output_url}" if job.output_url else ""
        yield ctx.emit(MessageKind.ERROR, f"The video was rendered but could not be downloaded.{where}")
        return Failure.SERVER
    link = yield from ctx.plan_claim_link()
    yield ctx.emit(MessageKind.FILE, f"✅ Video ready! {saved} ({_describe_file(saved, job)})", path=saved)
    if link:
        yield ctx.emit(MessageKind.LINK, f"🔗 Task details: {link}")
    return None


def _plan_render(ctx: SkillContext, draft: Mapping[str, Any]) -> Flow[tuple[RenderJob | None, str, Failure]]:
    """One render attempt with a fresh id: the completed job, or None and why it failed."""
    project = ctx.project
    assert project is not None
    render_id = new_render_id()
    try:
        job: RenderJob = yield Do(ctx.client.plan_submit_render(project.session_id, draft, render_id, None))
    except _NOT_RETRIED:
        raise
    except NemoError as exc:
        return None, f"was refused ({exc.message.rstrip('.')})", Failure.SERVER
    shown = job.progress
    profile = ctx.profile
    since = ctx.client.wait_mark()
    polls = 0
    for _ in range(profile.max_polls):
        if job.done:
            break
        yield Sleep(profile.poll_interval_s)
        polls += 1
        try:
            job = yield Do(ctx.client.plan_get_render(render_id))
        except _NOT_RETRIED:
            raise
        except NemoError:
            continue  # one lost poll; the job goes on server-side
        if not job.done and job.progress is not None and job.progress != shown:
            shown = job.progress
            yield ctx.emit(MessageKind.PROGRESS, f"⏳ {job.progress:.0f}%")
    if job.status == "completed":
        # The id this client chose names the job from now on (download fallback, file name).
        return replace(job, id=render_id), "", Failure.SERVER
    if job.status == "failed":
        reason = f" ({job.reason})" if job.reason else ""
        return None, f"failed{reason}", Failure.SERVER
    # The wait that really happened, not the documented 5 minutes (they differ at another time scale).
    return None, f"did not finish: {ctx.client.describe_waits(polls, 'polls', since)}", Failure.TIMEOUT


def _plan_download(ctx: SkillContext, job: RenderJob, target: Path) -> Flow[Path | None]:
    """`output.url` first, then the download endpoint (B-CLI-14d, B-REN-13)."""
    if job.output_url:
        try:
            return (yield Do(ctx.client.plan_download_url(job.output_url, target)))
        except NemoError:
            if not ctx.profile.download_fallback:
                return None
    try:
        return (yield Do(ctx.client.plan_download_render(job.id, target)))
    except NemoError:
        return None


def _describe_file(path: Path, job: RenderJob) -> str:
    size = path.stat().st_size
    parts = [f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"]
    if job.duration:
        parts.append(f"{job.duration:g}s")
    return ", ".join(parts)
