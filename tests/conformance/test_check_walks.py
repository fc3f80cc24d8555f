"""A hypothesis walk made inconsistent by the server's moving state is no finding about the server."""

from __future__ import annotations

import pytest
from hypothesis.errors import FlakyStrategyDefinition

from conformance.check.report import Report
from conformance.check.walks import FRESH_SESSIONS, walk


def test_an_inconsistent_walk_goes_on_under_the_next_seed() -> None:
    """B-ERR-01: the report holds no error, notes the fresh session, and the walk ran to its end."""
    report = Report(seed=5)
    seeds: list[int] = []

    def run(seed: int) -> None:
        seeds.append(seed)
        if len(seeds) == 1:
            raise FlakyStrategyDefinition("Inconsistent data generation!")

    walk(run, seed=5, report=report, phase="links")
    assert seeds == [5, 6]
    assert not report.errors and report.ok
    assert any(note.startswith("links: the server's state changed") for note in report.notes)


def test_it_stops_after_a_few_fresh_sessions() -> None:
    """B-ERR-01: a walk that never stays consistent ends with a note, not an endless loop."""
    report = Report(seed=1)
    seeds: list[int] = []

    def run(seed: int) -> None:
        seeds.append(seed)
        raise FlakyStrategyDefinition("Inconsistent data generation!")

    walk(run, seed=1, report=report, phase="stateful")
    assert seeds == list(range(1, 1 + FRESH_SESSIONS))
    assert report.notes[-1].startswith("stateful: stopped after")


def test_anything_else_still_breaks_off_the_phase() -> None:
    """B-ERR-01: a real error is not swallowed; the runner records it for the phase."""

    def run(seed: int) -> None:
        raise RuntimeError("no answer")

    with pytest.raises(RuntimeError):
        walk(run, seed=1, report=Report(seed=1), phase="links")
