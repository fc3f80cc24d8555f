"""schemathesis internals live in one adapter module, and a release that moves one fails here first,
naming the installed version (U-17: the check keeps working in CI)."""

from __future__ import annotations

import ast
import re
import tomllib

import pytest

from checkout import PROJECT_DIR
from conformance import schemathesis_adapter as adapter

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
