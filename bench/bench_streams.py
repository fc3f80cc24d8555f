"""Concurrent /run_sse streams held by one mock process, with heartbeats (B-SSE-06, B-SSE-10, U-04).

The mock runs at time scale 1; every stream is a generation turn ("Generate a 10-second city
timelapse video": 100-300 virtual s of work, a heartbeat every 5 s) of a paid account spread
over a few sessions (sessions take concurrent turns, U-11). The reference is the bare
sse-starlette endpoint of `bench.bare_apps`, measured the same way right after, in the same run.

The streams are held by a separate load process (`python -m bench.bench_streams client`,
uvloop, one asyncio Protocol per connection), so client and server each have their own file
limit and CPU. Per server:

1. the client opens `warm` streams (one-time start-up costs land here), then RSS "before" is read;
2. the client opens `streams` more, a bounded number at a time; then RSS "after" is read;
   memory per stream = (after - before) / streams, from /proc/<pid>/status VmRSS;
3. after a settle period the client records heartbeats for `window` seconds.

Heartbeat lag. A stream's heartbeats are due on a fixed grid, phase + k * interval (k = 1, 2,
... from the stream's start; the mock and the bare app both keep that grid, a late beat does not
move the next). The client does not know the phase, so it takes the most punctual beat of the
stream as the grid: phase = min over k of (arrival_k - k * interval). The lag of beat k is
arrival_k - k * interval - phase (>= 0): how much later than the stream's own best beat it came.
p50/p99/max are over every beat due inside the window; a beat due in the window that has not
arrived by its end counts as missed. The client's own loop lag is reported beside it, to tell
a slow client from a slow server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import resource
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from bench import PROJECT, ServerProcess, bare_argv, child_env, mock_argv, stop_pid

STREAMS = 10_000
WARM = 50
SESSIONS = 100
WINDOW_S = 40.0
SETTLE_S = 5.0
PROFILE_INTERVAL_S = 5.0  # the nemo-video profile's heartbeat interval, in virtual seconds
TIME_SCALE = 1.0
GRACE_S = 1.0  # how long after the window a beat due in it may still arrive (at most one interval)
PAUSE_S = 1.0
OPEN_CONCURRENCY = 128
OPEN_TIMEOUT_S = 300.0
FD_HEADROOM = 64  # descriptors a process needs beside its streams
MESSAGE = "Generate a 10-second city timelapse video"
CREDITS = 10_000_000
ATTRIBUTION = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9", "X-Skill-Platform": "unknown"}

TARGET_STREAMS = 10_000
TARGET_LAG_P99_MS = 50.0
TARGET_MEMORY_RATIO = 1.25

#: Either heartbeat form of the mock (B-SSE-06): `data: {"type":"heartbeat"}` or an empty `data:`.
_HEARTBEAT = re.compile(rb'data:(?: \{"type":"heartbeat"\})?\r?\n')
_TAIL = 64  # bytes kept between reads, so a beat split over two reads is still seen once


# ------------------------------------------------------------------------------ heartbeat lag


@dataclass(slots=True)
class BeatStats:
    """Heartbeats of one stream inside the measuring window."""

    lags_s: list[float] = field(default_factory=list)
    due: int = 0
    missed: int = 0


def beat_stats(
    arrivals: Sequence[float],
    interval_s: float,
    window: tuple[float, float],
    closed_at: float | None = None,
    grace_s: float = GRACE_S,
) -> BeatStats:
    """Lags of the beats due in `window`, on the stream's own grid (see the module docstring).

    `arrivals` are the arrival times of beats 1, 2, ... of one stream; `closed_at` is when the
    server ended the stream, if it did (beats are not due after that). A beat due in the window
    that has not arrived `grace_s` after the window's end is missed.
    """
    stats = BeatStats()
    if not arrivals:
        return stats
    phase = min(at - k * interval_s for k, at in enumerate(arrivals, start=1))
    start, end = window
    last = end if closed_at is None else min(end, closed_at)
    k = max(1, int((start - phase) // interval_s))
    while phase + k * interval_s <= last:
        due_at = phase + k * interval_s
        if due_at >= start:
            stats.due += 1
            if k <= len(arrivals) and arrivals[k - 1] <= end + grace_s:
                stats.lags_s.append(arrivals[k - 1] - due_at)
            else:
                stats.missed += 1
        k += 1
    return stats


def percentiles_ms(values_s: list[float]) -> dict[str, float | None]:
    if not values_s:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values_s)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1e3, 3)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(ordered[-1] * 1e3, 3)}


# ------------------------------------------------------------------------------ the load process


def run_sse_request(host: str, port: int, session_id: str, token: str | None) -> bytes:
    """One raw POST /run_sse starting a generation turn (B-SSE-01/02)."""
    body = json.dumps(
        {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session_id,
            "new_message": {"parts": [{"text": MESSAGE}]},
        },
        separators=(",", ":"),
    ).encode()
    lines = [
        "POST /run_sse HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        *(f"{key}: {value}" for key, value in ATTRIBUTION.items()),
        f"Content-Length: {len(body)}",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Stream(asyncio.Protocol):
    """One held stream: the response head, then heartbeat arrival times."""

    __slots__ = ("arrivals", "closed_at", "failure", "opened", "request", "tail", "transport")

    def __init__(self, request: bytes, opened: asyncio.Future[None]) -> None:
        self.request = request
        self.opened = opened
        self.arrivals: list[float] = []
        self.tail = b""
        self.closed_at: float | None = None
        self.failure: str | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.opened.done():
            data = self.tail + data
            head_end = data.find(b"\r\n\r\n")
            if head_end < 0:
                self.tail = data
                return
            head = data[:head_end].lower()
            if not head.startswith(b"http/1.1 200") or b"text/event-stream" not in head:
                self.failure = head.split(b"\r\n", 1)[0].decode(errors="replace")
                self.opened.set_result(None)
                assert self.transport is not None
                self.transport.close()
                return
            self.opened.set_result(None)
            self.tail, data = b"", data[head_end + 4 :]
        seen = self.tail + data
        fresh = len(self.tail)
        for beat in _HEARTBEAT.finditer(seen):
            if beat.end() > fresh:
                self.arrivals.append(now)
        self.tail = seen[-_TAIL:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_at = time.monotonic()
        if not self.opened.done():
            self.failure = f"closed before the response head: {exc!r}"
            self.opened.set_result(None)


def _emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def _loop_lag(samples: list[tuple[float, float]], period_s: float = 0.1) -> None:
    """(when, how late) this process's own loop woke up: a slow client would look like late beats."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(period_s)
        now = time.monotonic()
        samples.append((now, now - before - period_s))


