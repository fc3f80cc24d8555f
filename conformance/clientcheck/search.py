"""Drive a client through generated worlds with hypothesis and find a minimal world per broken property.

Two phases, on one seed:

1. explore: hypothesis generates `max_examples` worlds; every property judges every run;
2. shrink: for each property that broke, the same generation is replayed (same seed, runs
   memoised, so it costs nothing until the first failure) with only that property failing the
   test, and hypothesis shrinks it to a minimal world. Should the replay not meet the failure
   again, the world first seen is reported as it is.

Runs are memoised per world (worlds are frozen and hashable), so hypothesis's replays and the
shrinker's repeated worlds run the client once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .properties import PROPERTIES, Property
from .recording import Interaction
from .world import World, interrupted

Run = Callable[[World], Interaction]


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A property a client broke, the (minimal) world that shows it, and how."""

    property: Property
    world: World
    problem: str
    shrunk: bool

    def line(self) -> str:
        rules = ", ".join(self.property.rules)
        return f"FAIL {self.property.name} [{rules}]: {self.problem} | world: {self.world.describe()}"


@dataclass
class Report:
    """What a check found, with the figures of the run."""

    counterexamples: list[Counterexample] = field(default_factory=list)
    worlds: int = 0
    runs: int = 0
    applied: Counter[str] = field(default_factory=Counter)
    broken: Counter[str] = field(default_factory=Counter)
    features: Counter[str] = field(default_factory=Counter)
    properties: tuple[Property, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.counterexamples

    def lines(self) -> list[str]:
        """One line per broken property, then the figures."""
        out = [example.line() for example in self.counterexamples]
        verdict = "all hold" if self.ok else f"{len(self.counterexamples)} broken"
        out.append(
            f"client-check: {self.worlds} worlds, {self.runs} client runs, "
            f"{len(self.properties)} properties: {verdict}"
        )
        out.append("worlds: " + ", ".join(f"{name} {count}" for name, count in sorted(self.features.items())))
        out.append(
            "checks applied: " + ", ".join(f"{p.name} {self.applied[p.name]}" for p in self.properties)
        )
        return out


class PropertyBroken(AssertionError):
    """Raised inside hypothesis so it shrinks toward a smaller world that breaks the same property."""

    def __init__(self, world: World, problem: str) -> None:
        super().__init__(problem)
        self.world = world
        self.problem = problem


class _Memo:
    """Runs each world once."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.seen: dict[World, Interaction] = {}

    def __call__(self, world: World) -> Interaction:
        found = self.seen.get(world)
        if found is None:
            found = self.seen[world] = self.run(world)
        return found


def world_features(world: World) -> list[str]:
    """Labels for the figures: the request kind and the behaviours the world exercises."""
    labels: list[str] = [world.request.kind]
    if world.stream is not None:
        if interrupted(world.stream):
            labels.append("interrupted streams")
        if world.dialect == "adk":
            labels.append("adk streams")
    for fault in world.faults:
        labels.append("429 bursts" if fault.code == 429 else f"error {fault.code}")
    if world.faults and world.error_status == "mapped":
        labels.append("mapped statuses")
    if world.render is not None:
        labels.append(f"render shape {world.render.shape}")
    return labels


def _settings(max_examples: int, phases: Iterable[Phase]) -> settings:
    return settings(
        max_examples=max_examples,
        phases=tuple(phases),
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )


def check_client(
    run: Run,
    strategy: st.SearchStrategy[World],
    *,
    max_examples: int = 100,
    seed: int = 0,
    shrink: bool = True,
    properties: Iterable[Property] | None = None,
) -> Report:
    """Run the client on generated worlds; report each broken property with a minimal world."""
    chosen = tuple(PROPERTIES if properties is None else properties)
    memo = _Memo(run)
    report = Report(properties=chosen)
    first_seen: dict[str, tuple[World, str]] = {}
    explored: set[World] = set()

    def explore(world: World) -> None:
        interaction = memo(world)
        if world in explored:
            return
        explored.add(world)
        report.features.update(world_features(world))
        for candidate in chosen:
            verdict = candidate(world, interaction)
            if verdict.applies:
                report.applied[candidate.name] += 1
            if verdict.problem is not None:
                report.broken[candidate.name] += 1
                first_seen.setdefault(candidate.name, (world, verdict.problem))

    _search(explore, strategy, _settings(max_examples, [Phase.generate]), seed)
    report.worlds = len(explored)

    for candidate in chosen:
        if candidate.name not in first_seen:
            continue
        world, problem = first_seen[candidate.name]
        shrunk = False
        if shrink:
            found = _shrink(candidate, memo, strategy, max_examples, seed)
            if found is not None:
                world, problem, shrunk = found.world, found.problem, True
        report.counterexamples.append(Counterexample(candidate, world, problem, shrunk))
    report.runs = len(memo.seen)
    return report


def _shrink(
    candidate: Property, memo: _Memo, strategy: st.SearchStrategy[World], max_examples: int, seed: int
) -> PropertyBroken | None:
    def fails(world: World) -> None:
        verdict = candidate(world, memo(world))
        if verdict.problem is not None:
            raise PropertyBroken(world, verdict.problem)

    try:
        _search(fails, strategy, _settings(max_examples, [Phase.generate, Phase.shrink]), seed)
    except PropertyBroken as found:
        return found
    except BaseExceptionGroup as group:  # hypothesis found it flaky or several origins
        matched, _rest = group.split(PropertyBroken)
        if matched is not None:
            leaf = _first_leaf(matched)
            if isinstance(leaf, PropertyBroken):
                return leaf
    return None


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _search(
    test: Callable[[World], None], strategy: st.SearchStrategy[World], config: settings, seed: int
) -> None:
    @hypothesis_seed(seed)
    @config
    @given(strategy)
    def search(world: World) -> None:
        test(world)

    search()
