"""One request and its answer as the checks see them, whichever HTTP client sent it, and its curl form.

Checks never see a `requests` or `httpx` object: the schemathesis phases (requests), the probes,
the stateful walk and the SSE reader (httpx) all turn what they sent and got into an `Exchange`.
The curl form reproduces the request with the bearer token masked (`nmv_usr_***`), so a report
can be pasted into a ticket without leaking a credential.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.spec import load_openapi

#: Token kinds a mask keeps visible: the kind tells a reader which credential it was (B-AUTH-04).
TOKEN_PREFIXES = ("nmv_usr_", "clm_")
#: Request headers worth showing in a reproduction; the rest is transport noise.
SHOWN_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "x-client-id",
    "x-skill-source",
    "x-skill-version",
    "x-skill-platform",
)
MAX_CURL_BODY = 2000
_NOT_JSON = object()


def mask_token(value: str) -> str:
    """`nmv_usr_3f9c…` -> `nmv_usr_***`; any other secret -> `***`."""
    for prefix in TOKEN_PREFIXES:
        if value.startswith(prefix):
            return prefix + "***"
    return "***" if value else ""


_TOKEN_TEXT = re.compile(r"\b(nmv_usr_|clm_)[A-Za-z0-9_-]+")


def mask_tokens(text: str) -> str:
    """Every user or claim token in `text` masked, whoever's it is."""
    return _TOKEN_TEXT.sub(lambda m: m.group(1) + "***", text)


def bearer_of(headers: dict[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Exchange:
    """A request sent to the target and the answer it got (the body may be a stream's prefix)."""

    operation: str | None  # operationId in openapi.yaml, None for paths outside the contract
    method: str
    url: str
    request_headers: dict[str, str]  # lower-case names
    request_body: bytes | None
    status: int
    headers: dict[str, str]  # response headers, lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def token(self) -> str | None:
        """The bearer token the request carried."""
        return bearer_of(self.request_headers)

    @property
    def media_type(self) -> str:
        """The response's media type without parameters, lower-case (`text/event-stream`)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @cached_property
    def _json(self) -> Any:
        if not self.body:
            return _NOT_JSON
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return _NOT_JSON

    @property
    def is_json(self) -> bool:
        return self._json is not _NOT_JSON

    @property
    def json(self) -> Any:
        """The parsed JSON body; None when the body is no JSON (see `is_json`)."""
        return None if self._json is _NOT_JSON else self._json

    @property
    def code(self) -> int | None:
        """The envelope `code` of a JSON object body, if it has an integer one."""
        body = self.json
        if (
            isinstance(body, dict)
            and isinstance(body.get("code"), int)
            and not isinstance(body["code"], bool)
        ):
            return int(body["code"])
        return None

    def curl(self) -> str:
        """The request as a curl command line, tokens masked."""
        parts = ["curl", "-X", self.method, self.url]
        for name in SHOWN_HEADERS:
            if name in self.request_headers:
                value = self.request_headers[name]
                if name == "authorization":
                    scheme, _, secret = value.partition(" ")
                    value = f"{scheme} {mask_token(secret.strip())}" if secret else mask_token(scheme)
                parts += ["-H", f"{_header_name(name)}: {value}"]
        content_type = self.request_headers.get("content-type", "")
        if self.request_body or "multipart/" in content_type:
            parts += ["--data-binary", _body_text(self.request_body or b"", content_type)]
        line = " ".join(shlex.quote(part) for part in parts)
        return self.mask(line)

    def mask(self, text: str) -> str:
        """`text` with the request's token, and anything shaped like a token, masked."""
        token = self.token
        if token and len(token) >= 8:
            text = text.replace(token, mask_token(token))
        return mask_tokens(text)

    # ------------------------------------------------------------------ builders

    @classmethod
    def from_httpx(
        cls, response: httpx.Response, operation_id: str | None = None, *, body: bytes | None = None
    ) -> Exchange:
        """From an httpx response; `body` for a stream read by hand (the response is then not read)."""
        request = response.request
        return cls(
            operation=operation_id
            if operation_id is not None
            else operation_for(request.method, request.url.path),
            method=request.method,
            url=str(request.url),
            request_headers={k.lower(): v for k, v in request.headers.items()},
            request_body=_httpx_request_body(request),
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.content if body is None else body,
        )

    @classmethod
    def from_schemathesis(cls, response: Any, operation_id: str | None = None) -> Exchange:
        """From the response `schemathesis.Case.call` returns (its request is a `requests` one)."""
        request = response.request
        raw = request.body
        if isinstance(raw, str):
            raw = raw.encode()
        headers = {
            name.lower(): ", ".join(values) if isinstance(values, list) else str(values)
            for name, values in response.headers.items()
        }
        return cls(
            operation=operation_id
            if operation_id is not None
            else operation_for(str(request.method), urlsplit(request.url).path),
            method=str(request.method),
            url=str(request.url),
            request_headers={k.lower(): str(v) for k, v in request.headers.items()},
            request_body=raw if isinstance(raw, bytes) else None,
            status=response.status_code,
            headers=headers,
            body=response.content or b"",
        )


def _header_name(name: str) -> str:
    return "-".join(word.upper() if word == "id" else word.capitalize() for word in name.split("-"))


def _body_text(body: bytes, content_type: str) -> str:
    if "multipart/" in content_type:
        return f"<multipart body, {len(body)} bytes>" if body else "<multipart body>"
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return f"<binary body, {len(body)} bytes>"
    if len(text) > MAX_CURL_BODY:
        return text[:MAX_CURL_BODY] + f"… ({len(text)} characters)"
    return text


def _httpx_request_body(request: httpx.Request) -> bytes | None:
    try:
        return request.content or None
    except httpx.RequestNotRead:
        return None


# ---------------------------------------------------------------------------- operation lookup


def _template_pattern(template: str) -> re.Pattern[str]:
    pieces = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if piece.startswith("{") else re.escape(piece) for piece in pieces)
    return re.compile(f"^{regex}$")


@cache
def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    routes = []
    for template, item in load_openapi()["paths"].items():
        for verb, op in item.items():
            if isinstance(op, dict) and isinstance(op.get("operationId"), str):
                routes.append((verb.upper(), _template_pattern(template), op["operationId"]))
    # Fewer placeholders first: /lambda/{id}/cancel must not be read as /{id}/download's sibling.
    routes.sort(key=lambda route: route[1].pattern.count("[^/]+"))
    return routes


def operation_for(method: str, path: str) -> str | None:
    """The operationId of the contract operation a method and concrete path belong to."""
    for verb, pattern, op_id in _routes():
        if verb == method.upper() and pattern.match(path):
            return op_id
    return None
