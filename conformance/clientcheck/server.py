"""A world as a real HTTP server: a small scripted ASGI app under uvicorn on a free loopback port.

One server serves one world at a time (`serve(world)` swaps it and starts a fresh recording), so a
whole check runs on one port. A dropped stream sends its events and then ends the connection
without the closing chunk: the app raises `StreamDropped` after the last event, uvicorn closes
the transport, and the client sees an incomplete chunked body, as when a proxy cuts a stream.
uvicorn logs such an exception as an application error; a logging filter keeps those lines out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mockserver.testing import ThreadedServer

from .backend import WorldBackend
from .world import World

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

START_TIMEOUT_S = 20.0


class StreamDropped(Exception):
    """Raised by the app to break a stream's connection on purpose."""


class _QuietDrops(logging.Filter):
    """Drops uvicorn's error record for a `StreamDropped`, and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        return not (info and isinstance(info[1], StreamDropped))


_QUIET_DROPS = _QuietDrops()


class WorldServer(ThreadedServer):
    """Serves the current world on `http://127.0.0.1:<free port>` until `stop()`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(self.answer, host=host, lifespan="off", name="clientcheck-world")
        self.backend: WorldBackend | None = None

    def serve(self, world: World) -> WorldBackend:
        """Answer from now on as `world` says; returns the backend that records the exchanges."""
        self.backend = WorldBackend(world, self.url)
        return self.backend

    # ------------------------------------------------------------------ the ASGI app

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        backend = self.backend
        if backend is None:
            await _send_all(send, 503, [(b"content-type", b"text/plain")], b"no world served")
            return
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        answer = backend.handle(scope["method"], path, headers, b"".join(chunks))
        raw_headers = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in answer.headers]
        if answer.chunks is None:
            await _send_all(send, answer.status, raw_headers, answer.body)
            return
        await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
        for chunk in answer.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if answer.drop:
            raise StreamDropped("the world drops this stream")
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> WorldServer:
        logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)
        super().start()
        return self

    def __enter__(self) -> WorldServer:
        return self.start()


async def _send_all(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
