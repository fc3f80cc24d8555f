"""The scripted agent plans today what it planned when the golden file was written (golden_plans.py).

A refactoring of the agent keeps every plan of every case: the tool calls (B-SSE-07), which edits
end without text (B-SSE-09), the waits (B-SSE-10), both stages of a generation (B-SSE-11) and the
trailing noise texts (B-SSE-12), for the same seed.
"""

from __future__ import annotations

from collections import Counter

from golden_plans import BASE_PROMPTS, case_digest, case_name, cases, load, make_bases


def test_every_plan_matches_its_golden_digest() -> None:
    """B-SSE-07, B-SSE-09, B-SSE-10, B-SSE-11, B-SSE-12: same message, draft, seed and profile,
    same plan."""
    bases, golden = load()
    assert set(golden) == set(cases()), "the golden file holds other cases: regenerate it"
    changed = [case_name(case) for case in cases() if case_digest(case, bases) != golden[case]]
    assert not changed, f"{len(changed)} of {len(golden)} plans changed, e.g.:\n" + "\n".join(changed[:20])


def test_the_golden_bases_are_what_the_planner_generates() -> None:
    """B-SSE-11: the drafts the edit cases start from are generations of today's planner."""
    bases, _ = load()
    assert list(bases) == sorted(BASE_PROMPTS) and bases == make_bases()


def test_the_cases_tell_plans_apart() -> None:
    """B-SSE-09, B-SSE-12: a digest that did not depend on the plan would compare equal for ever:
    most cases have a plan of their own (a generation ignores the draft before it, so those repeat),
    and the seed changes the plan of every message on every draft."""
    _, golden = load()
    assert len(Counter(golden.values())) > 0.45 * len(golden)
    by_message: dict[tuple[str, str, str | None], set[str]] = {}
    for (profile, _, message, base), value in golden.items():
        by_message.setdefault((profile, message, base), set()).add(value)
    assert sum(len(values) > 1 for values in by_message.values()) == len(by_message)
