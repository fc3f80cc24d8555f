"""Hypothesis walks (state machines) against a live server, which keeps its own state.

Hypothesis remembers what each walk drew; when the server's answers change what a walk can draw
(a link with nothing to follow now, a bundle that stayed empty), it stops with
`FlakyStrategyDefinition`. That says nothing about the server, so it is no failure: as
schemathesis' own runner does, the walk goes on in a fresh session under the next seed, and the
report notes it.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis.errors import FlakyStrategyDefinition

from conformance.check.report import Report

FRESH_SESSIONS = 3


def walk(run: Callable[[int], None], *, seed: int, report: Report, phase: str) -> None:
    """`run(seed)`, again under the next seed while the server's state makes hypothesis call it flaky."""
    for attempt in range(FRESH_SESSIONS):
        try:
            run(seed + attempt)
        except FlakyStrategyDefinition:
            report.note(f"{phase}: the server's state changed what a walk could draw (seed {seed + attempt})")
            continue
        return
    report.note(f"{phase}: stopped after {FRESH_SESSIONS} walks that the server's state made inconsistent")
