"""The reference apps the mock is measured against: the least a server can do for the same answer.

- `json`: a bare Starlette app answering GET /api/credits/balance/simple with the same envelope
  the mock sends (B-CRED-01), without authentication, journal or faults.
- `sse`: a bare sse-starlette endpoint, POST /run_sse, that reads the body and then sends
  `data: {"type":"heartbeat"}` every heartbeat interval on a fixed schedule from the stream's
  start, like the mock's heartbeats (B-SSE-06), until the client leaves.

`python -m bench.bare_apps json|sse --port 0` serves one of them the way `nemo-mock serve`
serves the mock (uvicorn, uvloop + httptools, one worker, the same collector settings) and
prints `bare-<app> listening on http://127.0.0.1:<port>`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import socket
from collections.abc import AsyncIterator, Sequence

import uvicorn
import uvloop
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HEARTBEAT = b'data: {"type":"heartbeat"}\n\n'
HEARTBEAT_INTERVAL_S = 5.0
#: What the mock answers for an account made with 10,000,000 credits.
BALANCE = {
    "code": 0,
    "message": "success",
    "data": {"available": 10_000_000, "frozen": 0, "total": 10_000_000},
}
APPS = ("json", "sse")


async def balance(request: Request) -> Response:
    return JSONResponse(BALANCE)


def json_app() -> Starlette:
    return Starlette(routes=[Route("/api/credits/balance/simple", balance, methods=["GET"])])


async def heartbeats(interval_s: float) -> AsyncIterator[bytes]:
    """Beats at start + k * interval on the loop's clock, so late beats do not push later ones."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    beat = 1
    while True:
        await asyncio.sleep(max(0.0, start + beat * interval_s - loop.time()))
        beat += 1
        yield HEARTBEAT


def sse_app(interval_s: float = HEARTBEAT_INTERVAL_S) -> Starlette:
    async def run_sse(request: Request) -> Response:
        await request.body()
        return EventSourceResponse(heartbeats(interval_s), ping=0)

    return Starlette(routes=[Route("/run_sse", run_sse, methods=["POST"])])


def build(app: str, interval_s: float = HEARTBEAT_INTERVAL_S) -> Starlette:
    if app == "json":
        return json_app()
    if app == "sse":
        return sse_app(interval_s)
    raise ValueError(f"app must be one of {', '.join(APPS)}")


async def serve(app: str, host: str, port: int, interval_s: float) -> None:
    """As `nemo-mock serve` does it: our own socket, uvicorn without logs, gc.freeze() once started."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    config = uvicorn.Config(
        build(app, interval_s),
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"bare-{app} listening on http://{host}:{sock.getsockname()[1]}", flush=True)
        gc.freeze()
    await task


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bare_apps", description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=APPS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--heartbeat-interval", type=float, default=HEARTBEAT_INTERVAL_S)
    args = parser.parse_args(argv)
    # The same collector settings as `nemo-mock serve`: the apps are compared, not GC settings.
    gc.set_threshold(50_000, 50, 100)
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how the bench stops it
        uvloop.run(serve(args.app, args.host, args.port, args.heartbeat_interval))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
