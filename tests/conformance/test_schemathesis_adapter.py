"""schemathesis internals live in one adapter module, and a release that moves one fails here first,
naming the installed version (U-17: the check keeps working in CI)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib

import pytest

from checkout import PROJECT_DIR
from conformance import schemathesis_adapter as adapter
from conformance.check.checks import SCHEMATHESIS_CHECKS
from mockserver.testing import live_server

NEMO_CHECKS = [check.__name__ for check in SCHEMATHESIS_CHECKS]

INTERNAL = re.compile(r"schemathesis\.(core|generation\.(drivers|feedback|overrides))\b")


def test_every_internal_the_checker_uses_is_where_it_was() -> None:
    problems = adapter.moved()
    assert problems == [], adapter.explain(problems)


def test_a_moved_internal_is_named_with_the_installed_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter, "INTERNALS", (*adapter.INTERNALS, ("schemathesis.core.gone", "Thing")))
    monkeypatch.setattr(adapter, "COVERAGE_ARGUMENTS", (*adapter.COVERAGE_ARGUMENTS, "no_such_argument"))
    problems = adapter.moved()
    assert len(problems) == 2
    message = adapter.explain(problems)
    assert f"schemathesis {adapter.installed_version()} moved" in message
    assert "schemathesis.core.gone.Thing" in message and "no_such_argument" in message
    assert adapter.SUPPORTED in message


def imported_modules(path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_no_other_module_imports_schemathesis_internals() -> None:
    offenders = [
        f"{path.relative_to(PROJECT_DIR)}: {name}"
        for package in ("conformance", "contracts", "mockserver", "client")
        for path in sorted((PROJECT_DIR / package).rglob("*.py"))
        if path.name != "schemathesis_adapter.py"
        for name in imported_modules(path)
        if INTERNAL.match(name)
    ]
    assert offenders == []


def test_the_supported_range_and_requests_are_declared() -> None:
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = {re.split(r"[<>=\[ ]", spec, maxsplit=1)[0]: spec for spec in project["dependencies"]}
    assert requirements["schemathesis"] == f"schemathesis{adapter.SUPPORTED}"
    assert "requests" in requirements  # the checker imports it (conformance/check/generated.py)
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert f"schemathesis{adapter.SUPPORTED}" in readme


def st_examples(url: str, hooks: str | None, tmp_path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SCHEMATHESIS_HOOKS"}
    if hooks is not None:
        env["SCHEMATHESIS_HOOKS"] = hooks
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json"]
    command += ["--checks", ",".join(NEMO_CHECKS), "--phases", "examples", "--max-examples", "3"]
    command += ["--workers", "1", "--generation-database", "none", "--no-color"]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.live
def test_the_nemo_checks_run_from_schemathesis_own_cli(tmp_path) -> None:
    """U-17: `SCHEMATHESIS_HOOKS=conformance.schemathesis_hooks` registers every nemo_* check with `st`."""
    with live_server() as server:
        without = st_examples(server.url, None, tmp_path)
        assert without.returncode == 2 and "invalid choice(s): nemo_" in without.stderr
        done = st_examples(server.url, "conformance.schemathesis_hooks", tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "✅ Examples" in done.stdout and "No issues found" in done.stdout
