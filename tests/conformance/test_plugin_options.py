"""The plugin's shared server under other settings and its readable failures (U-17), run as a user's
suite in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.live

CONFTEST = """
import pytest
from mockserver.settings import Settings


@pytest.fixture
def nemo_settings():
    return Settings(time_scale=0, access_log=False, control_token="a-long-control-token")
"""

TESTS = """
import httpx
import pytest


def test_first(nemo_live, nemo_journal, nemo_faults):
    httpx.post(nemo_live.url + "/api/auth/anonymous-token", headers={"X-Client-Id": "one"})
    nemo_faults.arm(method="GET", path="/api/*", delay_ms=1, times=None)
    assert len(nemo_journal.requests("POST")) == 1


def test_second_sees_a_reset_mock(nemo_live, nemo_journal, nemo_faults):
    assert nemo_journal.requests() == [] and nemo_faults.rules() == []


def test_unmet_expectation(nemo_live, nemo_journal):
    httpx.post(nemo_live.url + "/api/auth/anonymous-token", headers={"X-Client-Id": "two"})
    nemo_journal.assert_requested("GET", "/api/credits/*", times=2)


@pytest.mark.nemo(dialekt="adk")
def test_misspelt_marker(nemo_live):
    pass
"""


def test_control_token_reset_and_readable_failures(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_user.py").write_text(TESTS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert "1 failed, 2 passed, 1 error" in out, out
    assert (
        "FAILED test_user.py::test_unmet_expectation" in out
        and "ERROR test_user.py::test_misspelt_marker" in out
    )
    # The unmet expectation says what was wanted and lists what the mock saw.
    assert "expected GET /api/credits/* 2 times, matched 0; the mock saw 1 request(s):" in out, out
    assert "POST /api/auth/anonymous-token -> 200 code=0" in out
    unmet = out[out.index("_ test_unmet_expectation _") :].split("\n___", 1)[0]
    assert "plugin.py" not in unmet  # the failure points at the user's test, not into the plugin
    # A misspelt marker setting is named, with the ones that exist.
    assert (
        "unknown setting 'dialekt'; known: profile, dialect, render_shape, error_status, scenario" in out
    ), out
    assert "nemo: 1 mock server started" in out
