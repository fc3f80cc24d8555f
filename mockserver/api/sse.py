"""POST /run_sse: one turn of the backend agent as a Server-Sent-Events stream (B-SSE-*, B-ADK-*)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mockserver import breakage
from mockserver.api.common import (
    JsonAnswer,
    authenticate,
    backend_of,
    note_answer,
    note_code,
    note_session,
    read_json,
)
from mockserver.api.requests import RunRequest
from mockserver.errors import ApiError
from mockserver.faults import StreamFault
from mockserver.journal import BODY_LIMIT, bounded
from mockserver.middleware import STREAM_MARK
from mockserver.operations import Operation
from mockserver.wire import GARBAGE_BLOCK, cut_inside

#: U-05: no event:/id:/retry: fields; headers that keep proxies from buffering.
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EventStream(Response):
    """A text/event-stream answer fed by one operation, sent from the request's own task.

    A general SSE library runs several tasks per stream (a disconnect listener, pings on the
    real clock); the mock emits its own heartbeats on the virtual clock, and a client that
    leaves only turns the sends into no-ops while the operation runs on (B-SSE-14). So one
    task per stream is enough, which is what lets one process hold 10,000 of them.
    """

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.status_code = 200
        self.background = None
        self.raw_headers = list(STREAM_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kept: list[bytes] = []  # what the journal keeps of the stream: its first BODY_LIMIT bytes
        size = 0

        def send_and_keep(message: Message) -> Awaitable[None]:
            nonlocal size
            if message["type"] == "http.response.body":
                if size < BODY_LIMIT:
                    chunk = message.get("body", b"")
                    kept.append(chunk)
                    size += len(chunk)
                if not message.get("more_body"):  # noted before the last part goes out (middleware)
                    scope.setdefault("state", {})["nemo_reply"] = bounded(b"".join(kept))
            return send(message)

        try:
            await self._stream(scope, receive, send_and_keep)
        finally:  # a stream cut short (a fault, a gone client) ends here
            scope.setdefault("state", {})["nemo_reply"] = bounded(b"".join(kept))

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = self.op.stream()
        shape = self.op.shape
        headers = self.raw_headers
        if shape is not None and shape.kind == "truncate":
            # Announced, so that no client sends its next request on a connection about to close.
            headers = [*headers, (b"connection", b"close")]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers, STREAM_MARK: True})
            if shape is not None and shape.on_wire:
                await FaultedWriter(self.op, shape, scope, receive, send).run(chunks)
                return
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, ClientDisconnect):
            # A server that raises on a send to a gone client: the turn runs on without it (B-SSE-14).
            self.op.detach()
        finally:
            await chunks.aclose()


class FaultedWriter:
    """Writes a stream the way its `sse` fault says (`faults.StreamFault`, decided in `faults.py`).

    `chunks` yields one encoded event at a time; K counts them from 1.
    """

    def __init__(self, op: Operation, shape: StreamFault, scope: Scope, receive: Receive, send: Send) -> None:
        self.op = op
        self.shape = shape
        self.scope = scope
        self.receive = receive
        self.send = send

    async def body(self, data: bytes) -> None:
        shape = self.shape
        if shape.kind != "slow":
            await self.send({"type": "http.response.body", "body": data, "more_body": True})
            return
        # B bytes per virtual second, in pieces of a quarter second each (at least one byte).
        piece = max(1, shape.b // 4)
        for start in range(0, len(data), piece):
            part = data[start : start + piece]
            await self.send({"type": "http.response.body", "body": part, "more_body": True})
            await self.op.clock.sleep(len(part) / shape.b)

    async def run(self, chunks: AsyncIterator[bytes]) -> None:
        shape, op = self.shape, self.op
        if shape.kind == "reset" and shape.k == 0:
            await self.reset()
            return
        held: list[bytes] = []
        count = 0
        async for chunk in chunks:
            count += 1
            if shape.kind == "stall" and count > shape.k and op.quiet_until is not None:
                await op.clock.sleep_until(op.quiet_until)
            if shape.kind == "buffered":
                held.append(chunk)  # a buffering proxy: nothing until the upstream ends
                continue
            if shape.kind == "truncate" and count == shape.k:
                await self.body(cut_inside(chunk))
                await self.close()
                return
            await self.body(chunk)
            if count == shape.k and shape.kind == "duplicate":
                await self.body(chunk)
            elif count == shape.k and shape.kind == "garbage":
                await self.body(GARBAGE_BLOCK)
            elif count == shape.k and shape.kind == "reset":
                await self.reset()
                return
        if held:
            await self.body(b"".join(held))
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def close(self) -> None:
        """End the body cleanly; the server then closes the connection, as its head said (the
        turn runs on: B-SSE-14)."""
        self.op.detach()
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def reset(self) -> None:
        """Abort the connection: no chunked terminator, the client reads a body cut short."""
        self.op.detach()
        transport = breakage.transport_of(self.scope)
        if transport is None:
            raise breakage.ConnectionBroken("sse reset: no socket to abort (in-process client)")
        transport.abort()
        await breakage.wait_gone(self.receive)


async def run_sse(request: Request) -> Response:
    backend = backend_of(request)
    account = authenticate(request)  # U-09: 1001 as JSON before any stream
    payload = await read_json(request)
    run = RunRequest.from_body(payload)
    note_session(request, run.session_id)
    backend.resolve_user(account, run.user_id)  # B-SSE-03
    try:
        session = backend.sessions.owned(account, run.session_id)
    except ApiError:
        if backend.settings.dialect == "adk":  # B-ADK-07
            missing = JsonAnswer({"detail": f"Session not found: {run.session_id:.64}"}, 404)
            return note_answer(request, 404, missing)
        raise
    fired = None
    if backend.faults:
        fired = backend.faults.fire(
            ("sse",), "POST", request.url.path, request.headers.raw, payload, backend.clock.now()
        )
    op = backend.start_turn(account, session, run.text, fired.rule.value if fired else None)
    note_code(request, 0)
    return EventStream(op)
