"""A world as a real HTTP server: a small scripted ASGI app under uvicorn on a free loopback port.

One server serves one world at a time (`serve(world)` swaps it and starts a fresh recording), so a
whole check runs on one port. A dropped stream sends its events and then ends the connection
without the closing chunk: the app raises `StreamDropped` after the last event, uvicorn closes
the transport, and the client sees an incomplete chunked body, as when a proxy cuts a stream.
uvicorn logs such an exception as an application error; a logging filter keeps those lines out.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

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


class WorldServer:
    """Serves the current world on `http://127.0.0.1:<free port>` until `stop()`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.backend: WorldBackend | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve(self, world: World) -> WorldBackend:
        """Answer from now on as `world` says; returns the backend that records the exchanges."""
        self.backend = WorldBackend(world, self.url)
        return self.backend

    # ------------------------------------------------------------------ the ASGI app

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: headers and body go out at once, not after a delayed ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=f"clientcheck-world:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the world server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> WorldServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _send_all(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
