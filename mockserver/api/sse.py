"""POST /run_sse: one turn of the backend agent as a Server-Sent-Events stream (B-SSE-*, B-ADK-*)."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from mockserver.api.common import authenticate, backend_of, note_code, read_json
from mockserver.api.requests import RunRequest
from mockserver.errors import ApiError
from mockserver.operations import Operation

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
        chunks = self.op.stream()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (OSError, ClientDisconnect):
            # A server that raises on a send to a gone client: the turn runs on without it (B-SSE-14).
            self.op.detach()
        finally:
            await chunks.aclose()


async def run_sse(request: Request) -> Response:
    backend = backend_of(request)
    account = authenticate(request)  # U-09: 1001 as JSON before any stream
    run = RunRequest.from_body(await read_json(request))
    backend.resolve_user(account, run.user_id)  # B-SSE-03
    try:
        session = backend.sessions.owned(account, run.session_id)
    except ApiError:
        if backend.settings.dialect == "adk":  # B-ADK-07
            note_code(request, 404)
            return JSONResponse({"detail": f"Session not found: {run.session_id:.64}"}, status_code=404)
        raise
    rule = backend.faults.take("POST", request.url.path, ("sse",)) if backend.faults else None
    op = backend.start_turn(account, session, run.text, rule.value if rule else None)
    note_code(request, 0)
    return EventStream(op)
