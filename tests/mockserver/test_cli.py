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

from mockserver import cli
from mockserver.cli import main
from mockserver.masking import alias_of

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


def test_request_log_masks_tokens_in_paths(serve) -> None:
    """B-AUTH-22: a token a client put in a path shows in the log as its alias (one masking policy)."""
    proc, url = start(serve, "--time-scale", "0")
    token = httpx.post(f"{url}/_mock/accounts", json={"tier": "paid", "credits": 1}).json()["token"]
    httpx.get(f"{url}/api/state/nemo_agent/{token}/1/latest", headers={"X-Auth-Token": token})
    journal = httpx.get(f"{url}/_mock/journal").json()["entries"]
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert f"/api/state/nemo_agent/{alias_of(token)}/1/latest" in log
    assert token not in log and token not in str(journal)
    (entry,) = [e for e in journal if e["path"].startswith("/api/state/")]
    assert entry["headers"]["x-auth-token"] == alias_of(token)


BAD_FLAGS = [
    (["--port", "99999"], "a port is 0 to 65535"),
    (["--port", "-1"], "a port is 0 to 65535"),
    (["--port", "http"], "not an integer"),
    (["--time-scale", "nan"], "not a finite number"),
    (["--time-scale", "inf"], "not a finite number"),
    (["--time-scale", "-1"], "time scale is >= 0"),
    (["--seed", "1.5"], "not an integer"),
    (["--ip-cap", "-3"], "must be >= 0"),
    (["--token-ttl", "-1"], ">= 0"),
    (["--token-ttl", "1e999"], "not a finite number"),
    (["--host", "not a host"], "not an IP address or host name"),
    (["--host", ""], "not an IP address or host name"),
    (["--data-dir", "/dev/null"], "not a directory"),
    (["--record", "/no/such/dir/run.jsonl"], "no such directory"),
    (["--record-body-limit", "lots"], "not a number of bytes"),
    (["--max-json-body", "-5"], "not a number of bytes"),
    (["--header-timeout", "0"], "a timeout is a number of seconds > 0"),
    (["--body-timeout", "nan"], "not a finite number"),
    (["--keep-alive-timeout", "-2"], "a timeout is a number of seconds > 0"),
    (["--max-connections", "0"], "must be >= 1"),
    (["--max-header-bytes", "12q"], "not a number of bytes"),
    (["--control-token", "short"], "8 to 256 visible ASCII characters"),
    (["--control-token", "has space inside"], "8 to 256 visible ASCII characters"),
]


@pytest.mark.parametrize(("args", "message"), BAD_FLAGS, ids=[" ".join(a) for a, _ in BAD_FLAGS])
def test_every_flag_is_validated_with_a_one_line_error(args: list[str], message: str, capsys) -> None:
    """A bad flag value: exit status 2 and one line naming the flag, never a traceback."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", *args])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nemo-mock: ") and message in err, err
    assert "Traceback" not in err


def test_a_non_loopback_address_needs_a_control_token(capsys, monkeypatch, tmp_path) -> None:
    """Bound beyond loopback, /_mock would answer anyone: without a token the server refuses to start."""
    monkeypatch.delenv("NEMO_MOCK_CONTROL_TOKEN", raising=False)
    started: list[tuple[str, int]] = []
    monkeypatch.setattr(cli, "run_server", lambda start, host, port: started.append((host, port)) or 0)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without a token" in err and "--control-token" in err
    assert started == []
    # With a token (flag or environment), or without the control API, it starts.
    assert (
        main(
            [
                "serve",
                "--host",
                "0.0.0.0",
                "--port",
                "0",
                "--control-token",
                "a-long-token",
                "--data-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert main(["serve", "--host", "::", "--port", "0", "--no-control", "--data-dir", str(tmp_path)]) == 0
    monkeypatch.setenv("NEMO_MOCK_CONTROL_TOKEN", "from-the-environment")
    assert main(["serve", "--host", "10.0.0.1", "--port", "0", "--data-dir", str(tmp_path)]) == 0
    assert started == [("0.0.0.0", 0), ("::", 0), ("10.0.0.1", 0)]
    monkeypatch.setenv("NEMO_MOCK_CONTROL_TOKEN", "bad")
    assert main(["serve", "--port", "0"]) == 2
    assert "NEMO_MOCK_CONTROL_TOKEN" in capsys.readouterr().err


def test_loopback_needs_no_token(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("NEMO_MOCK_CONTROL_TOKEN", raising=False)
    started: list[str] = []
    monkeypatch.setattr(cli, "run_server", lambda start, host, port: started.append(host) or 0)
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert main(["serve", "--host", host, "--port", "0", "--data-dir", str(tmp_path)]) == 0
    assert started == ["127.0.0.1", "localhost", "::1", "127.0.0.2"]
