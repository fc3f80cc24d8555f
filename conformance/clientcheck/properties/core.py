"""Properties as data: a name, the rule ids, a one-line summary and a check returning a Verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..recording import Interaction
from ..world import World


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a property applies to a run and, if it is broken, how."""

    applies: bool
    problem: str | None = None

    @property
    def broken(self) -> bool:
        return self.problem is not None


HOLDS = Verdict(True)
NOT_APPLICABLE = Verdict(False)


def broken(problem: str) -> Verdict:
    return Verdict(True, problem)


Check = Callable[[World, Interaction], Verdict]


@dataclass(frozen=True, slots=True)
class Property:
    """A documented client reaction: its name, the rule ids it stands for, and its check."""

    name: str
    rules: tuple[str, ...]
    summary: str
    check: Check

    def __call__(self, world: World, interaction: Interaction) -> Verdict:
        return self.check(world, interaction)


PROPERTIES: list[Property] = []


def prop(name: str, *rules: str) -> Callable[[Check], Check]:
    """Register a check as a property; its docstring's first line is the summary."""

    def register(check: Check) -> Check:
        summary = (check.__doc__ or name).strip().splitlines()[0]
        PROPERTIES.append(Property(name, rules, summary, check))
        return check

    return register


def property_named(name: str) -> Property:
    for candidate in PROPERTIES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no client property {name!r}")


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken property on one world."""

    property: Property
    problem: str


def judge(
    world: World, interaction: Interaction, properties: list[Property] | None = None
) -> list[Violation]:
    """Every property `interaction` breaks."""
    found: list[Violation] = []
    for candidate in PROPERTIES if properties is None else properties:
        verdict = candidate(world, interaction)
        if verdict.problem is not None:
            found.append(Violation(candidate, verdict.problem))
    return found
