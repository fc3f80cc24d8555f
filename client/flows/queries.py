"""The flows the client answers itself, never through the backend agent (B-CLI-01, B-CLI-13):
credits (v1.9 §3.3), status (§3.4) and upload (§3.2)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from client.models import Credits, State, UploadedFile, UploadResult
from client.remedies import Failure, format_list
from client.timeline import summarize

from .context import NO_PROJECT
from .language import LIBRARY_NOTE, is_streaming_link
from .messages import MessageKind
from .steps import Do, Flow

if TYPE_CHECKING:
    from .context import SkillContext

NEXT_AFTER_UPLOAD = "Next: tell me what to make with it, e.g. 'add it as background music'."
SEND_A_FILE = "Send the file in chat or give me a URL. Supported: {formats}."  # B-CLI-25


def _number(value: float) -> str:
    return f"{value:g}"


def plan_credits(ctx: SkillContext) -> Flow[Failure | None]:
    """The balance, always answered, never "I can't check" (B-CLI-13, B-CRED-01/02)."""
    credits: Credits = yield Do(ctx.client.plan_credits())
    held = f", {_number(credits.frozen)} held for work in progress" if credits.frozen else ""
    yield ctx.emit(
        MessageKind.CREDITS,
        f"💰 Credits: {_number(credits.available)} available{held} ({_number(credits.total)} in total).",
    )
    return None


def plan_status(ctx: SkillContext) -> Flow[Failure | None]:
    """The track summary of the current project (B-STATE-06), and its uploads (B-UPL-11)."""
    if ctx.project is None:
        yield ctx.emit(MessageKind.NOTICE, NO_PROJECT)
        return None
    state: State = yield from ctx.plan_state()
    yield ctx.emit(MessageKind.SUMMARY, summarize(state.draft))
    uploads = [_asset_name(info) for info in state.video_infos if _is_upload(info)]
    if uploads:
        yield ctx.emit(MessageKind.NOTICE, "Uploaded files: " + ", ".join(n for n in uploads if n) + ".")
    link = ctx.claim_url()
    if link:
        yield ctx.emit(MessageKind.LINK, f"🔗 Open this project in your browser: {link}")
    return None


def plan_upload(ctx: SkillContext, items: Sequence[str | Path]) -> Flow[Failure | None]:
    """Files are streamed from disk (multipart `files`), links sent as `urls` (B-UPL-01..04, B-CLI-25).

    YouTube and Spotify links are not sent: the backend cannot fetch them (B-CLI-22). A missing
    local file stops the upload before anything is sent.
    """
    formats = format_list(ctx.profile.accepted_formats)
    if not items:
        yield ctx.emit(MessageKind.NOTICE, SEND_A_FILE.format(formats=formats))
        return None
    urls: list[str] = []
    paths: list[Path] = []
    for item in items:
        text = str(item)
        if isinstance(item, str) and text.lower().startswith(("http://", "https://")):
            if is_streaming_link(text):
                yield ctx.emit(MessageKind.NOTICE, LIBRARY_NOTE)
            else:
                urls.append(text)
            continue
        path = Path(item).expanduser()
        if not path.is_file():
            yield ctx.emit(
                MessageKind.ERROR, f"Can't read {path.name or text}. " + SEND_A_FILE.format(formats=formats)
            )
            return Failure.FILE
        paths.append(path)
    client = ctx.client
    results: list[UploadResult] = []
    files, links = tuple(paths), tuple(urls)
    if files:
        results.append((yield from ctx.session_call(lambda sid: client.plan_upload_files(sid, files))))
    if links:
        results.append((yield from ctx.session_call(lambda sid: client.plan_upload_urls(sid, links))))
    for result in results:
        for stored in result.files:
            yield ctx.emit(MessageKind.UPLOAD, f"📎 Uploaded {describe_upload(stored)}")
        if result.session_state_applied is False:
            yield ctx.emit(MessageKind.NOTICE, "The upload was stored but not yet added to the project.")
    if results:
        yield ctx.emit(MessageKind.SUGGESTION, NEXT_AFTER_UPLOAD)
    return None


def describe_upload(stored: UploadedFile) -> str:
    """ "city.mp4 (video, 30.5s, 1920x1080)" from the upload answer (B-UPL-04)."""
    details = [stored.file_type or ""]
    if stored.duration:
        details.append(f"{stored.duration:g}s")
    if stored.width and stored.height:
        details.append(f"{stored.width}x{stored.height}")
    inner = ", ".join(d for d in details if d)
    name = stored.filename or (stored.cdn_url or "file").rsplit("/", 1)[-1]
    return f"{name} ({inner})" if inner else name


def _is_upload(info: object) -> bool:
    return isinstance(info, dict) and info.get("source") != "generated"


def _asset_name(info: object) -> str | None:
    if not isinstance(info, dict):
        return None
    for key in ("filename", "name", "cdn_url", "url"):
        value = info.get(key)
        if isinstance(value, str) and value:
            return value.rsplit("/", 1)[-1]
    return None
