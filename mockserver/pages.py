"""GET / (what this server is) and GET /openapi.json (the contract it serves)."""

from __future__ import annotations

import html
import json
from functools import lru_cache

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from contracts import OPENAPI_PATH
from mockserver import __version__
from mockserver.api.common import backend_of, note_code


@lru_cache(maxsize=1)
def openapi_document() -> str:
    return json.dumps(yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8")))


async def openapi(request: Request) -> Response:
    note_code(request, None)
    return Response(openapi_document(), media_type="application/json")


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
