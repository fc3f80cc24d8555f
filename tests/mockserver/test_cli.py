"""`nemo-mock serve` as a real process, as INTERFACE.md names it."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

READY = re.compile(r"nemo-mock listening on (http://127\.0\.0\.1:(\d+))\n")


def nemo_mock() -> str:
    return shutil.which("nemo-mock") or str(Path(sys.executable).with_name("nemo-mock"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Start `nemo-mock serve ...` processes; each is stopped by its PID at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start(started: list[subprocess.Popen[str]], *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [nemo_mock(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = READY.fullmatch(line)
    assert match, f"no ready line: {line!r}"
    return proc, match.group(1)


def test_serve_prints_ready_line_and_serves(serve) -> None:
    """--port 0 picks a free port; one flushed ready line; the control API and the page answer."""
    proc, url = start(
        serve, "--time-scale", "0", "--seed", "5", "--profile", "generator-video", "--dialect", "adk"
    )
    health = httpx.get(f"{url}/_mock/health").json()
    assert health["status"] == "ok" and health["profile"] == "generator-video"
    assert health["seed"] == 5 and health["time_scale"] == 0 and health["dialect"] == "adk"
    assert "generator-video" in httpx.get(url + "/").text
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0


def test_request_log_masks_tokens(serve) -> None:
    """One log line per request: method, path, status, body code, virtual time; tokens never logged."""
    proc, url = start(serve, "--time-scale", "0")
    token = httpx.post(f"{url}/api/auth/anonymous-token", headers={"X-Client-Id": "log"}).json()["data"][
        "token"
    ]
    httpx.get(f"{url}/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"})
    httpx.get(f"{url}/api/state/nemo_agent/me/1/latest", headers={"Authorization": f"Bearer {token}"})
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert "POST /api/auth/anonymous-token 200 code=0 t=" in log
    assert "GET /api/state/nemo_agent/me/1/latest 200 code=1002 t=" in log
    assert token not in log and "nmv_usr_" not in log


def test_no_control_flag(serve) -> None:
    _, url = start(serve, "--no-control", "--quiet")
    assert httpx.get(f"{url}/_mock/health").status_code == 404


@pytest.mark.parametrize(
    "args,message",
    [
        (["--profile", "no-such-skill"], "no-such-skill"),
        (["--time-scale", "-1"], "time scale"),
        (["--dialect", "xml"], "invalid choice"),
    ],
)
def test_bad_arguments_fail_clearly(args: list[str], message: str) -> None:
    done = subprocess.run(
        [nemo_mock(), "serve", "--port", "0", *args], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_port_in_use_fails_clearly(serve) -> None:
    _, url = start(serve, "--quiet")
    port = url.rsplit(":", 1)[1]
    done = subprocess.run([nemo_mock(), "serve", "--port", port], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
