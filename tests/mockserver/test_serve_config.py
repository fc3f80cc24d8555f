"""`nemo-mock serve` settings from flags, `NEMO_MOCK_*` variables and a TOML file, and `--port-file`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from mockserver import cli
from mockserver.cli import main
from mockserver.config import write_port_file


def nemo_mock() -> str:
    return shutil.which("nemo-mock") or str(Path(sys.executable).with_name("nemo-mock"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NEMO_MOCK_"):
            monkeypatch.delenv(name)


def printed(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, str]:
    """`serve --print-config` as {key: 'value  # source'}."""
    assert main(["serve", *argv, "--print-config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return {
        line.split(" = ")[0]: line.split(" = ", 1)[1] for line in lines if " = " in line and line[0] != "#"
    }


def test_precedence_is_flag_then_environment_then_file_then_default(capsys, monkeypatch, tmp_path) -> None:
    config = tmp_path / "nemo-mock.toml"
    config.write_text('port = 9000\nseed = 5\ntime-scale = 0\ndialect = "adk"\nquiet = true\n')
    monkeypatch.setenv("NEMO_MOCK_PORT", "9100")
    monkeypatch.setenv("NEMO_MOCK_SEED", "6")
    seen = printed(capsys, "--config", str(config), "--seed", "7")
    assert seen["seed"] == "7  # flag --seed"
    assert seen["port"] == "9100  # env $NEMO_MOCK_PORT"
    assert seen["time-scale"] == f"0.0  # file {config}"
    assert seen["dialect"] == f'"adk"  # file {config}'
    assert seen["quiet"] == f"true  # file {config}"
    assert seen["host"] == '"127.0.0.1"  # default'
    # The config file may come from the environment too, and underscores name the same keys.
    config.write_text("time_scale = 2.5\n")
    monkeypatch.setenv("NEMO_MOCK_CONFIG", str(config))
    assert printed(capsys)["time-scale"] == f"2.5  # file {config}"


def test_resolved_settings_reach_the_server(monkeypatch, tmp_path) -> None:
    """Not only printed: the values the server is built with are the resolved ones."""
    config = tmp_path / "nemo-mock.toml"
    config.write_text('dialect = "adk"\nrender-shape = "B"\nstrict-attribution = true\n')
    monkeypatch.setenv("NEMO_MOCK_ERROR_STATUS", "mapped")
    built: list[object] = []
    monkeypatch.setattr(cli, "run_server", lambda start, host, port: 0)
    real = cli.settings_from
    monkeypatch.setattr(
        cli, "settings_from", lambda args, scenario=None: built.append(real(args, scenario)) or built[-1]
    )
    assert main(["serve", "--config", str(config), "--port", "0", "--data-dir", str(tmp_path)]) == 0
    (settings,) = built
    assert (settings.dialect, settings.render_shape, settings.error_status) == ("adk", "B", "mapped")  # type: ignore[attr-defined]
    assert settings.strict_attribution is True  # type: ignore[attr-defined]


def test_switches_from_the_environment(capsys, monkeypatch) -> None:
    monkeypatch.setenv("NEMO_MOCK_QUIET", "yes")
    monkeypatch.setenv("NEMO_MOCK_CRLF", "0")
    seen = printed(capsys)
    assert seen["quiet"] == "true  # env $NEMO_MOCK_QUIET"
    assert seen["crlf"] == "false  # env $NEMO_MOCK_CRLF"


def test_the_control_token_is_never_printed(capsys, monkeypatch) -> None:
    monkeypatch.setenv("NEMO_MOCK_CONTROL_TOKEN", "a-secret-token")
    seen = printed(capsys)
    assert "a-secret-token" not in str(seen)
    assert seen["control-token"] == '"(set, not shown)"  # env $NEMO_MOCK_CONTROL_TOKEN'


BAD = [
    ({"NEMO_MOCK_PROT": "1"}, "", "$NEMO_MOCK_PROT: not a nemo-mock serve setting"),
    ({"NEMO_MOCK_TIME_SCALE": "nan"}, "", "$NEMO_MOCK_TIME_SCALE: not a finite number"),
    ({"NEMO_MOCK_PORT": "99999"}, "", "$NEMO_MOCK_PORT: a port is 0 to 65535"),
    ({"NEMO_MOCK_QUIET": "maybe"}, "", "$NEMO_MOCK_QUIET: --quiet is on or off"),
    ({}, "prot = 1\n", "unknown key 'prot'"),
    ({}, 'dialect = "x"\n', "dialect: --dialect is one of documented, adk"),
    ({}, "quiet = 3\n", "quiet: --quiet is on or off"),
    ({}, "port = true\n", "port: --port takes a value"),
    ({}, "port = [1]\n", "port: --port takes a value"),
    ({}, "port = \n", "not valid TOML"),
]


@pytest.mark.parametrize(("env", "toml", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_keys_and_values_fail_in_one_line(env, toml, message, capsys, monkeypatch, tmp_path) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = ["serve", "--print-config"]
    if toml:
        (tmp_path / "c.toml").write_text(toml)
        argv += ["--config", str(tmp_path / "c.toml")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nemo-mock: ") and message in err, err


def test_a_missing_config_file_is_one_line(capsys, tmp_path) -> None:
    assert main(["serve", "--config", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read config file" in err


def test_port_file_is_replaced_whole(tmp_path) -> None:
    target = tmp_path / "url"
    target.write_text("stale")
    write_port_file(target, "http://127.0.0.1:1234")
    assert target.read_text() == "http://127.0.0.1:1234\n"
    assert [p.name for p in tmp_path.iterdir()] == ["url"]  # no temporary left behind


@pytest.mark.live
def test_port_file_names_the_listening_server(tmp_path) -> None:
    """A CI script waits for the file, not for a line to scrape: it holds the URL once the port listens."""
    port_file = tmp_path / "mock.url"
    env_file = tmp_path / "nemo-mock.toml"
    env_file.write_text(f'port = 0\ntime-scale = 0\nquiet = true\nport-file = "{port_file}"\n')
    proc = subprocess.Popen(
        [nemo_mock(), "serve", "--config", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()  # the ready line comes after the file is written
        url = port_file.read_text().strip()
        assert ready == f"nemo-mock listening on {url}\n"
        health = httpx.get(f"{url}/_mock/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(f"{url}/_mock/clock", timeout=10).json()["time_scale"] == 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.live
def test_json_log_lines(monkeypatch, tmp_path) -> None:
    """`--log-format json` (here from the environment): one object per request, wall and virtual time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_MOCK_")}
    env["NEMO_MOCK_LOG_FORMAT"] = "json"
    port_file = tmp_path / "url"
    proc = subprocess.Popen(
        [nemo_mock(), "serve", "--port", "0", "--time-scale", "0", "--port-file", str(port_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        url = port_file.read_text().strip()
        token = httpx.post(f"{url}/api/auth/anonymous-token", headers={"X-Client-Id": "log"}).json()["data"][
            "token"
        ]
        httpx.get(f"{url}/api/credits/balance/simple", headers={"Authorization": "Bearer nope"})
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    requests = [line for line in lines if "method" in line]
    assert [(r["method"], r["path"], r["status"], r["code"]) for r in requests] == [
        ("POST", "/api/auth/anonymous-token", 200, 0),
        ("GET", "/api/credits/balance/simple", 200, 1001),
    ]
    for line in requests:
        assert datetime.fromisoformat(line["wall"]).tzinfo is not None
        assert isinstance(line["virtual"], float) and line["latency_virtual_s"] == 0
    assert token not in err
