"""The Jinja2 environment (autoescape on: every value a page shows is escaped) and the packaged assets."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from mockserver.api.common import note_code

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("mockserver.web", "templates"),
    autoescape=True,  # titles, chat and headers come from users: never trusted as HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=ENV)

#: Served assets by name, with their media types; read from the package once, on first use.
ASSET_TYPES = {
    "web.css": "text/css; charset=utf-8",
    "workspace.js": "text/javascript; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
}
_assets: dict[str, bytes] = {}


def asset(name: str) -> bytes | None:
    if name not in ASSET_TYPES:
        return None
    if name not in _assets:
        _assets[name] = resources.files("mockserver.web").joinpath("static", name).read_bytes()
    return _assets[name]


def asset_response(name: str) -> Response:
    body = asset(name)
    if body is None:
        return HTMLResponse("<!doctype html><title>Not found</title><p>No such asset.</p>", status_code=404)
    return Response(body, media_type=ASSET_TYPES[name], headers={"Cache-Control": "no-cache"})


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """An HTML page; the journal notes no business code for it (it is no API envelope)."""
    note_code(request, None)
    response = templates.TemplateResponse(request, template, context, status_code=status)
    # The pages load nothing from elsewhere: say so, so that an injected tag could not either.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Live state: a refusal (410, 404: cacheable by default) must not stand in for a later answer.
    response.headers["Cache-Control"] = "no-store"
    return response


def when(at: float) -> str:
    """A virtual time as the pages write it."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
