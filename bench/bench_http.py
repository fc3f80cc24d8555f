"""HTTP throughput: GET /api/credits/balance/simple on the mock vs a bare Starlette app (B-CRED-01).

Both are served the same way (uvicorn, uvloop + httptools, one worker, no access log), each in
its own process, and loaded back to back in the same run with the same settings: `wrk` when it
is installed, else the small uvloop load generator below (`python -m bench.bench_http load`),
also in its own process. Rounds alternate bare, mock, mock, bare, ... so that a drift of the
shared machine weighs on both alike. The figure that counts is the ratio mock / bare.

`python -m bench.bench_http` prints the measurements; `run()` returns them as a dict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from bench import PROJECT, ServerProcess, bare_argv, child_env, mock_argv, servers

PATH = "/api/credits/balance/simple"
TARGET_RATIO = 0.8
CONNECTIONS = 32
DURATION_S = 8.0
WARMUP_S = 1.0
ROUNDS = 2
CREDITS = 10_000_000
LOADS = ("auto", "wrk", "python")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(slots=True)
class LoadResult:
    """One load run against one server."""

    tool: str
    requests: int
    duration_s: float
    errors: int  # non-2xx answers and socket errors
    p50_ms: float | None
    p99_ms: float | None

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


# ------------------------------------------------------------------------------ wrk


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> LoadResult:
    """The figures of one `wrk --latency` report."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if done is None:
        raise ValueError(f"not a wrk report: {output[:400]!r}")
    duration_s = _ms(done.group(2), done.group(3)) / 1000.0
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if sockets:
        errors += sum(int(n) for n in sockets.groups())
    percentiles = {
        m.group(1): _ms(m.group(2), m.group(3))
        for m in re.finditer(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    }
    return LoadResult(
        "wrk", int(done.group(1)), duration_s, errors, percentiles.get("50"), percentiles.get("99")
    )


def run_wrk(url: str, headers: dict[str, str], connections: int, duration_s: float) -> LoadResult:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s", "--latency"]
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    done = subprocess.run(
        [*argv, url + PATH], capture_output=True, text=True, timeout=duration_s + 60, check=True
    )
    return parse_wrk(done.stdout)


# ------------------------------------------------------------------------------ the Python load generator


class _KeepAlive(asyncio.Protocol):
    """One keep-alive connection sending the same GET again as soon as an answer is complete."""

    def __init__(self, request: bytes, stats: _LoadStats) -> None:
        self.request = request
        self.stats = stats
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.stats.stop_at:
            self.transport.close()
            return
        self.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower()
            length = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
            total = head_end + 4 + (int(length.group(1)) if length else 0)
            if len(self.buffer) < total:
                return
            status = head[9:12]
            del self.buffer[:total]
            self.stats.note(status.startswith(b"2"), time.perf_counter() - self.sent_at)
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.closed += 1
        if exc is not None:
            self.stats.errors += 1


class _LoadStats:
    def __init__(self, stop_at: float) -> None:
        self.stop_at = stop_at
        self.requests = 0
        self.errors = 0
        self.closed = 0
        self.latencies: list[float] = []

    def note(self, ok: bool, latency_s: float) -> None:
        self.requests += 1
        if not ok:
            self.errors += 1
        self.latencies.append(latency_s)


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def python_load(url: str, headers: dict[str, str], connections: int, duration_s: float) -> LoadResult:
    """`connections` keep-alive connections, each one request at a time, for `duration_s`."""
    host, _, port = url.removeprefix("http://").partition(":")
    lines = [f"GET {PATH} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    stats = _LoadStats(started + duration_s)
    transports = []
    for _ in range(connections):
        transport, _protocol = await loop.create_connection(
            lambda: _KeepAlive(request, stats), host, int(port)
        )
        transports.append(transport)
    while stats.closed < connections and time.perf_counter() < stats.stop_at + 5.0:
        await asyncio.sleep(0.05)
    for transport in transports:
        transport.close()
    elapsed = time.perf_counter() - started
    p50, p99 = _percentile(stats.latencies, 0.50), _percentile(stats.latencies, 0.99)
    return LoadResult(
        "python",
        stats.requests,
        elapsed,
        stats.errors,
        None if p50 is None else p50 * 1e3,
        None if p99 is None else p99 * 1e3,
    )


def run_python_load(url: str, headers: dict[str, str], connections: int, duration_s: float) -> LoadResult:
    """The Python load generator in its own process (so it does not share the caller's GIL)."""
    argv = [sys.executable, "-m", "bench.bench_http", "load", url, "--connections", str(connections)]
    argv += ["--duration", str(duration_s), "--headers", json.dumps(headers)]
    done = subprocess.run(
        argv,
        cwd=PROJECT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=True,
    )
    return LoadResult(**json.loads(done.stdout))


# ------------------------------------------------------------------------------ the bench


def paid_token(mock_url: str) -> str:
    """A paid account through the control API, checked once on the measured route."""
    import httpx  # here, not at the top: the load processes start faster without it

    with httpx.Client(base_url=mock_url, timeout=10) as http:
        token: str = http.post("/_mock/accounts", json={"tier": "paid", "credits": CREDITS}).json()["token"]
        answer = http.get(PATH, headers={"Authorization": f"Bearer {token}"}).json()
    if answer.get("code") != 0:
        raise RuntimeError(f"the mock refused the bench token: {answer}")
    return token


def choose_load(load: str) -> str:
    if load not in LOADS:
        raise ValueError(f"load must be one of {', '.join(LOADS)}")
    if load == "auto":
        return "wrk" if wrk_path() else "python"
    if load == "wrk" and wrk_path() is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk), or use --load python")
    return load


def _summary(results: list[LoadResult]) -> dict[str, Any]:
    p50 = [r.p50_ms for r in results if r.p50_ms is not None]
    p99 = [r.p99_ms for r in results if r.p99_ms is not None]
    return {
        "rps": round(statistics.fmean(r.rps for r in results), 1),
        "rps_rounds": [round(r.rps, 1) for r in results],
        "requests": sum(r.requests for r in results),
        "errors": sum(r.errors for r in results),
        "p50_ms": round(statistics.median(p50), 3) if p50 else None,
        "p99_ms": round(statistics.median(p99), 3) if p99 else None,
    }


def run(
    *,
    connections: int = CONNECTIONS,
    duration_s: float = DURATION_S,
    warmup_s: float = WARMUP_S,
    rounds: int = ROUNDS,
    load: str = "auto",
) -> dict[str, Any]:
    """Mock and bare under the same load, alternating; their requests per second and the ratio."""
    tool = choose_load(load)

    def one(server: ServerProcess, headers: dict[str, str], seconds: float) -> LoadResult:
        if tool == "wrk":
            return run_wrk(server.url, headers, connections, seconds)
        return run_python_load(server.url, headers, connections, seconds)

    with servers(
        ServerProcess("bare", bare_argv("json")),
        ServerProcess("mock", mock_argv(time_scale=1)),
        ServerProcess("mock_journal_off", mock_argv(time_scale=1, journal=False)),
    ) as (bare, mock, unjournalled):
        headers = {
            "bare": {},
            "mock": {"Authorization": f"Bearer {paid_token(mock.url)}"},
            "mock_journal_off": {"Authorization": f"Bearer {paid_token(unjournalled.url)}"},
        }
        everyone = (bare, mock, unjournalled)
        for server in everyone:
            if warmup_s > 0:
                one(server, headers[server.name], warmup_s)
        results: dict[str, list[LoadResult]] = {server.name: [] for server in everyone}
        for n in range(rounds):
            order = everyone if n % 2 == 0 else everyone[::-1]
            for server in order:
                results[server.name].append(one(server, headers[server.name], duration_s))
    mock_summary, bare_summary = _summary(results["mock"]), _summary(results["bare"])
    off_summary = _summary(results["mock_journal_off"])
    ratio = mock_summary["rps"] / bare_summary["rps"] if bare_summary["rps"] else 0.0
    off_ratio = off_summary["rps"] / bare_summary["rps"] if bare_summary["rps"] else 0.0
    return {
        "name": "http_credits_balance",
        "load": tool,
        "connections": connections,
        "duration_s": duration_s,
        "rounds": rounds,
        "mock": mock_summary,
        "bare": bare_summary,
        "ratio": round(ratio, 3),
        "mock_journal_off": off_summary,
        "ratio_journal_off": round(off_ratio, 3),
        "target_ratio": TARGET_RATIO,
        "ok": ratio >= TARGET_RATIO and mock_summary["errors"] == 0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_http", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    loader = commands.add_parser("load", help="(internal) the Python load generator against one URL")
    loader.add_argument("url")
    loader.add_argument("--connections", type=int, default=CONNECTIONS)
    loader.add_argument("--duration", type=float, default=DURATION_S)
    loader.add_argument("--headers", default="{}", help="JSON object of request headers")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--duration", type=float, default=DURATION_S)
    parser.add_argument("--warmup", type=float, default=WARMUP_S)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--load", choices=LOADS, default="auto")
    args = parser.parse_args(argv)
    if args.command == "load":
        import uvloop

        result = uvloop.run(python_load(args.url, json.loads(args.headers), args.connections, args.duration))
        print(json.dumps(asdict(result)))
        return 0
    report = run(
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