async def _open(
    host: str, port: int, requests: list[bytes], count: int, offset: int, limit: asyncio.Semaphore
) -> list[_Stream]:
    loop = asyncio.get_running_loop()

    async def one(n: int) -> _Stream:
        async with limit:
            opened: asyncio.Future[None] = loop.create_future()
            stream = _Stream(requests[n % len(requests)], opened)
            try:
                await loop.create_connection(lambda: stream, host, port)
                await opened
            except OSError as exc:
                stream.failure = f"connect: {exc}"
            return stream

    return list(await asyncio.gather(*(one(offset + n) for n in range(count))))


async def hold_streams(spec: dict[str, Any]) -> None:
    """The load process: warm streams, wait for "go", the streams, settle, the window, the result."""
    host, port = spec["host"], int(spec["port"])
    requests = [r.encode("latin-1") for r in spec["requests"]]
    interval, window_s, settle_s = float(spec["interval_s"]), float(spec["window_s"]), float(spec["settle_s"])
    limit = asyncio.Semaphore(int(spec["open_concurrency"]))
    lag_samples: list[tuple[float, float]] = []
    monitor = asyncio.create_task(_loop_lag(lag_samples))
    warm = await _open(host, port, requests, int(spec["warm"]), 0, limit)
    _emit("warm", open=sum(s.failure is None for s in warm))
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "go":
        return
    started = time.monotonic()
    streams = await _open(host, port, requests, int(spec["streams"]), len(warm), limit)
    open_s = time.monotonic() - started
    failures = [s.failure for s in streams if s.failure]
    _emit("opened", open=len(streams) - len(failures), failed=len(failures), open_s=round(open_s, 3))
    window_start = time.monotonic() + settle_s
    window_end = window_start + window_s
    grace_s = min(GRACE_S, interval)
    await asyncio.sleep(window_end + grace_s - time.monotonic())
    lags: list[float] = []
    due = missed = ended = 0
    for stream in streams:
        if stream.failure:
            continue
        if stream.closed_at is not None and stream.closed_at <= window_end:
            ended += 1
        stats = beat_stats(stream.arrivals, interval, (window_start, window_end), stream.closed_at, grace_s)
        lags += stats.lags_s
        due += stats.due
        missed += stats.missed
    monitor.cancel()
    client_lag = percentiles_ms(
        [max(0.0, lag) for at, lag in lag_samples if window_start <= at <= window_end]
    )
    _emit(
        "result",
        open=len(streams) - len(failures),
        failed=len(failures),
        failures=sorted(set(failures))[:5],
        open_s=round(open_s, 3),
        window_s=window_s,
        beats=len(lags),
        due=due,
        missed=missed,
        ended_by_server=ended,
        lag_ms=percentiles_ms(lags),
        client_loop_lag_ms=client_lag,
    )
    for stream in warm + streams:
        if stream.transport is not None:
            stream.transport.close()


