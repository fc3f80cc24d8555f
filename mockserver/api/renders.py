"""Render submit / poll / cancel / download (B-REN-*), answered in shape A or B (B-REN-06/07)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from mockserver.api.common import (
    attribution_present,
    authenticate,
    backend_of,
    note_code,
    note_session,
    plain,
    read_json,
)
from mockserver.api.requests import RenderRequest
from mockserver.errors import conflict
from mockserver.state.renders import RenderJob


def render_body(request: Request, job: RenderJob) -> dict[str, Any]:
    """One job in the server's render shape."""
    base = str(request.base_url).rstrip("/")
    # The file is named after the render id, which may be any text (U-19): quoted, the URL stays a URI.
    name = quote(job.output_path.name)
    url = f"{base}/cdn/render-result/{name}" if job.status == "completed" else None
    created_ms = int(job.submitted_at * 1000)
    completed_ms = int(job.completed_at * 1000) if job.completed_at is not None else None
    if backend_of(request).settings.render_shape == "B":  # B-REN-07, api-ref v4.4
        data: dict[str, Any] = {
            "id": job.id,
            "status": job.status,
            "progress": job.progress,
            "createdAt": created_ms,
        }
        if url:
            data["outputUrl"] = url
        if completed_ms is not None:
            data["completedAt"] = completed_ms
        if job.reason:
            data["reason"] = job.reason
        return {"success": True, "data": data}
    body: dict[str, Any] = {  # B-REN-06, v1.9: status at top level, URL at output.url
        "id": job.id,
        "taskId": job.id,
        "status": job.status,
        "progress": job.progress,
        "createdAt": created_ms,
        "completedAt": completed_ms,
    }
    if url:  # B-REN-06: the URL at output.url once there is a file; no output before that
        body["output"] = {"url": url, "duration": round(job.output_duration_s, 3), "size": job.output_bytes}
    if job.reason:
        body["reason"] = job.reason
    return body


def submit_body(request: Request, job: RenderJob) -> dict[str, Any]:
    """The submit answer: in shape B the documented one; in shape A the job's top-level fields and,
    beside them, the documented `{"success": true, "data": {id, status, progress}}` (B-REN-04, U-14),
    so that a skill written from either document reads it as an accepted export."""
    body = render_body(request, job)
    if "success" in body:  # shape B already is the documented answer
        return body
    documented = {"id": job.id, "status": job.status, "progress": job.progress}
    return {"success": True, "data": documented, **body}


async def submit(request: Request) -> Response:
    """POST /api/render/proxy/lambda (B-REN-01/02/03/04, B-ATTR-08, B-REN-15: free of credits)."""
    backend = backend_of(request)
    account = authenticate(request)
    payload = await read_json(request)
    render = RenderRequest.from_body(payload)
    note_session(request, render.session_id)
    fired = None
    if backend.faults:
        fired = backend.faults.fire(
            ("render",), "POST", request.url.path, request.headers.raw, payload, backend.clock.now()
        )
    value = fired.rule.value if fired else None
    job = backend.submit_render(account, render, attribution_present(request), value)
    return plain(request, submit_body(request, job))


async def poll(request: Request) -> Response:
    """GET /api/render/proxy/lambda/{render_id} (B-REN-05/09)."""
    renders = backend_of(request).renders
    account = authenticate(request)
    job = await renders.observe(renders.owned(account, request.path_params["render_id"]))
    return plain(request, render_body(request, job))


async def cancel(request: Request) -> Response:
    """POST /api/render/proxy/lambda/{render_id}/cancel (B-REN-12, U-14)."""
    renders = backend_of(request).renders
    account = authenticate(request)
    job = renders.cancel(renders.owned(account, request.path_params["render_id"]))
    return plain(request, render_body(request, job))


async def download(request: Request) -> Response:
    """GET /api/render/proxy/{render_id}/download: the file itself (B-REN-13); 409 before completion."""
    renders = backend_of(request).renders
    account = authenticate(request)
    job = await renders.observe(renders.owned(account, request.path_params["render_id"]))
    if job.status != "completed" or not job.output_path.exists():
        raise conflict(f"Render {job.id} is {job.status}: download once it is completed")
    note_code(request, 0)
    return FileResponse(job.output_path, media_type="video/mp4", filename=f"{job.output_path.stem}.mp4")


async def legacy_submit(request: Request) -> Response:
    """POST /api/render/proxy/draft, the pre-762a39f path (B-REN-17), behind an option."""
    return await submit(request)
