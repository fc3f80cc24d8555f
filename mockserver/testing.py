"""Run the mock for tests: a real uvicorn on a free loopback port, in a background thread.

    with LiveServer(Settings(time_scale=0, seed=7)) as server:
        httpx.get(server.url + "/_mock/health")

The server's `backend` stays reachable for assertions on state (ledger, operations, renders).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]

from mockserver.app import create_app
from mockserver.backend import Backend
from mockserver.settings import Settings

START_TIMEOUT_S = 20.0


class LiveServer:
    """The mock app served by uvicorn on 127.0.0.1:<free port> until `stop()`."""

    def __init__(self, settings: Settings | None = None, *, host: str = "127.0.0.1") -> None:
        self.settings = settings or Settings(time_scale=0, access_log=False)
        self.host = host
        self.backend = Backend(self.settings)
        self.app = create_app(backend=self.backend)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        self._server = server

        def run() -> None:
            # uvloop where installed (uvicorn[standard]), as `nemo-mock serve` runs: a plain
            # asyncio loop in a thread answers loopback requests tens of milliseconds slower.
            loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                # Library tasks (sse-starlette's shutdown watcher) end with the loop, quietly.
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name=f"nemo-mock:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock server did not start")
            time.sleep(0.005)
        return self

    def call(self, func: Any, *args: Any) -> Any:
        """Run `func(*args)` on the server's loop (for state that loop owns) and return its result."""
        assert self._loop is not None
        if asyncio.iscoroutinefunction(func):
            return asyncio.run_coroutine_threadsafe(func(*args), self._loop).result(timeout=30)

        async def wrapper() -> Any:
            return func(*args)

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout=30)

    def reset(self) -> None:
        self.call(self.backend.reset)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no operation is running (tests at time scale 0 finish in milliseconds)."""

        async def idle() -> None:
            while self.backend.operations:
                tasks = [op.task for op in list(self.backend.operations) if op.task is not None]
                if not tasks:
                    return
                _, pending = await asyncio.wait(tasks, timeout=timeout)
                if pending:
                    raise TimeoutError("operations still running")

        self.call(idle)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def live_server(**settings: Any) -> Iterator[LiveServer]:
    """`with live_server(time_scale=0, seed=1) as server: ...`"""
    settings.setdefault("access_log", False)
    settings.setdefault("time_scale", 0)
    with LiveServer(Settings(**settings)) as server:
        yield server
