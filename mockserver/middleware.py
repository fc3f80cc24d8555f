"""One pure-ASGI middleware for the per-request chores: fault rules, the journal, the request log.

Kept in one pass and cheap on purpose: per-request work here shows directly in throughput.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.backend import Backend
from mockserver.journal import JournalEntry

access_log = logging.getLogger("nemo-mock.access")
CONTROL_PREFIX = "/_mock"


class RequestChores:
    """Fault rules, the journal and the log line, around every request.

    The common case (no rule armed) is kept to a clock read, one small wrapper around `send`
    and one tuple appended to the journal: this path is what the throughput benchmark measures.
    """

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend
        # All of these live as long as the backend (a reset clears them in place).
        self.rules = backend.faults.rules
        self.record = backend.journal.record
        self.now = backend.clock.now
        self.log = backend.settings.access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        at = self.now()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.rules and not scope["path"].startswith(CONTROL_PREFIX):
                await self._with_faults(scope, receive, send_and_note)
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            state = scope.get("state")
            code = state.get("nemo_code") if state else None
            client = scope.get("client")
            self.record(
                JournalEntry(
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    status,
                    code,
                    # A tuple, so the entry holds only atoms: the collector untracks it instead
                    # of rescanning 10,000 kept entries (that showed in the request rate).
                    tuple(scope["headers"]),
                    at,
                    client[0] if client else None,
                )
            )
            if self.log:
                access_log.info(
                    "%s %s %s code=%s t=%.3f",
                    scope["method"],
                    scope["path"],
                    status,
                    "-" if code is None else code,
                    at,
                )

    async def _with_faults(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self.backend.faults.take(scope["method"], scope["path"], ("respond", "delay_ms"))
        if rule is not None and rule.effect == "delay_ms":
            await self.backend.clock.sleep(rule.value / 1000.0)
            rule = None
        if rule is not None:
            await self._respond(scope, rule.value, send)
        else:
            await self.app(scope, receive, send)

    async def _respond(self, scope: Scope, effect: dict[str, Any], send: Send) -> None:
        """A `respond` fault: the given status and JSON instead of the handler; no state changes."""
        body = json.dumps(effect.get("json")).encode()
        payload = effect.get("json")
        code = payload.get("code") if isinstance(payload, dict) else None
        scope.setdefault("state", {})["nemo_code"] = code if isinstance(code, int) else None
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(str(k).lower().encode(), str(v).encode()) for k, v in effect.get("headers", {}).items()]
        await send({"type": "http.response.start", "status": effect["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})
