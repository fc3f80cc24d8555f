"""Small ASGI wrappers that change what the mock says on the wire, for the planted bugs.

Each wrapper takes a `Match` (method and path) and touches only matching requests: rewrite a
JSON answer, rewrite response headers, rewrite the chunks of a stream, rewrite request headers
or a JSON request body, or answer malformed JSON with a 500. The mock itself is never edited.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]
#: The blank line that ends an SSE event, with any of the three line endings (kept by split).
EVENT_END = re.compile(rb"(\r\n\r\n|\n\n|\r\r)")


@dataclass(frozen=True, slots=True)
class Match:
    """Which requests a wrapper touches: a method (or any) and a path, exact or `prefix*`."""

    method: str | None
    path: str

    def __call__(self, scope: Scope) -> bool:
        if scope["type"] != "http" or (self.method and scope["method"] != self.method):
            return False
        path: str = scope["path"]
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        if "{}" in self.path:
            head, _, tail = self.path.partition("{}")
            return path.startswith(head) and path.endswith(tail) and len(path) > len(head) + len(tail)
        return path == self.path


def header(scope_or_headers: Scope | Headers, name: str) -> str | None:
    """A header's value from a scope's request headers or a response's header list."""
    raw: Headers = scope_or_headers if isinstance(scope_or_headers, list) else scope_or_headers["headers"]
    key = name.lower().encode()
    for k, v in raw:
        if k.lower() == key:
            return v.decode("latin-1")
    return None


def bearer(scope: Scope) -> str:
    """The token of the request's Authorization header ('' when none)."""
    value = header(scope, "authorization") or ""
    return value.partition(" ")[2].strip()


JsonEdit = Callable[[Any, Scope], Any]


class JsonRewrite:
    """Rewrite the JSON answers of matching requests: `edit(body, scope)` returns the new body."""

    def __init__(self, app: ASGIApp, match: Match, edit: JsonEdit) -> None:
        self.app = app
        self.match = match
        self.edit = edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.match(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if "json" not in (header(message["headers"], "content-type") or ""):
                    start = None
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            with contextlib.suppress(ValueError):  # not JSON after all: sent as it was
                body = json.dumps(self.edit(json.loads(body), scope)).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


class HeaderRewrite:
    """Rewrite the response headers of matching requests."""

    def __init__(self, app: ASGIApp, match: Match, edit: Callable[[Headers], Headers]) -> None:
        self.app = app
        self.match = match
        self.edit = edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.match(scope):
            await self.app(scope, receive, send)
            return

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self.edit(list(message["headers"]))}
            await send(message)

        await self.app(scope, receive, rewrite)


def set_header(name: str, value: str | None) -> Callable[[Headers], Headers]:
    """A header edit: replace `name` (or drop it when `value` is None)."""
    key = name.lower().encode()

    def edit(headers: Headers) -> Headers:
        kept = [(k, v) for k, v in headers if k.lower() != key]
        return kept if value is None else [*kept, (key, value.encode())]

    return edit


class StreamRewrite:
    """Rewrite each event of matching event streams (however the server batches them), and add a tail.

    `edit(event)` gets one event with its blank line (`data: ...\n\n`) and returns the bytes to send.
    """

    def __init__(self, app: ASGIApp, match: Match, edit: Callable[[bytes], bytes], tail: bytes = b"") -> None:
        self.app = app
        self.match = match
        self.edit = edit
        self.tail = tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.match(scope):
            await self.app(scope, receive, send)
            return
        streaming = False
        pending = b""

        async def rewrite(message: Message) -> None:
            nonlocal streaming, pending
            if message["type"] == "http.response.start":
                streaming = "text/event-stream" in (header(message["headers"], "content-type") or "")
            elif message["type"] == "http.response.body" and streaming:
                pending += message.get("body", b"")
                events = EVENT_END.split(pending)
                pending = events.pop()  # what follows the last blank line: not complete yet
                body = b"".join(
                    self.edit(event + end) for event, end in zip(events[::2], events[1::2], strict=True)
                )
                if not message.get("more_body"):
                    body += pending + self.tail
                    pending = b""
                message = {**message, "body": body}
            await send(message)

        await self.app(scope, receive, rewrite)


class RequestHeaders:
    """Rewrite the request headers of matching requests before the mock sees them."""

    def __init__(self, app: ASGIApp, match: Match, edit: Callable[[Headers], Headers]) -> None:
        self.app = app
        self.match = match
        self.edit = edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.match(scope):
            scope = {**scope, "headers": self.edit(list(scope["headers"]))}
        await self.app(scope, receive, send)


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over `body` once, then waits on the real one (for a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class RequestJson:
    """Rewrite the JSON body of matching requests before the mock reads it: `edit(body, scope)`.

    The edit may also change `scope` (it is the mock's own copy), e.g. to leave a note for an
    inner wrapper that rewrites the answer. A body that is no JSON goes through as it was.
    """

    def __init__(self, app: ASGIApp, match: Match, edit: JsonEdit) -> None:
        self.app = app
        self.match = match
        self.edit = edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.match(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        scope = dict(scope)
        with contextlib.suppress(ValueError):
            body = json.dumps(self.edit(json.loads(body), scope)).encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
        await self.app(scope, replaying(body, receive), send)


class CrashOnMalformedJson:
    """Answer a JSON request whose body does not parse with a bare HTTP 500 (U-12 broken)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "json" not in (header(scope, "content-type") or ""):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            if body.strip():
                json.loads(body)
        except ValueError:
            await send(
                {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]}
            )
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        await self.app(scope, replaying(body, receive), send)
