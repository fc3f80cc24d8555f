"""`nemo-contract check` shows where it is, phase by phase, on stderr, and reports as JSON on request
(U-17: the check is usable in CI)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from conformance.check.progress import Progress
from conformance.check.report import Report
from conformance.cli import main
from mockserver.testing import LiveServer, live_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveServer]:
    with live_server() as server:
        yield server


def test_plain_progress_lines_per_phase_and_json_report(mock: LiveServer, capsys) -> None:
    code = main(
        ["check", "--base-url", mock.url, "--phases", "probes,journey", "--seed", "1", "--format", "json"]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    lines = err.splitlines()  # captured stderr is not a terminal: plain lines, no control characters
    assert [line.split(" ", 4)[1:4] for line in lines] == [
        ["phase", "1/2", "probes"],
        ["phase", "1/2", "probes"],
        ["phase", "2/2", "journey"],
        ["phase", "2/2", "journey"],
    ]
    assert lines[0].endswith("probes ...") and "done:" in lines[1] and "\x1b" not in err
    report = json.loads(out)
    assert report["ok"] is True and report["failures"] == [] and report["figures"]["seed"] == 1
    assert report["figures"]["rules_checked"] == len(report["rules"]) > 0
    assert report["target"].startswith(f"target {mock.url}")
    assert f"{report['figures']['requests_sent']} requests" in lines[-1]


def test_no_progress_and_text_format(mock: LiveServer, capsys) -> None:
    assert main(["check", "--base-url", mock.url, "--phases", "probes", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith(f"target {mock.url}") and "rules checked:" in out


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    stream = io.StringIO()
    progress = Progress(stream, tty=True)
    report = Report()
    progress.start("probes", 1, 2)
    progress.done("probes", 1, 2, report)
    progress.start("journey", 2, 2)
    progress.done("journey", 2, 2, report)
    text = stream.getvalue()
    assert text.count("\r\x1b[2K") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "[##########----------] 1/2 probes done" in text
    assert "[####################] 2/2 journey done" in text
