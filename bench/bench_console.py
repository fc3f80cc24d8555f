"""Console cost: the API's throughput with 0 and with 20 web consoles open (`/_mock/ui`'s live feed).

One mock process, loaded on `GET /api/credits/balance/simple` as in `bench_http`, in alternating
rounds: with no console open, and with `CONSOLES` consoles reading the live journal feed
(`/_mock/ui/events`, held by a child process of their own). A last round runs after the consoles
have left, and a bare Starlette app is loaded alongside for the mock/bare ratio with no console.

Targets: 20 consoles cost at most 5 % of the throughput (ratio >= 0.95), and with none open the
API pays nothing for them (`Journal.listeners` is empty; the round after they left is within the
noise of the rounds before).

`python -m bench.bench_console` prints the measurements; `run()` returns them as a dict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from bench import PROJECT, ServerProcess, bare_argv, child_env, mock_argv, servers
from bench.bench_http import LoadResult, choose_load, paid_token, run_python_load, run_wrk

CONSOLES = 20
TARGET_RATIO = 0.95
#: The round after the consoles left is compared with the rounds before them: noise allowed.
AFTER_TOLERANCE = 0.05
CONNECTIONS = 32
DURATION_S = 5.0
WARMUP_S = 1.0
ROUNDS = 3
OPEN_TIMEOUT_S = 30.0


# ------------------------------------------------------------------------------ consoles (child process)


async def hold_consoles(url: str, count: int) -> None:
    """Open `count` console feeds, say so on stdout, read them until stdin closes."""
    host, _, port = url.removeprefix("http://").partition(":")
    request = f"GET /_mock/ui/events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
    received = 0
    writers = []

    async def read(reader: asyncio.StreamReader) -> None:
        nonlocal received
        while chunk := await reader.read(65536):
            received += len(chunk)

    tasks = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request.encode())
        head = await reader.readuntil(b"event: snapshot")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"the console feed refused: {head[:200]!r}")
        writers.append(writer)
        tasks.append(asyncio.create_task(read(reader)))
    print(f"open {count}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    for writer in writers:
        writer.close()
    for task in tasks:
        task.cancel()
    print(f"received {received}", flush=True)


class Consoles:
    """`CONSOLES` open console feeds in a child process, closed (by closing its stdin) on exit."""

    def __init__(self, url: str, count: int) -> None:
        self.url, self.count = url, count
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Consoles:
        argv = [sys.executable, "-m", "bench.bench_console", "consoles", self.url, str(self.count)]
        self.proc = subprocess.Popen(
            argv, cwd=PROJECT, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != f"open {self.count}":
            self.__exit__()
            raise RuntimeError(f"the consoles did not open: {line!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=OPEN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ------------------------------------------------------------------------------ the bench


def _rps(results: list[LoadResult]) -> float:
    return statistics.fmean(r.rps for r in results) if results else 0.0


def run(
    *,
    consoles: int = CONSOLES,
    connections: int = CONNECTIONS,
    duration_s: float = DURATION_S,
    warmup_s: float = WARMUP_S,
    rounds: int = ROUNDS,
    load: str = "auto",
) -> dict[str, Any]:
    tool = choose_load(load)

    def one(server: ServerProcess, headers: dict[str, str], seconds: float) -> LoadResult:
        if tool == "wrk":
            return run_wrk(server.url, headers, connections, seconds)
        return run_python_load(server.url, headers, connections, seconds)

    results: dict[str, list[LoadResult]] = {"none": [], "open": [], "after": [], "bare": []}
    with servers(
        ServerProcess("bare", bare_argv("json")), ServerProcess("mock", mock_argv(time_scale=1))
    ) as (bare, mock):
        auth = {"Authorization": f"Bearer {paid_token(mock.url)}"}
        if warmup_s > 0:
            one(bare, {}, warmup_s)
            one(mock, auth, warmup_s)
        for n in range(rounds):
            results["bare"].append(one(bare, {}, duration_s))
            if n % 2 == 0:
                results["none"].append(one(mock, auth, duration_s))
                with Consoles(mock.url, consoles):
                    results["open"].append(one(mock, auth, duration_s))
            else:
                with Consoles(mock.url, consoles):
                    results["open"].append(one(mock, auth, duration_s))
                results["none"].append(one(mock, auth, duration_s))
        results["after"].append(one(mock, auth, duration_s))
    none, opened, after, bare_rps = (_rps(results[k]) for k in ("none", "open", "after", "bare"))
    ratio = opened / none if none else 0.0
    after_ratio = after / none if none else 0.0
    errors = sum(r.errors for key in ("none", "open", "after") for r in results[key])
    return {
        "name": "console_cost",
        "load": tool,
        "consoles": consoles,
        "connections": connections,
        "duration_s": duration_s,
        "rounds": rounds,
        "rps": {
            "no_console": round(none, 1),
            "consoles_open": round(opened, 1),
            "after_they_left": round(after, 1),
            "bare": round(bare_rps, 1),
        },
        "rps_rounds": {key: [round(r.rps, 1) for r in value] for key, value in results.items()},
        "ratio_open": round(ratio, 3),
        "ratio_after": round(after_ratio, 3),
        "mock_bare_ratio_no_console": round(none / bare_rps, 3) if bare_rps else None,
        "target_ratio": TARGET_RATIO,
        "after_tolerance": AFTER_TOLERANCE,
        "errors": errors,
        "ok": ratio >= TARGET_RATIO and after_ratio >= 1 - AFTER_TOLERANCE and errors == 0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_console", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    holder = commands.add_parser("consoles", help="(internal) hold console feeds open until stdin closes")
    holder.add_argument("url")
    holder.add_argument("count", type=int)
    parser.add_argument("--consoles", type=int, default=CONSOLES)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--duration", type=float, default=DURATION_S)
    parser.add_argument("--warmup", type=float, default=WARMUP_S)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args(argv)
    if args.command == "consoles":
        asyncio.run(hold_consoles(args.url, args.count))
        return 0
    report = run(
        consoles=args.consoles,
        connections=args.connections,
        duration_s=args.duration,
        warmup_s=args.warmup,
        rounds=args.rounds,
        load=args.load,
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
