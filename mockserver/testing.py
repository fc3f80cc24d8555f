"""Run servers for tests: real uvicorn on a free loopback port, in a background thread.

    with LiveServer(Settings(time_scale=0, seed=7)) as server:
        httpx.get(server.url + "/_mock/health")

`ThreadedServer` serves any ASGI app this way (a replay, a recording proxy, a scripted world);
`LiveServer` serves the mock and keeps its `backend` reachable for assertions on state (ledger,
operations, renders).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from starlette.types import ASGIApp

from mockserver.app import create_app
from mockserver.backend import Backend
from mockserver.server import ConnectionLimits, Lifespan, MockServer, make_server
from mockserver.settings import Settings

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]

START_TIMEOUT_S = 20.0

#: Wraps the mock's app before it is served (how the contract suite plants bugs).
Wrapper = Callable[[ASGIApp, Backend], ASGIApp]


class ThreadedServer:
    """An ASGI app served by uvicorn on 127.0.0.1:<free port> until `stop()`.

    The loop is uvloop where installed, as `nemo-mock serve` runs, and the socket sends small
    writes at once (TCP_NODELAY): otherwise each loopback request waits tens of milliseconds.
    The connection limits are `nemo-mock serve`'s (`mockserver.server`) unless `limits` says otherwise.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        lifespan: Lifespan = "auto",
        name: str = "asgi",
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.lifespan = lifespan
        self.name = name
        self.limits = limits
        self.port = 0
        self._server: MockServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def served_app(self) -> ASGIApp:
        return self.app

    def on_shutdown(self) -> None:
        """Called on the server's loop as it starts shutting down."""

    def start(self) -> Any:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
        sock.bind((self.host, 0))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        server = make_server(
            self.served_app(), self.limits, lifespan=self.lifespan, on_shutdown=self.on_shutdown
        )
        self._server = server

        def run() -> None:
            loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            finally:
                # Library tasks (e.g. shutdown watchers) end with the loop, quietly.
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()
                sock.close()

        self._thread = threading.Thread(target=run, name=f"{self.name}:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:  # uvicorn offers no ready callback
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start")
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

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LiveServer(ThreadedServer):
    """The mock on 127.0.0.1:<free port>; optionally another Backend class or a wrapped app."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        host: str = "127.0.0.1",
        backend_class: type[Backend] = Backend,
        wrap: Wrapper | None = None,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.settings = settings or Settings(time_scale=0, access_log=False)
        self.backend = backend_class(self.settings)
        super().__init__(
            create_app(backend=self.backend), host=host, lifespan="on", name="nemo-mock", limits=limits
        )
        self.wrap = wrap

    def served_app(self) -> ASGIApp:
        return self.wrap(self.app, self.backend) if self.wrap is not None else self.app

    def on_shutdown(self) -> None:
        self.backend.end_streams()

    def start(self) -> LiveServer:
        super().start()
        return self

    def __enter__(self) -> LiveServer:
        return self.start()

    def reset(self) -> None:
        self.call(self.backend.reset)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until no operation is running and every API call has been handed to the journal (a
        client may hold the answer a moment before the middleware hands it over; other requests,
        streams and page feeds included, are handed over before their last byte goes out).
        Tests at time scale 0 finish in milliseconds."""

        async def idle() -> None:
            deadline = time.monotonic() + timeout
            while self.backend.operations:
                tasks = [op.task for op in list(self.backend.operations) if op.task is not None]
                if not tasks:
                    break
                _, pending = await asyncio.wait(tasks, timeout=timeout)
                if pending:
                    raise TimeoutError("operations still running")
            while self.backend.answering > 0:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.backend.answering} API calls still being answered")
                await asyncio.sleep(0.001)

        self.call(idle)


@contextlib.contextmanager
def live_server(**settings: Any) -> Iterator[LiveServer]:
    """`with live_server(time_scale=0, seed=1) as server: ...`"""
    settings.setdefault("access_log", False)
    settings.setdefault("time_scale", 0)
    with LiveServer(Settings(**settings)) as server:
        yield server
