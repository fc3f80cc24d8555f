"""What every handler shares: the backend lookup, JSON in and out, auth, the code for the journal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mockserver import strictjson
from mockserver.backend import Backend
from mockserver.errors import ApiError, bad_request, token_invalid
from mockserver.journal import BODY_LIMIT, bounded
from mockserver.state.accounts import Account

ATTRIBUTION_HEADERS = ("x-skill-source", "x-skill-version", "x-skill-platform")
#: Nesting of a JSON body at most (a render submit's draft is about 8 deep).
MAX_JSON_DEPTH = 64
#: Refusals after which the rest of the request is not worth reading: the connection closes.
CLOSE = {"Connection": "close"}


#: Starlette's JSON encoding (compact, UTF-8 as is, no NaN), by one encoder made once.
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
#: The same encoding by the C encoder that `JSONEncoder.encode` builds anew on every call, built
#: once (without the circular-reference check: answers are built from plain state, never cyclic).
_c_encode = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def _encode_json(content: Any) -> str:
    if _c_encode is None:
        return _encoder.encode(content)
    return "".join(_c_encode(content, 0))


class JsonAnswer(Response):
    """A JSON answer: the bytes and headers of Starlette's JSONResponse for less work (one encoder
    made once, not one per answer; the two headers written directly when no others are given).
    Every answer of the API pays this, so it shows in the request rate (bench/README.md)."""

    media_type = "application/json"

    def __init__(
        self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        body = _encode_json(content).encode()
        if headers or status_code < 200 or status_code in (204, 304):
            super().__init__(body, status_code, headers)
            return
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]


def backend_of(request: Request) -> Backend:
    """The backend of the app serving `request` (`app.MockApp`; Starlette puts the app in the scope)."""
    backend: Backend = request.scope["app"].backend
    return backend


def note_code(request: Request, code: int | None) -> None:
    """Remember the body `code` for the journal and the request log."""
    request.scope.setdefault("state", {})["nemo_code"] = code


def note_session(request: Request, session_id: str) -> None:
    """Remember which session the request concerned, for the journal and the request log."""
    request.scope.setdefault("state", {})["nemo_session"] = session_id


def note_body(request: Request, body: bytes | str) -> None:
    """Remember the request body (or, for a multipart upload, a line describing it) for the journal,
    its first `BODY_LIMIT` bytes: the journal keeps no more, so nothing holds more until it does."""
    request.scope.setdefault("state", {})["nemo_body"] = bounded(body)


def note_answer(request: Request, code: int | None, answer: JsonAnswer) -> JsonAnswer:
    """Remember the answer's status, business code and body for the journal and the log.

    The handler notes its own answer here, where the body already exists as bytes, instead of the
    middleware collecting it from `send`: every API call pays this, so it shows in the request rate."""
    state = request.scope.setdefault("state", {})
    state["nemo_status"] = answer.status_code
    state["nemo_code"] = code
    body: bytes = answer.body  # type: ignore[assignment]  # JsonAnswer's body is bytes
    state["nemo_reply"] = body if len(body) <= BODY_LIMIT else bounded(body)
    return answer


def ok(request: Request, data: Any, status: int = 200) -> Response:
    """The success envelope `{"code": 0, "data": ...}` (B-ENV-06)."""
    return note_answer(request, 0, JsonAnswer({"code": 0, "message": "success", "data": data}, status))


def plain(request: Request, body: Any, status: int = 200, code: int | None = 0) -> Response:
    """A body outside the envelope (render answers, B-REN-06/07)."""
    return note_answer(request, code, JsonAnswer(body, status))


def error_response(request: Request, error: ApiError) -> Response:
    mapped = backend_of(request).settings.error_status == "mapped"
    return note_answer(
        request, error.code, JsonAnswer(error.body(), error.http_status(mapped), error.headers)
    )


async def body_chunks(request: Request) -> AsyncIterator[bytes]:
    """The request body as it arrives, each wait bounded by the body timeout (HTTP 408 past it).

    A client that stops sending (a body shorter than its Content-Length) would otherwise hold
    the request open for ever. A client that leaves raises `ClientDisconnect` (journalled 499).
    """
    timeout = backend_of(request).settings.body_timeout_s
    receive = request.receive
    while True:
        try:
            async with asyncio.timeout(timeout):
                message = await receive()
        except TimeoutError:
            raise ApiError(
                408,
                f"The request body stopped arriving: nothing for {timeout:g} s",
                status=408,
                headers=CLOSE,
            ) from None
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def declared_length(request: Request) -> int | None:
    """The Content-Length the client declared, if it declared one that parses."""
    value = raw_header(request, b"content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def too_large(limit: int) -> ApiError:
    """HTTP 413 (the envelope's code is the status, as for 400/409/429: U-03); the connection closes."""
    return ApiError(413, f"Request body too large: the limit is {limit:,} bytes", status=413, headers=CLOSE)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is known to exceed `limit` bytes: by its
    Content-Length before anything is read, else by a running count, never after buffering it."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in body_chunks(request):
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def parse_json(raw: bytes) -> Any:
    """JSON as RFC 8259 has it: UTF-8, finite numbers, no lone surrogates, at most
    `MAX_JSON_DEPTH` levels deep; anything else is HTTP 400 with a message saying what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(f"Malformed JSON: the body is not UTF-8 (byte {exc.start})") from None
    try:
        value = strictjson.loads(text)
    except RecursionError:
        raise bad_request(f"Malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise bad_request(f"Malformed JSON: {exc}") from None
    # Cheap tests first: only a body that could be too deep, or could hold an escaped
    # surrogate, is walked.
    deep = raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
    if deep or strictjson.SURROGATE_ESCAPE.search(text):
        _check_tree(value)
    return value


def _check_tree(root: Any) -> None:
    """Depth and text of a parsed document, walked without recursion."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise bad_request(f"Malformed JSON: nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("Malformed JSON: a string holds a lone UTF-16 surrogate (U+D800-U+DFFF)") from None


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object body, or HTTP 400 with a message saying what is wrong (U-12); 413 when too large."""
    raw = await read_body(request, backend_of(request).settings.max_json_body)
    note_body(request, raw)
    if not raw.strip():
        if required:
            raise bad_request("A JSON body is required")
        return {}
    body = parse_json(raw)
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
    backend: Backend = request.scope["app"].backend  # backend_of, inlined: every API call is here
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
