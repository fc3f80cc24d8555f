"""A credits ledger: available / frozen / total, with `total == available + frozen` always (B-CRED-02).

Credits are frozen when an operation starts, spent when it ends and returned when it fails
(U-10). Every movement is recorded, so the balance can be re-derived and audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockserver.errors import INSUFFICIENT_CREDITS, ApiError


@dataclass(frozen=True, slots=True)
class Entry:
    """One movement of credits."""

    at: float
    kind: str  # grant | freeze | spend | release
    amount: int
    operation: str | None


@dataclass(slots=True)
class Ledger:
    """One account's credits."""

    available: int = 0
    frozen: int = 0
    spent: int = 0
    holds: dict[str, int] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.available + self.frozen

    def grant(self, amount: int, at: float) -> None:
        if amount < 0:
            raise ValueError("grants are not negative")
        self.available += amount
        self.entries.append(Entry(at, "grant", amount, None))

    def freeze(self, operation: str, amount: int, at: float) -> None:
        """Hold `amount` for `operation`, or refuse with 2001 and change nothing (B-CRED-05)."""
        if amount < 0:
            raise ValueError("holds are not negative")
        if operation in self.holds:
            raise ValueError(f"operation {operation} already holds credits")
        if amount > self.available:
            raise ApiError(
                INSUFFICIENT_CREDITS,
                f"Insufficient credits: {amount} needed, {self.available} available",
            )
        self.available -= amount
        self.frozen += amount
        self.holds[operation] = amount
        self.entries.append(Entry(at, "freeze", amount, operation))

    def spend(self, operation: str, at: float) -> int:
        """The operation finished: its hold is spent."""
        amount = self.holds.pop(operation)
        self.frozen -= amount
        self.spent += amount
        self.entries.append(Entry(at, "spend", amount, operation))
        return amount

    def release(self, operation: str, at: float) -> int:
        """The operation failed: its hold goes back to available."""
        amount = self.holds.pop(operation)
        self.frozen -= amount
        self.available += amount
        self.entries.append(Entry(at, "release", amount, operation))
        return amount

    def check(self) -> None:
        """Raise AssertionError when the invariants do not hold."""
        assert self.available >= 0 and self.frozen >= 0, "negative balance"
        assert self.frozen == sum(self.holds.values()), "frozen differs from the open holds"
        granted = sum(e.amount for e in self.entries if e.kind == "grant")
        assert granted == self.available + self.frozen + self.spent, "credits created or lost"
