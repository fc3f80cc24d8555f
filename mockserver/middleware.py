"""One pure-ASGI middleware for the per-request chores: fault rules, the journal, the request log.

Kept in one pass and cheap on purpose: per-request work here shows directly in throughput.
A client that leaves before its answer started (mid-upload, say) is journalled and logged as
499, nginx's "client closed request", instead of surfacing as a server error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from time import perf_counter
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.backend import Backend
from mockserver.breakage import break_connection
from mockserver.faults import BODILESS_STATUSES, REQUEST_EFFECTS, flapped
from mockserver.journal import BATCH, StreamEntry, bounded
from mockserver.masking import mask_text

access_log = logging.getLogger("nemo-mock.access")
CONTROL_PREFIX = "/_mock"
#: Journalled and logged when the client left before any answer started.
CLIENT_CLOSED = 499
#: The log line shows at most this much of a path.
LOG_PATH_CHARS = 200
#: A rule matching on a JSON body field reads at most this much of the body (larger: no match).
MATCH_BODY_BYTES = 1 << 20
#: A key an event stream adds to its `http.response.start` message (servers ignore unknown keys):
#: the journal enters the stream open at once instead of when it ends.
STREAM_MARK = "nemo.stream"
#: Paths whose handlers note their own status (`api.common.note_answer`), except file downloads.
NOTING_PREFIX = "/api/"
FILE_SUFFIX = "/download"


class RequestChores:
    """Fault rules, the journal and the log line, around every request.

    The common case (no rule armed) is kept to a clock read, one plain function noting the
    status on its way to `send` and one tuple appended to the journal: this path is what the
    throughput benchmark measures.
    """

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend
        # All of these live as long as the backend (a reset clears them in place).
        self.rules = backend.faults.rules
        self.journal = backend.journal
        #: The journal's waiting list, appended to here directly (`Journal.note` without the call:
        #: this is every request's path); None with `--journal off`.
        self.pending = backend.journal.pending if backend.settings.journal else None
        self.now = backend.clock.now
        self.log = backend.settings.access_log
        #: Nothing to note after the app (`--journal off --quiet`): requests pass straight through.
        self.bare = not backend.settings.journal and not self.log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.bare and not self.rules):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.rules or not path.startswith(NOTING_PREFIX) or path.endswith(FILE_SUFFIX):
            await self._watched(scope, receive, send)
            return
        # An API call: its handler answers with `api.common.note_answer`, which notes the status
        # with the code and the body, so `send` goes to the server unwrapped (a wrapper called
        # for every message showed in the request rate). Status 0 tells the journal to read it there.
        # The entry is handed over after the handler returns, a moment after the client may hold
        # the answer: `backend.answering` counts these calls for `LiveServer.wait_idle`.
        at = self.now()
        began = perf_counter() if self.log else 0.0
        status = 0
        backend = self.backend
        backend.answering += 1
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            status = CLIENT_CLOSED  # the body stopped coming before any answer (the reader raised)
        finally:
            self._enter(scope, status, at)
            backend.answering -= 1
            if self.log:
                state = scope.get("state") or {}
                status = status or state.get("nemo_status") or 500
                self._log(
                    "request", scope, status, state.get("nemo_code"), state.get("nemo_session"), at, began
                )

    async def _watched(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Any other request (pages, files, streams, control calls, and every request while a
        fault rule is armed): the status is noted on its way to `send`."""
        at = self.now()
        began = perf_counter() if self.log else 0.0
        status = 0  # no answer started yet
        stream: StreamEntry | None = None
        streamed = entered = False

        def send_and_note(message: Message) -> Awaitable[None]:
            # A plain function handing back send's own awaitable: noting the status costs no
            # coroutine per message (an `async def` wrapper showed in the request rate).
            nonlocal status, stream, streamed, entered
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                if STREAM_MARK in message:  # an event stream: entered now, completed when it ends
                    streamed = True
                    stream = self._opened(scope, status, at)
            elif kind == "http.response.body" and not message.get("more_body"):
                # Entered (a stream: completed) before the last part goes out: a client that holds
                # the whole answer finds it in the journal, even while the app still has work after
                # its answer (a file response closes its file on a worker thread, a stream its
                # event source).
                entered = True
                if streamed:
                    self._closed(scope, stream)
                else:
                    self._enter(scope, status, at)
            return send(message)

        try:
            if self.rules and not scope["path"].startswith(CONTROL_PREFIX):
                await self._with_faults(scope, receive, send_and_note)
            else:
                await self.app(scope, receive, send_and_note)
        except ClientDisconnect:
            # Nobody is left to answer: no traceback, no 500 (the server sends nothing either).
            if not status:
                status = CLIENT_CLOSED
        finally:
            if not status:
                status = 500  # what the server answers when the app raised before answering
            if not entered:  # the app raised, the client left, or a fault broke the answer
                if streamed:
                    self._closed(scope, stream)
                else:
                    self._enter(scope, status, at)
            if self.log:
                state = scope.get("state") or {}
                event = "stream-end" if streamed else "request"
                self._log(event, scope, status, state.get("nemo_code"), state.get("nemo_session"), at, began)

    def _enter(self, scope: Scope, status: int, at: float) -> None:
        """Hand a finished request to the journal, which reads the rest from the scope later."""
        pending = self.pending
        if pending is not None:
            pending.append((scope, status, at))
            if len(pending) >= BATCH or self.journal.listeners:
                self.journal.flush()

    def _closed(self, scope: Scope, stream: StreamEntry | None) -> None:
        """An event stream ended: complete its journal entry."""
        if stream is not None:
            state = scope.get("state") or {}
            self.journal.complete(stream, state.get("nemo_code"), state.get("nemo_reply"), self.now())

    def _opened(self, scope: Scope, status: int, at: float) -> StreamEntry | None:
        """A stream's answer started: enter it in the journal (open) and log a line."""
        state = scope.get("state") or {}
        code, session = state.get("nemo_code"), state.get("nemo_session")
        entry = None
        if self.backend.settings.journal:
            client = scope.get("client")
            entry = self.journal.open_stream(
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                status,
                code,
                scope["headers"],
                at,
                client[0] if client else None,
                session,
                state.get("nemo_body"),
            )
        if self.log:
            self._log("stream-open", scope, status, code, session, at, None)
        return entry

    def _log(
        self,
        event: str,
        scope: Scope,
        status: int,
        code: int | None,
        session: str | None,
        at: float,
        began: float | None,
    ) -> None:
        """One log line (`mockserver.logformat` shapes it): a request's end, a stream's opening or end."""
        path = mask_text(scope["path"][:LOG_PATH_CHARS])
        latency_ms = None if began is None else round((perf_counter() - began) * 1000, 3)
        access_log.info(
            "%s %s %s code=%s t=%.3f session=%s%s%s",
            scope["method"],
            path,
            status,
            "-" if code is None else code,
            at,
            "-" if session is None else mask_text(session),
            "" if latency_ms is None else f" {latency_ms:.1f}ms",
            "" if event == "request" else f" [{event}]",
            extra={
                "nemo": {
                    "event": event,
                    "virtual": round(at, 3),
                    "latency_ms": latency_ms,
                    "latency_virtual_s": round(self.now() - at, 3),
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "code": code,
                    "session": None if session is None else mask_text(session),
                }
            },
        )

    async def _with_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Ask `faults.fire` whether a request-level rule fires, and carry out what it says."""
        faults = self.backend.faults
        body: object = None
        if faults.needs_body:
            receive, body = await _read_body(receive)
        method, path, headers = scope["method"], scope["path"], scope["headers"]
        fired = faults.fire(REQUEST_EFFECTS, method, path, headers, body, self.now())
        if fired is None:
            await self.app(scope, receive, send)
            return
        effect, action = fired.rule.effect, fired.action
        if effect == "delay_ms":
            await self.backend.clock.sleep(action / 1000.0)
        elif effect == "latency":
            await self.backend.clock.sleep(action)
        elif effect == "respond":
            await self._respond(scope, action, send)
            return
        elif effect == "statuses" and not 200 <= action < 300:
            await self._respond(scope, flapped(action), send)
            return
        elif effect == "connection":
            data = action if isinstance(action, bytes) else b""
            await break_connection(scope, receive, send, fired.rule.value, data)
            return
        await self.app(scope, receive, send)

    async def _respond(self, scope: Scope, effect: dict[str, Any], send: Send) -> None:
        """A `respond` fault: the given status and JSON instead of the handler; no state changes.

        The rule was checked when armed (`faults.parse_rule`): a final status, header values
        without CR/LF, no body for 204/205/304.
        """
        status = effect["status"]
        payload = effect.get("json")
        code = payload.get("code") if isinstance(payload, dict) else None
        state = scope.setdefault("state", {})
        state["nemo_code"] = code if _is_code(code) else None
        extra = {name.lower(): value for name, value in effect.get("headers", {}).items()}
        if status in BODILESS_STATUSES:
            body = b""
            headers = [] if status != 205 else [(b"content-length", b"0")]
        else:
            body = json.dumps(payload, ensure_ascii=False).encode()
            content_type = extra.pop("content-type", "application/json")
            headers = [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", b"%d" % len(body)),
            ]
        state["nemo_reply"] = bounded(body) if body else None
        extra.pop("content-type", None)
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> tuple[Receive, object]:
    """The request body as JSON (None if it is not a JSON object), and a `receive` that replays it."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MATCH_BODY_BYTES:
            break  # too big to match on: the rest is read by the app as it comes, never held here
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body: object = None
    if size <= MATCH_BODY_BYTES:
        try:
            body = json.loads(b"".join(chunks))
        except ValueError:
            body = None

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, body


def _is_code(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
