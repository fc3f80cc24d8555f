"""The credits ledger: total = available + frozen at every instant (B-CRED-02, B-SSE-15, U-10)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.errors import INSUFFICIENT_CREDITS, ApiError
from mockserver.state.ledger import Ledger


def test_freeze_spend_release() -> None:
    """B-SSE-15: frozen while running, spent at the end; U-10: returned on failure."""
    ledger = Ledger()
    ledger.grant(250, 0)
    ledger.freeze("gen", 100, 1)
    assert (ledger.available, ledger.frozen, ledger.total) == (150, 100, 250)
    ledger.freeze("edit", 50, 2)
    ledger.spend("gen", 3)
    ledger.release("edit", 4)
    assert (ledger.available, ledger.frozen, ledger.total, ledger.spent) == (150, 0, 150, 100)
    ledger.check()


def test_insufficient_credits_is_2001_and_changes_nothing() -> None:
    """B-CRED-05: out of credits -> 2001; the refused operation leaves the balance as it was."""
    ledger = Ledger()
    ledger.grant(40, 0)
    with pytest.raises(ApiError) as info:
        ledger.freeze("gen", 100, 1)
    assert info.value.code == INSUFFICIENT_CREDITS
    assert (ledger.available, ledger.frozen, ledger.holds) == (40, 0, {})


@given(st.lists(st.tuples(st.sampled_from(["freeze", "spend", "release"]), st.integers(0, 150)), max_size=40))
def test_invariant_holds_under_any_sequence(moves: list[tuple[str, int]]) -> None:
    """B-CRED-02: after any sequence of moves, total = available + frozen, nothing negative or lost."""
    ledger = Ledger()
    ledger.grant(300, 0)
    open_ops: list[str] = []
    for n, (kind, amount) in enumerate(moves):
        if kind == "freeze":
            try:
                ledger.freeze(f"op{n}", amount, n)
                open_ops.append(f"op{n}")
            except ApiError:
                pass
        elif open_ops:
            op = open_ops.pop(0)
            (ledger.spend if kind == "spend" else ledger.release)(op, n)
        assert ledger.total == ledger.available + ledger.frozen
        ledger.check()
