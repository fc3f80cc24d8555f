"""The sample suite in examples/plugin_suite runs under plain pytest with only the plugin (U-17),
sharing one server per set of settings, and passes the same with a server per test."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from checkout import PROJECT_DIR

SUITE = PROJECT_DIR / "examples" / "plugin_suite"
SUMMARY = re.compile(r"nemo: (\d+) mock servers? started")
PASSED = re.compile(r"(\d+) passed")

pytestmark = pytest.mark.live


def run_suite(*options: str) -> tuple[int, int, float]:
    """(tests passed, servers started, seconds) of one run of the sample suite."""
    began = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(SUITE),
            *options,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - began
    assert done.returncode == 0, done.stdout + done.stderr
    passed, servers = PASSED.search(done.stdout), SUMMARY.search(done.stdout)
    assert passed, done.stdout
    # Under xdist the workers start the servers and the controller prints no count: -1.
    assert servers or "-n" in options, done.stdout
    return int(passed.group(1)), int(servers.group(1)) if servers else -1, seconds


def test_the_sample_suite_shares_servers(record_property) -> None:
    """U-17: one server per distinct settings, not one per test; the same tests pass either way."""
    tests, shared, shared_s = run_suite()
    tests_again, per_test, per_test_s = run_suite("--nemo-server-per-test")
    assert tests == tests_again and tests >= 15
    # The suite uses four distinct settings (default, a scenario with steps, mapped errors, the v4.4
    # shapes) and one private server: five starts, against one per test that uses a server.
    assert shared == 5
    assert per_test == tests + 1  # every test's own server, and the private one beside it
    record_property(
        "sample_suite",
        f"{tests} tests: shared {shared} servers {shared_s:.1f}s, "
        f"per test {per_test} servers {per_test_s:.1f}s",
    )


def test_the_sample_suite_runs_under_xdist() -> None:
    """Under pytest-xdist each worker keeps its own shared servers: the same tests pass."""
    tests, _, _ = run_suite()
    tests_in_workers, _, _ = run_suite("-n", "2")
    assert tests_in_workers == tests
