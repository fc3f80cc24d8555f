"""A live mock on a free loopback port whose backend class and ASGI wrapper can be chosen.

`QuickLiveServer` is `mockserver.testing.LiveServer` with two differences: it serves any
`Backend` (or subclass) through an optional ASGI wrapper, which is how the planted bugs get in,
and its thread runs uvloop when installed: on a plain asyncio loop in a thread each loopback
request takes tens of milliseconds, on uvloop about one, which decides whether a check run
takes seconds or minutes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from mockserver.app import create_app
from mockserver.backend import Backend
from mockserver.settings import Settings
from mockserver.testing import START_TIMEOUT_S, LiveServer

Wrapper = Callable[[ASGIApp, Backend], ASGIApp]


def new_loop() -> asyncio.AbstractEventLoop:
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class QuickLiveServer(LiveServer):
    """The mock (optionally a changed one) served by uvicorn on 127.0.0.1:<free port>."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backend_class: type[Backend] = Backend,
        wrap: Wrapper | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(settings, host=host)
        if backend_class is not Backend:
            if self.settings.data_dir is None:  # the unused backend's own temporary directory
                shutil.rmtree(self.backend.data_dir, ignore_errors=True)
            self.backend = backend_class(self.settings)
            self.app = create_app(backend=self.backend)
        self.served: ASGIApp = wrap(self.app, self.backend) if wrap is not None else self.app

    def start(self) -> QuickLiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.served, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            loop = new_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()
                sock.close()

        self._thread = threading.Thread(target=run, name=f"nemo-mock:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock server did not start")
            time.sleep(0.005)
        return self

    def __enter__(self) -> QuickLiveServer:
        return self.start()