def client_main(spec_path: str) -> int:
    import uvloop

    gc.disable()  # a short-lived process holding many objects: no collector pauses in the measurement
    spec = json.loads(Path(spec_path).read_text())
    uvloop.run(hold_streams(spec))
    return 0


# ------------------------------------------------------------------------------ the parent side


class _Client:
    """The load process, spoken to by lines: JSON events on its stdout, "go" on its stdin."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(spec, self._spec)
        self._spec.close()
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_streams", "client", self._spec.name],
            cwd=PROJECT,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
        )

    def event(self, name: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError(f"the stream client sent no {name!r} within {timeout:.0f} s")
            line = self.proc.stdout.readline()
            if not line:
                self._err.seek(0)
                raise RuntimeError(f"the stream client exited: {self._err.read().decode()[-2000:]}")
            message: dict[str, Any] = json.loads(line)
            if message.get("event") == name:
                return message

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        stop_pid(self.proc)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._err.close()
        os.unlink(self._spec.name)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    server: ServerProcess,
    requests: list[bytes],
    *,
    streams: int,
    warm: int,
    window_s: float,
    settle_s: float,
    interval_s: float,
    open_concurrency: int,
    pause_s: float = PAUSE_S,
) -> dict[str, Any]:
    """Hold `streams` streams on one running server; memory, CPU and heartbeat lag.

    `pause_s` is waited after each opening before RSS is read, so the server has written the
    streams' first events.
    """
    host, _, port = server.url.removeprefix("http://").partition(":")
    spec = {
        "host": host,
        "port": int(port),
        "requests": [r.decode("latin-1") for r in requests],
        "streams": streams,
        "warm": warm,
        "window_s": window_s,
        "settle_s": settle_s,
        "interval_s": interval_s,
        "open_concurrency": open_concurrency,
    }
    client = _Client(spec)
    try:
        warmed = client.event("warm", OPEN_TIMEOUT_S)
        time.sleep(pause_s)
        rss_before = server.rss_kib()
        client.go()
        opened = client.event("opened", OPEN_TIMEOUT_S + streams / 50)
        time.sleep(pause_s)
        rss_after = server.rss_kib()
        cpu_start, wall_start = _cpu_s(server.pid), time.monotonic()
        result = client.event("result", settle_s + window_s + 60)
        cpu_s, wall_s = _cpu_s(server.pid) - cpu_start, time.monotonic() - wall_start
        rss_end = server.rss_kib()
    finally:
        client.stop()
    held = max(1, opened["open"])
    result.pop("event", None)
    return {
        **result,
        "warm_open": warmed["open"],
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_end_kib": rss_end,
        "kib_per_stream": round((rss_after - rss_before) / held, 2),
        "server_cpu_pct": round(100.0 * cpu_s / wall_s, 1) if wall_s > 0 else None,
    }


def prepare_mock(url: str, sessions: int) -> tuple[str, list[str]]:
    """A paid account with plenty of credits and `sessions` sessions of it (B-SESS-01, U-11)."""
    import httpx  # here, not at the top: the load processes start faster without it

    with httpx.Client(base_url=url, timeout=30) as http:
        token: str = http.post("/_mock/accounts", json={"tier": "paid", "credits": CREDITS}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
        ids = []
        for n in range(sessions):
            answer = http.post(
                "/api/tasks/me/with-session/nemo_agent", json={"task_name": f"bench {n}"}, headers=headers
            ).json()
            ids.append(answer["data"]["session_id"])
    return token, ids


def run(
    *,
    streams: int = STREAMS,
    warm: int = WARM,
    sessions: int = SESSIONS,
    window_s: float = WINDOW_S,
    settle_s: float = SETTLE_S,
    open_concurrency: int = OPEN_CONCURRENCY,
    time_scale: float = TIME_SCALE,
    pause_s: float = PAUSE_S,
) -> dict[str, Any]:
    """The mock, then the bare endpoint, holding the same number of streams the same way.

    `time_scale` above 1 speeds the mock's virtual clock up (quick runs); the bare endpoint
    then beats at the same real interval.
    """
    soft_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)  # each child inherits it
    if warm + streams + FD_HEADROOM > soft_limit:
        raise ValueError(f"{warm} + {streams} streams need more than the {soft_limit} open files allowed")
    interval_s = PROFILE_INTERVAL_S / time_scale
    options: dict[str, Any] = {
        "streams": streams,
        "warm": warm,
        "window_s": window_s,
        "settle_s": settle_s,
        "interval_s": interval_s,
        "open_concurrency": open_concurrency,
        "pause_s": pause_s,
    }
    with ServerProcess("mock", mock_argv(time_scale=time_scale)) as mock:
        token, session_ids = prepare_mock(mock.url, sessions)
        host, _, port = mock.url.removeprefix("http://").partition(":")
        requests = [run_sse_request(host, int(port), sid, token) for sid in session_ids]
        mock_result = measure(mock, requests, **options)
    bare_argv_with_interval = [*bare_argv("sse"), "--heartbeat-interval", str(interval_s)]
    with ServerProcess("bare", bare_argv_with_interval) as bare:
        host, _, port = bare.url.removeprefix("http://").partition(":")
        requests = [run_sse_request(host, int(port), "bench", None)]
        bare_result = measure(bare, requests, **options)
    memory_ratio = (
        mock_result["kib_per_stream"] / bare_result["kib_per_stream"]
        if bare_result["kib_per_stream"] > 0
        else None
    )
    lag_p99 = mock_result["lag_ms"]["p99"]
    checks = {
        "streams": mock_result["open"] >= TARGET_STREAMS and mock_result["failed"] == 0,
        "lag_p99": lag_p99 is not None and lag_p99 < TARGET_LAG_P99_MS and mock_result["missed"] == 0,
        "memory": memory_ratio is not None and memory_ratio <= TARGET_MEMORY_RATIO,
    }
    return {
        "name": "sse_streams",
        **options,
        "sessions": sessions,
        "time_scale": time_scale,
        "mock": mock_result,
        "bare": bare_result,
        "memory_ratio": None if memory_ratio is None else round(memory_ratio, 3),
        "targets": {
            "streams": TARGET_STREAMS,
            "lag_p99_ms": TARGET_LAG_P99_MS,
            "memory_ratio": TARGET_MEMORY_RATIO,
        },
        "checks": checks,
        "ok": all(checks.values()),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_streams", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    client = commands.add_parser("client", help="(internal) the load process holding the streams")
    client.add_argument("spec", help="JSON file written by the parent")
    parser.add_argument("--streams", type=int, default=STREAMS)
    parser.add_argument("--warm", type=int, default=WARM)
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--window", type=float, default=WINDOW_S)
    parser.add_argument("--settle", type=float, default=SETTLE_S)
    parser.add_argument("--open-concurrency", type=int, default=OPEN_CONCURRENCY)
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE, help="the mock's (default 1)")
    args = parser.parse_args(argv)
    if args.command == "client":
        return client_main(args.spec)
    report = run(
        streams=args.streams,
        warm=args.warm,
        sessions=args.sessions,
        window_s=args.window,
        settle_s=args.settle,
        open_concurrency=args.open_concurrency,
        time_scale=args.time_scale,
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
