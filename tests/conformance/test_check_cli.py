"""`nemo-contract check` as a process against `nemo-mock serve`, and its exit codes."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import EXIT_FAILED, EXIT_UNUSABLE, main
from conformance.planted.variants import planted

READY = re.compile(r"nemo-mock listening on (http://127\.0\.0\.1:\d+)\n")
FIGURES = re.compile(
    r"rules checked: (\d+)  requests sent: (\d+)  failures: (\d+)  duration: ([\d.]+) s  seed: (\d+)"
)

CHECK = [sys.executable, "-m", "conformance.cli", "check"]

pytestmark = pytest.mark.live


@pytest.fixture
def served_mock() -> Iterator[str]:
    """`nemo-mock serve --port 0 --time-scale 0` in its own process; stopped by its PID."""
    command = shutil.which("nemo-mock") or str(Path(sys.executable).with_name("nemo-mock"))
    proc = subprocess.Popen(
        [command, "serve", "--port", "0", "--time-scale", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = READY.fullmatch(proc.stdout.readline())
        assert match, "nemo-mock printed no ready line"
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_served_mock_passes_and_the_figures_come_last(served_mock: str, tmp_path: Path) -> None:
    """B-ERR-01, B-ENV-06, B-CRED-02, B-SSE-04, B-REN-09, U-16: the whole check, as CI runs it, exits 0."""
    junit = tmp_path / "reports" / "contract.xml"
    done = subprocess.run(
        [*CHECK, "--base-url", served_mock, "--max-examples", "3", "--seed", "5", "--junit-xml", str(junit)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines[0].startswith(f"target {served_mock}: mock with control API")
    assert not [line for line in lines if line.startswith(("FAIL", "ERROR"))]
    figures = FIGURES.fullmatch(lines[-1])
    assert figures, lines[-1]
    checked, sent, failures, _, seed = (int(float(n)) for n in figures.groups())
    assert checked >= 45 and sent > 200 and failures == 0 and seed == 5
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(checked) and suite.get("failures") == "0"


def test_a_broken_rule_exits_1_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    """U-12: a 500 on malformed JSON is one FAIL line with the request as curl, token masked; exit 1."""
    with planted("malformed-json-500").server() as server:
        code = main(["check", "--base-url", server.url, "--phases", "probes", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == EXIT_FAILED
    fail = next(line for line in out.splitlines() if line.startswith("FAIL U-12 [probes] "))
    assert "curl -X POST" in fail and "nmv_usr_***" in fail and "--data-binary" in fail
    assert FIGURES.fullmatch(out.splitlines()[-1])


def test_an_unreachable_server_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """B-ERR-01: nothing to check is a usage error, not a broken rule."""
    assert main(["check", "--base-url", "http://127.0.0.1:9", "--timeout", "2"]) == EXIT_UNUSABLE
    assert "cannot reach" in capsys.readouterr().err


def test_phases_are_checked_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """B-ERR-01: an unknown phase or a zero budget is refused before any request."""
    for argv in (["--phases", "probes,nope"], ["--max-examples", "0"]):
        with pytest.raises(SystemExit) as raised:
            main(["check", "--base-url", "http://127.0.0.1:9", *argv])
        assert raised.value.code == 2
    assert "phases are a comma list" in capsys.readouterr().err
