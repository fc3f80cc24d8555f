"""Benchmarks of the mock server, each against a bare reference measured in the same run.

This module holds what the benches share: servers under test as child processes on
127.0.0.1, started from a command line, found by the `listening on http://...` line they
print, measured by PID (/proc/<pid>/status) and stopped by PID, on errors too.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

PROJECT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(rb"listening on (http://127\.0\.0\.1:\d+)")


def child_env() -> dict[str, str]:
    """The environment of every child: the project importable as `bench`, `mockserver`, ..."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB (VmRSS of /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def stop_pid(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop one child by its PID: SIGINT (uvicorn's graceful stop), then SIGTERM, then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    proc.wait()


class ServerProcess:
    """A server under test in its own process; `with ServerProcess(name, argv) as server: server.url`."""

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        self.name = name
        self.argv = list(argv)
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._err: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._proc.pid

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def start(self, timeout: float = START_TIMEOUT_S) -> ServerProcess:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> None:
        # Output goes to files, not pipes: a child never blocks on a pipe nobody reads.
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - open for the child's whole life
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            self.argv,
            cwd=PROJECT,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
        )

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> ServerProcess:
        """Until the child prints its URL; stopped and an error if it exits or takes too long."""
        assert self._proc is not None and self._out is not None
        deadline = time.monotonic() + timeout
        while True:
            self._out.seek(0)
            found = _LISTENING.search(self._out.read())
            if found:
                self.url = found.group(1).decode()
                return self
            if self._proc.poll() is not None or time.monotonic() > deadline:
                why = "exited" if self._proc.poll() is not None else "did not start in time"
                errors = self.errors()
                self.stop()
                raise RuntimeError(f"{self.name} {why}: {errors[-2000:]}")
            time.sleep(0.02)

    def errors(self) -> str:
        """What the child wrote to stderr so far."""
        if self._err is None:
            return ""
        self._err.seek(0)
        return self._err.read().decode(errors="replace")

    def stop(self) -> None:
        if self._proc is not None:
            stop_pid(self._proc)
        for handle in (self._out, self._err):
            if handle is not None:
                handle.close()
        self._out = self._err = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mock_argv(*, time_scale: float, seed: int = 1, journal: bool = True) -> list[str]:
    """`nemo-mock serve` on a free loopback port, without per-request log lines."""
    return [
        sys.executable,
        "-m",
        "mockserver.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        "0",
        "--time-scale",
        str(time_scale),
        "--seed",
        str(seed),
        "--quiet",
        "--journal",
        "on" if journal else "off",
    ]


def bare_argv(app: str) -> list[str]:
    """One of the reference apps of `bench.bare_apps` on a free loopback port."""
    return [sys.executable, "-m", "bench.bare_apps", app, "--port", "0"]


@contextlib.contextmanager
def servers(*processes: ServerProcess) -> Iterator[tuple[ServerProcess, ...]]:
    """Start the processes side by side and stop every one, by PID, however the block ends."""
    try:
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_ready()
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()
