"""The GitHub Actions workflow's steps run here as they run there (U-17): its script starts the mock
with --port-file, checks it and leaves a JUnit file, and stops the mock."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import yaml

from checkout import PROJECT_DIR

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "contract.yml"

pytestmark = pytest.mark.live


def steps() -> list[dict[str, object]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    found: list[dict[str, object]] = job["steps"]
    return found


def named(name: str) -> dict[str, object]:
    (step,) = [s for s in steps() if s.get("name") == name]
    return step


def test_the_workflow_installs_as_the_readme_says_and_uploads_the_junit_file() -> None:
    assert named("Install")["run"] == "python -m pip install -e '.[dev]'"
    check = named("Start the mock and check it")
    upload = named("Upload the JUnit report")
    assert upload["if"] == "always()" and str(upload["uses"]).startswith("actions/upload-artifact@")
    reports = check["env"]["REPORTS_DIR"]  # type: ignore[index]
    assert upload["with"]["path"] == f"{reports}/contract.xml"  # type: ignore[index]


def test_the_check_step_runs_locally(tmp_path: Path) -> None:
    check = named("Start the mock and check it")
    env = {
        **os.environ,
        **{k: str(v) for k, v in check["env"].items()},  # type: ignore[attr-defined]
        "REPORTS_DIR": str(tmp_path / "reports"),
        # The same steps, fewer phases: the full check runs in the workflow and in test_check_cli.
        "NEMO_CHECK_ARGS": "--phases probes,journey --seed 3 --no-progress",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-c", str(check["run"])],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reports = tmp_path / "reports"
    suite = ET.parse(reports / "contract.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) > 0 and suite.get("failures") == "0"
    url = (reports / "mock.url").read_text().strip()
    assert url.startswith("http://127.0.0.1:") and f"target {url}" in done.stdout
    with pytest.raises(httpx.ConnectError):  # the script stopped the mock it started
        httpx.get(f"{url}/_mock/health", timeout=5)
