"""`nemo-mock replay FILE`: serve a recording back, so a client runs against exactly what happened.

Requests are matched to recorded exchanges by method and path, in the order they were recorded:
the second `GET /api/credits/balance/simple` gets the second recorded answer. The answer is the
recorded status, headers and body, byte for byte (tokens stay masked, URLs keep the recorded
host). Each request is held until the virtual moment it arrived at in the recording, and SSE events come in
their order, each at its recorded virtual offset from the request, on the replay's own virtual
clock, so `--time-scale` applies as it does to the mock (0: no waiting).
A recorded `POST /_mock/clock/advance` also advances the replay clock, so streams the recorded
client released early by advancing time are released early again.

A client that renders chooses a fresh render id each time (B-REN-03), so a replayed export
submits an id the recording never saw. The n-th render submit is taken for the n-th recorded one:
its id becomes an alias of the recorded id, later paths carrying it (polls, cancel, download, the
rendered file) are matched as the recorded ones, and the answers to such requests speak of the
client's id and the replay's own host. Requests that repeat the recording exactly are answered
byte for byte.

`GET /_mock/health`, when the recording holds none, answers with the replay's own time scale, so
a client that follows its server's pace (the time-scale handshake) follows the replay.

A request with no recorded exchange left gets HTTP 404 with the error envelope naming the
recording, the method and path, and how many such exchanges it holds. `GET /_replay/status`
tells what was served, what is left and what did not match.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from mockserver.clock import DEFAULT_START, VirtualClock
from mockserver.recording.model import Exchange, Recording, body_bytes, is_textual

STATUS_PATH = "/_replay/status"
HEALTH_PATH = "/_mock/health"
#: Where a render is submitted under an id of the client's choosing (B-REN-01, B-REN-17).
RENDER_SUBMITS = frozenset({("POST", "/api/render/proxy/lambda"), ("POST", "/api/render/proxy/draft")})
#: A request body read whole (render submits: a draft); anything longer is only drained.
MAX_READ_BODY = 4 * 1024 * 1024
#: Headers the replaying server sets itself (or that belong to the recorded connection).
NOT_REPLAYED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
        "date",
        "server",
    }
)


class ReplayApp:
    """An ASGI app answering from one recording."""

    def __init__(self, recording: Recording, *, time_scale: float = 1.0) -> None:
        self.recording = recording
        self.clock = VirtualClock(time_scale, start=recording.clock_start or DEFAULT_START)
        self.queues: dict[tuple[str, str], deque[Exchange]] = {}
        for exchange in recording.exchanges:
            self.queues.setdefault((exchange.method, exchange.path), deque()).append(exchange)
        self.recorded = {key: len(queue) for key, queue in self.queues.items()}
        self.served: list[int] = []
        self.unmatched: list[dict[str, str]] = []
        #: The client's render id -> the recorded one it stands for, in the order submitted.
        self.aliases: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        asked: str = scope["path"]
        body = await _read_body(receive)
        if method == "GET" and asked == STATUS_PATH:
            await _json(send, 200, self.status())
            return
        path = self._recorded_path(asked)
        queue = self.queues.get((method, path))
        if not queue and method == "GET" and path == HEALTH_PATH:
            await _json(send, 200, self.health())
            return
        if not queue:
            self.unmatched.append({"method": method, "path": asked})
            await _json(send, 404, self.unmatched_body(method, asked), [(b"x-nemo-replay", b"unmatched")])
            return
        exchange = queue.popleft()
        self.served.append(exchange.seq)
        adapted = self._learn_alias(method, path, body, exchange) or path != asked
        moved = self._clock_effects(exchange)
        adapt = self._adapter(scope) if adapted else None
        await self._serve(exchange, receive, send, wait=not moved, adapt=adapt)

    # ------------------------------------------------------------------ render ids

    def _recorded_path(self, path: str) -> str:
        """`path` with each render id of the client's put back as the recorded one."""
        for new, recorded in self.aliases.items():
            if new in path:
                path = path.replace(new, recorded)
        return path

    def _learn_alias(self, method: str, path: str, body: bytes, exchange: Exchange) -> bool:
        """A render submit under another id than the recorded one: remember it (True if so)."""
        if (method, path) not in RENDER_SUBMITS:
            return False
        new, recorded = _render_id(body), _render_id(body_bytes(exchange.request_body))
        if not new or not recorded or new == recorded:
            return False
        self.aliases[new] = recorded
        return True

    def _adapter(self, scope: Scope) -> Callable[[bytes], bytes]:
        """Answers to a request matched through an alias: the recorded ids and hosts read as the
        client's ids and this replay's host."""
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        own = f"{scope.get('scheme', 'http')}://{host}" if host else None
        swaps = [(recorded, new) for new, recorded in self.aliases.items()]
        if own is not None:
            swaps += [(origin, own) for origin in self.recording.origins() if origin != own]

        def adapt(data: bytes) -> bytes:
            text = data.decode("utf-8")
            for old, new in swaps:
                text = text.replace(old, new)
            return text.encode("utf-8")

        return adapt

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "replay": self.recording.name, "time_scale": self.clock.time_scale}

    # ------------------------------------------------------------------ answers

    def status(self) -> dict[str, Any]:
        left = [
            {"seq": e.seq, "method": e.method, "path": e.path}
            for queue in self.queues.values()
            for e in queue
        ]
        return {
            "recording": self.recording.name,
            "exchanges": len(self.recording.exchanges),
            "served": len(self.served),
            "left": sorted(left, key=lambda item: int(item["seq"])),
            "unmatched": self.unmatched,
        }

    def unmatched_body(self, method: str, path: str) -> dict[str, Any]:
        recorded = self.recorded.get((method, path), 0)
        why = f"all {recorded} recorded were served" if recorded else "none was recorded"
        return {
            "code": 404,
            "message": f"Not in recording {self.recording.name}: "
            f"no exchange left for {method} {path} ({why})",
            "data": {
                "recording": self.recording.name,
                "method": method,
                "path": path,
                "recorded": recorded,
                "served": recorded,
            },
        }

    def _clock_effects(self, exchange: Exchange) -> bool:
        """Control calls that moved the recorded clock move the replay clock too (True if one did).

        Their recorded duration is that move itself, so their answer does not wait for it again.
        """
        if exchange.method != "POST" or exchange.status != 200:
            return False
        if exchange.path == "/_mock/reset":
            self.clock.reset()
            return True
        if exchange.path == "/_mock/clock/advance":
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                seconds = json.loads(body_bytes(exchange.request_body)).get("seconds")
                if isinstance(seconds, int | float) and seconds >= 0:
                    self.clock.advance(float(seconds))
                    return True
        return False

    async def _serve(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        *,
        wait: bool = True,
        adapt: Callable[[bytes], bytes] | None = None,
    ) -> None:
        clock = self.clock
        if wait:  # held until the virtual moment it arrived at in the recording (scale 0: no waiting)
            await clock.sleep_until(exchange.at)
        base = clock.now()  # the request's arrival, as exchange.at was in the recording
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in exchange.response_headers
            if name.lower() not in NOT_REPLAYED
        ]
        if exchange.status is None:
            body = {"code": 502, "message": "The recorded server never answered this request", "data": None}
            await _json(send, 502, body)
            return
        if exchange.events is None:
            if wait:  # e.g. a `delay_ms` fault
                await clock.sleep_until(base + max(0.0, (exchange.responded_at or exchange.at) - exchange.at))
            data = exchange.response_bytes()
            if adapt is not None and is_textual(exchange.header("content-type")):
                with contextlib.suppress(UnicodeDecodeError):
                    data = adapt(data)
                    headers = [(name, adapt(value)) for name, value in headers]
            headers.append((b"content-length", str(len(data)).encode()))
            if exchange.response_body and exchange.response_body.get("elided"):
                headers.append((b"x-nemo-replay-elided", str(exchange.response_body["size"]).encode()))
            await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
            await send({"type": "http.response.body", "body": data})
            return
        first = min([exchange.responded_at or exchange.at, *(event.at for event in exchange.events[:1])])
        await clock.sleep_until(base + max(0.0, first - exchange.at))
        await send({"type": "http.response.start", "status": exchange.status, "headers": headers})
        streaming = asyncio.ensure_future(self._events(exchange, base, send))
        watcher = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({streaming, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (streaming, watcher):
                task.cancel()
            await asyncio.gather(streaming, watcher, return_exceptions=True)

    async def _events(self, exchange: Exchange, base: float, send: Send) -> None:
        assert exchange.events is not None
        for event in exchange.events:
            await self.clock.sleep_until(base + max(0.0, event.at - exchange.at))
            await send({"type": "http.response.body", "body": event.data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _read_body(receive: Receive) -> bytes:
    """The request body, up to MAX_READ_BODY bytes (the rest is drained and dropped)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        if size + len(chunk) <= MAX_READ_BODY:
            chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if size <= MAX_READ_BODY else b""


def _render_id(body: bytes) -> str | None:
    """`id` of a render submit's JSON body (B-REN-03), if it has one."""
    try:
        value = json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _json(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": data})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
