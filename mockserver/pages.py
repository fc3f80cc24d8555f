"""GET / (what this server is) and GET /openapi.json (the contract it serves)."""

from __future__ import annotations

import html
import json

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from mockserver import __version__
from mockserver.api.common import backend_of, note_code
from mockserver.served_openapi import served_document


async def openapi(request: Request) -> Response:
    """The contract as this server keeps it: its error mode, render shape, profile and URL."""
    note_code(request, None)
    base_url = str(request.base_url)
    state = request.app.state
    if not hasattr(state, "served_openapi"):
        state.served_openapi = {}  # one document per URL the server is reached at
    cache: dict[str, bytes] = state.served_openapi
    if base_url not in cache:
        document = served_document(backend_of(request).settings, base_url)
        cache[base_url] = json.dumps(document).encode()
    return Response(cache[base_url], media_type="application/json")


async def index(request: Request) -> Response:
    note_code(request, None)
    backend = backend_of(request)
    s = backend.settings
    facts = {
        "profile": f"{backend.profile.name} {backend.profile.version or ''}".strip(),
        "dialect": s.dialect,
        "seed": s.seed,
        "time scale": s.time_scale,
        "render shape": s.render_shape,
        "business errors": "HTTP 200 + body code" if s.error_status == "body" else "mapped HTTP statuses",
        "upload cap": f"{backend.profile.upload_cap_bytes // (1024 * 1024)} MB"
        if backend.profile.upload_cap_bytes
        else "none",
        "control API": "/_mock (health, reset, clock, accounts, faults, journal)" if s.control else "off",
    }
    if "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get(
        "accept", ""
    ):
        return JSONResponse(
            {"name": "nemo-mock", "version": __version__, **facts, "openapi": "/openapi.json"}
        )
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items()
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>nemo-mock</title></head><body>
<h1>nemo-mock {__version__}</h1>
<p>An offline twin of the NemoVideo backend: the documented API on the documented paths, with
scripted agent replies, a virtual clock and real MP4 renders. Not the real service.</p>
<table>{rows}</table>
<p>Contract: <a href="/openapi.json">/openapi.json</a>.
Control API: <code>GET /_mock/health</code>, <code>POST /_mock/reset</code>, <code>GET /_mock/clock</code>,
<code>POST /_mock/clock/advance</code>, <code>POST /_mock/accounts</code>,
<code>POST|DELETE /_mock/faults</code>,
<code>GET /_mock/journal</code>.</p></body></html>"""
    return HTMLResponse(page)
