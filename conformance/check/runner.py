"""One check run: detect the target, take the phases in order, return the report.

Phases, cheapest and most certain first: `probes` (one targeted request per rule), `journey`
(every step of the user's path once), the schemathesis phases `examples`, `coverage`, `fuzzing`
and `links`, and `stateful` (the hypothesis machine). A phase that breaks off records an error
and the run goes on with the next one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from conformance.check.generated import PHASES as SCHEMA_PHASES
from conformance.check.generated import SchemaDriver
from conformance.check.probes import Probes
from conformance.check.report import Report
from conformance.check.stateful import journey, run_machine
from conformance.check.target import DEFAULT_TIMEOUT_S, Target

ALL_PHASES = ("probes", "journey", *SCHEMA_PHASES, "stateful")
DEFAULT_MAX_EXAMPLES = 20
#: Scenarios of the stateful machine per --max-examples against an instant mock.
EXAMPLES_PER_SCENARIO = 5


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What `nemo-contract check` was asked to do."""

    base_url: str
    token: str | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    allow_spend: bool = False
    seed: int | None = None  # None: a fresh one, printed with the figures
    phases: tuple[str, ...] = ALL_PHASES
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        unknown = [phase for phase in self.phases if phase not in ALL_PHASES]
        if unknown:
            raise ValueError(f"unknown phases {unknown}; choose from {', '.join(ALL_PHASES)}")
        if self.max_examples < 1:
            raise ValueError("max_examples must be at least 1")


class PhaseListener(Protocol):
    """Told when each phase starts and ends (`conformance.check.progress.Progress` draws it)."""

    def start(self, phase: str, index: int, total: int) -> None: ...

    def done(self, phase: str, index: int, total: int, report: Report) -> None: ...


def describe(target: Target) -> str:
    if target.control is None:
        spend = "spending allowed" if target.allow_spend else "safe calls only"
        return f"target {target.base_url}: no /_mock control API, {spend}"
    c = target.control
    return (
        f"target {target.base_url}: mock with control API (profile {c.profile}, dialect {c.dialect}, "
        f"render shape {c.render_shape}, errors {c.error_status}, time scale {c.time_scale:g})"
    )


def run_check(
    options: CheckOptions,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = time.sleep,
    on_start: Callable[[str], None] | None = None,
    progress: PhaseListener | None = None,
) -> Report:
    """Check the server at `options.base_url`; raises `TargetError` when it cannot be reached."""
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    report = Report(seed=seed)
    target = Target(
        options.base_url,
        report=report,
        token=options.token,
        allow_spend=options.allow_spend,
        timeout_s=options.timeout_s,
        transport=transport,
        sleep=sleep,
    )
    drivers: list[SchemaDriver] = []  # one for every schemathesis phase of the run
    try:
        target.detect()
        if on_start is not None:
            on_start(describe(target))
        total = len(options.phases)
        for index, phase in enumerate(options.phases, start=1):
            if progress is not None:
                progress.start(phase, index, total)
            _run_phase(phase, target, report, options, seed, drivers)
            if progress is not None:
                progress.done(phase, index, total, report)
    finally:
        for driver in drivers:
            driver.close()
        target.close()
        report.finish()
    return report


def _run_phase(
    phase: str, target: Target, report: Report, options: CheckOptions, seed: int, drivers: list[SchemaDriver]
) -> None:
    try:
        if phase == "probes":
            Probes(target, report).run()
        elif phase == "journey":
            journey(target, report)
        elif phase == "stateful":
            scenarios = max(2, options.max_examples // EXAMPLES_PER_SCENARIO) if target.instant else 1
            run_machine(target, report, scenarios=scenarios, seed=seed)
        else:
            if not drivers:
                drivers.append(SchemaDriver(target, report, max_examples=options.max_examples, seed=seed))
            drivers[0].run([phase])
    except Exception as exc:  # one phase breaking off must not hide what the others find
        report.error(phase, f"stopped: {type(exc).__name__}: {exc}")
