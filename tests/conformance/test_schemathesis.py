"""Schemathesis as an outside judge: its own CLI and default checks against a live mock's /openapi.json.

Every phase runs, stateful included, with a paid account's token (README: "Schemathesis against
the mock"). `--error-status mapped` passes every default check. In the default `body` mode the API
answers every business error, a missing token included, with HTTP 200 and the code in the body
(U-01), which defies the three checks that take a 4xx for the only form of refusal; those, and only
those, are excluded there. The hook `conformance.schemathesis_files` gives schemathesis real image
files for upload parts, since a JSON Schema cannot say that a file's bytes must be a video, image
or audio file (B-UPL-05, U-13).
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

#: Checks whose only refusal is a 4xx; body mode refuses with HTTP 200 and a body code (U-01).
BODY_MODE_EXCLUSIONS = ("ignored_auth", "missing_required_header", "negative_data_rejection")
HOOKS = "conformance.schemathesis_files"
SEED = 1
SMALL_BUDGET = 10  # cases per operation and phase; the default suite stays fast
RUN_TIMEOUT_S = 600


@dataclass(frozen=True, slots=True)
class Run:
    """One `st run`: its exit status, console output and JUnit figures."""

    returncode: int
    output: str
    tests: int
    failures: int
    errors: int

    @property
    def failed_checks(self) -> set[str]:
        """The `STnnn` codes the summary lists as failed."""
        summary = self.output.rpartition("SUMMARY")[2]
        return {line.split()[1] for line in summary.splitlines() if line.strip().startswith("❌ ST")}


def paid_token(server: LiveServer) -> str:
    """A paid account with credits to spare, so no generated turn runs out (2001) or is refused (402)."""
    answer = httpx.post(f"{server.url}/_mock/accounts", json={"tier": "paid", "credits": 10_000_000})
    token: str = answer.json()["token"]
    return token


def st_run(
    server: LiveServer, workdir: Path, *, max_examples: int, seed: int, exclude: tuple[str, ...] = ()
) -> Run:
    """Schemathesis' own runner, as a user runs it, against the server's /openapi.json."""
    junit = workdir / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {paid_token(server)}",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
        "--no-color",
    ]
    if exclude:
        command += ["--exclude-checks", ",".join(exclude)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS}
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    output = done.stdout + done.stderr
    root = ET.parse(junit).getroot() if junit.exists() else ET.Element("testsuites")
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))

    def total(key: str) -> int:
        return sum(int(suite.get(key, 0)) for suite in suites)

    return Run(done.returncode, output, total("tests"), total("failures"), total("errors"))


def assert_clean(run: Run) -> None:
    assert run.returncode == 0, run.output[-6000:]
    assert run.failures == 0 and run.errors == 0, run.output[-6000:]
    assert run.tests >= 11, run.output[-3000:]  # every operation of the document was tested
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in run.output, f"phase {phase} did not pass:\n{run.output[-3000:]}"


def registered_media_types(hooks: str | None) -> list[str]:
    """The media types schemathesis has strategies for once it loaded `SCHEMATHESIS_HOOKS=hooks`."""
    probe = (
        "from schemathesis.core.hooks import load_from_env; load_from_env();"
        "from schemathesis.core.media_types import MEDIA_TYPE_STRATEGIES as m; print(' '.join(sorted(m)))"
    )
    env = {k: v for k, v in os.environ.items() if k != "SCHEMATHESIS_HOOKS"}
    if hooks is not None:
        env["SCHEMATHESIS_HOOKS"] = hooks
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.split()


@pytest.mark.parametrize("hooks", [HOOKS, "contracts.schemathesis_files"], ids=["documented", "old address"])
def test_the_hook_teaches_schemathesis_the_upload_formats(hooks: str) -> None:
    """B-UPL-05, U-13: the documented hook module, and its old address, give schemathesis a file
    strategy for each image type the upload takes; without a hook it has none."""
    assert not {"image/png", "image/jpeg"} & set(registered_media_types(None))
    assert {"image/png", "image/jpeg", "image/gif", "image/webp"} <= set(registered_media_types(hooks))


@pytest.fixture
def mapped_server() -> LiveServer:
    return LiveServer(Settings(time_scale=0, seed=7, error_status="mapped", access_log=False))


@pytest.fixture
def body_server() -> LiveServer:
    return LiveServer(Settings(time_scale=0, seed=7, access_log=False))


def test_mapped_mode_passes_every_default_check(mapped_server: LiveServer, tmp_path: Path) -> None:
    """U-01, U-12, B-ERR-01, B-AUTH-02, B-REN-03, B-REN-04, B-UPL-05: with mapped statuses the served
    document passes all of schemathesis' default checks in every phase, stateful included."""
    with mapped_server as server:
        run = st_run(server, tmp_path, max_examples=SMALL_BUDGET, seed=SEED)
    assert_clean(run)


def test_body_mode_passes_with_the_documented_exclusions(body_server: LiveServer, tmp_path: Path) -> None:
    """U-01, B-ERR-01, B-AUTH-14: in the default mode every check passes but the three whose only
    refusal is a 4xx."""
    with body_server as server:
        run = st_run(server, tmp_path, max_examples=SMALL_BUDGET, seed=SEED, exclude=BODY_MODE_EXCLUSIONS)
    assert_clean(run)


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
@pytest.mark.parametrize("seed", [2, 3, 4])
def test_mapped_mode_with_the_default_budget(mapped_server: LiveServer, tmp_path: Path, seed: int) -> None:
    """U-01, U-12, B-ERR-01, B-REN-04: schemathesis' default of 100 cases per operation, three seeds."""
    with mapped_server as server:
        run = st_run(server, tmp_path, max_examples=100, seed=seed)
    assert_clean(run)


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
@pytest.mark.parametrize("seed", [2, 3])
def test_body_mode_with_the_default_budget(body_server: LiveServer, tmp_path: Path, seed: int) -> None:
    """U-01, B-ERR-01: as above, in body mode with the documented exclusions."""
    with body_server as server:
        run = st_run(server, tmp_path, max_examples=100, seed=seed, exclude=BODY_MODE_EXCLUSIONS)
    assert_clean(run)


@pytest.mark.slow
def test_body_mode_fails_only_the_excluded_checks(body_server: LiveServer, tmp_path: Path) -> None:
    """U-01, B-AUTH-14: the exclusion is no blanket. Without it, body mode fails exactly the checks it
    names: a missing token answers HTTP 200 with code 1001 (ST401 ignored_auth, ST203
    missing_required_header, ST201 negative_data_rejection), and nothing else fails."""
    with body_server as server:
        run = st_run(server, tmp_path, max_examples=20, seed=SEED)
    assert run.returncode != 0
    assert "ST401" in run.failed_checks, run.output[-3000:]
    assert run.failed_checks <= {"ST401", "ST203", "ST201"}, run.output[-6000:]
