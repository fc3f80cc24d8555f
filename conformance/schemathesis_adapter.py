"""Every schemathesis name the checker uses from outside schemathesis' documented API, in one place.

schemathesis keeps its internals (`schemathesis.core.*`, `schemathesis.generation.*`) free to move
between minor releases, and the checker needs a few of them: the coverage generator and what it
takes, the failure classes a check raises, the result type of a call, the file samples. They are
imported here and nowhere else, so a schemathesis release that moves one fails in one place, with
a message naming the installed version and the supported range, instead of deep inside a run.
`tests/conformance/test_schemathesis_adapter.py` holds each of them to the shape the checker uses.
"""

from __future__ import annotations

import importlib.metadata
import inspect

#: The schemathesis releases the checker is tested with (pyproject.toml states the same range).
SUPPORTED = ">=4.32,<5"
#: (module, name) of every internal the checker imports.
INTERNALS = (
    ("schemathesis.core.failures", "Failure"),
    ("schemathesis.core.failures", "FailureGroup"),
    ("schemathesis.core.failures", "Severity"),
    ("schemathesis.core.result", "Ok"),
    ("schemathesis.core.file_samples", "FILE_SAMPLES"),
    ("schemathesis.generation.drivers", "CoverageGenerator"),
    ("schemathesis.generation.feedback", "FeedbackSources"),
    ("schemathesis.generation.overrides", "Override"),
)
#: Keyword arguments the checker passes to `CoverageGenerator`.
COVERAGE_ARGUMENTS = (
    "operation",
    "generation_modes",
    "generation_config",
    "auth_storage",
    "override",
    "feedback",
)


def installed_version() -> str:
    try:
        return importlib.metadata.version("schemathesis")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def moved() -> list[str]:
    """What the checker needs and the installed schemathesis lacks, one phrase each (empty: all there)."""
    import importlib

    problems = []
    found = {}
    for module_name, name in INTERNALS:
        try:
            found[name] = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{module_name}.{name} ({type(exc).__name__}: {exc})")
    generator = found.get("CoverageGenerator")
    if generator is not None:
        parameters = inspect.signature(generator).parameters
        missing = [arg for arg in COVERAGE_ARGUMENTS if arg not in parameters]
        if missing:
            problems.append(f"CoverageGenerator no longer takes {', '.join(missing)}")
    failure = found.get("Failure")
    if failure is not None and not hasattr(failure, "_unique_key"):
        problems.append("Failure no longer deduplicates by _unique_key (RuleViolation overrides it)")
    return problems


def explain(problems: list[str]) -> str:
    return (
        f"schemathesis {installed_version()} moved internals the contract checker uses "
        f"(supported: schemathesis{SUPPORTED}): " + "; ".join(problems)
    )


try:
    from schemathesis.core.failures import Failure, FailureGroup, Severity
    from schemathesis.core.file_samples import FILE_SAMPLES
    from schemathesis.core.result import Ok
    from schemathesis.generation.drivers import CoverageGenerator
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.generation.overrides import Override
except ImportError as _exc:  # pragma: no cover - only with an unsupported schemathesis
    raise ImportError(explain(moved() or [str(_exc)])) from _exc

__all__ = [
    "FILE_SAMPLES",
    "SUPPORTED",
    "CoverageGenerator",
    "Failure",
    "FailureGroup",
    "FeedbackSources",
    "Ok",
    "Override",
    "Severity",
    "explain",
    "installed_version",
    "moved",
]
