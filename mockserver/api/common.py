"""What every handler shares: the backend lookup, JSON in and out, auth, the code for the journal."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockserver.backend import Backend
from mockserver.errors import ApiError, bad_request, token_invalid
from mockserver.state.accounts import Account

ATTRIBUTION_HEADERS = ("x-skill-source", "x-skill-version", "x-skill-platform")
MAX_JSON_BODY = 8 * 1024 * 1024


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def note_code(request: Request, code: int | None) -> None:
    """Remember the body `code` for the journal and the request log."""
    request.scope.setdefault("state", {})["nemo_code"] = code


def ok(request: Request, data: Any, status: int = 200) -> Response:
    """The success envelope `{"code": 0, "data": ...}` (B-ENV-06)."""
    note_code(request, 0)
    return JSONResponse({"code": 0, "message": "success", "data": data}, status_code=status)


def plain(request: Request, body: Any, status: int = 200, code: int | None = 0) -> Response:
    """A body outside the envelope (render answers, B-REN-06/07)."""
    note_code(request, code)
    return JSONResponse(body, status_code=status)


def error_response(request: Request, error: ApiError) -> Response:
    note_code(request, error.code)
    mapped = backend_of(request).settings.error_status == "mapped"
    return JSONResponse(error.body(), status_code=error.http_status(mapped), headers=error.headers)


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object body, or HTTP 400 with a message saying what is wrong (U-12)."""
    raw = await request.body()
    if len(raw) > MAX_JSON_BODY:
        raise bad_request("JSON body too large")
    if not raw.strip():
        if required:
            raise bad_request("A JSON body is required")
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_request("The JSON body must be an object")
    return body


def attribution_present(request: Request) -> bool:
    """Whether the call says which skill sent it (B-ATTR-01/07)."""
    return bool(request.headers.get("x-skill-source", "").strip())


def raw_header(request: Request, name: bytes) -> str | None:
    """One header straight from the ASGI scope: every authenticated call reads Authorization, and
    building Starlette's Headers for it shows in the request rate."""
    for key, value in request.scope["headers"]:
        if key == name or key.lower() == name:
            return value.decode("latin-1")
    return None


def authenticate(request: Request) -> Account:
    """The caller's account (B-AUTH-13/14); with strict attribution, no headers -> 1001 (B-ATTR-08)."""
    backend = backend_of(request)
    account = backend.authenticate(raw_header(request, b"authorization"))
    if backend.settings.strict_attribution and not attribution_present(request):
        raise token_invalid(
            "Unauthorized: missing X-Skill-Source / X-Skill-Version / X-Skill-Platform headers"
        )
    return account


def text_field(body: dict[str, Any], name: str, *, required: bool = True, max_len: int = 256) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request(f"`{name}` is required")
        return None
    if not isinstance(value, str):
        raise bad_request(f"`{name}` must be a string")
    if len(value) > max_len:
        raise bad_request(f"`{name}` is longer than {max_len} characters")
    return value
