"""The Backend's extension points, which variants of the mock (the planted bugs) build on:
`sessions_factory`, `turn_planned` and `settle_turn`. Each is called where its docstring says, and the
unchanged hooks leave the mock as it is (U-10, U-16, B-SSE-09, B-SSE-15)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import pytest

from mockserver.agent import Plan
from mockserver.backend import Backend
from mockserver.errors import ApiError
from mockserver.events import Apply
from mockserver.operations import Operation
from mockserver.settings import Settings
from mockserver.state.accounts import Account
from mockserver.state.sessions import Session, Sessions

GENERATE = "Generate a 10-second city timelapse video"
T = TypeVar("T")


def run(backend: Backend, scenario: Callable[[Backend], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario(backend)
        finally:
            await backend.aclose()

    return asyncio.run(main())


def paid_session(backend: Backend, credits: int = 1000) -> tuple[Account, Session]:
    _, account = backend.accounts.create_account("paid", credits, backend.clock.now())
    return account, backend.create_session(account, "p", "en")


async def finished(op: Operation) -> Operation:
    assert op.task is not None
    await op.task
    return op


class OwnSessions(Sessions):
    """A registry of the test's own class, to tell it from the mock's."""


def test_sessions_factory_builds_the_registry_at_start_and_on_each_reset() -> None:
    """U-16 stays with the registry: the factory's own `Sessions` finds and owns the sessions,
    a fresh one after every reset, from the seeded random source."""
    made: list[OwnSessions] = []

    def factory(rng: random.Random) -> OwnSessions:
        made.append(OwnSessions(rng))
        return made[-1]

    backend = Backend(Settings(time_scale=0, seed=3, access_log=False), sessions_factory=factory)

    async def scenario(backend: Backend) -> None:
        first = backend.sessions
        assert made == [first]
        account, session = paid_session(backend)
        assert first.owned(account, session.session_id) is session
        _, stranger = backend.accounts.create_account("paid", 10, backend.clock.now())
        with pytest.raises(ApiError) as refused:
            backend.sessions.owned(stranger, session.session_id)
        assert refused.value.code == 1002
        backend.reset()
        assert backend.sessions is not first and backend.sessions.sessions == {}

    run(backend, scenario)
    assert len(made) == 2 and made[1] is backend.sessions
    assert made[1].rng.random() == random.Random("3:sessions").random()  # seeded as the mock's own
    plain = Backend(Settings(time_scale=0, seed=3, access_log=False))
    try:
        assert type(plain.sessions) is Sessions
    finally:
        asyncio.run(plain.aclose())


class PlanRecorder(Backend):
    """Notes each plan and fault it is handed; drops the draft changes of every turn."""

    seen: list[tuple[Plan, str | None]]

    def turn_planned(self, plan: Plan, sse_fault: str | None) -> Plan:
        self.seen.append((plan, sse_fault))
        return replace(plan, steps=tuple(step for step in plan.steps if not isinstance(step, Apply)))


def test_turn_planned_sees_each_plan_with_its_fault_and_its_answer_is_what_runs() -> None:
    """B-SSE-09 is the agent's to keep: the hook gets the agent's plan and the turn's `sse` fault, once
    per turn, before the turn is priced; the plan it returns is the one that runs."""
    backend = PlanRecorder(Settings(time_scale=0, access_log=False))
    backend.seen = []

    async def scenario(backend: Backend) -> tuple[Session, Account, Operation]:
        account, session = paid_session(backend)
        op = await finished(backend.start_turn(account, session, GENERATE, "silent"))
        return session, account, op

    session, account, op = run(backend, scenario)
    ((plan, fault),) = backend.seen
    assert fault == "silent" and plan.kind == "generate"
    assert any(isinstance(step, Apply) for step in plan.steps)  # the agent's plan had the change
    assert not any(isinstance(step, Apply) for step in op.plan.steps)
    assert session.draft is None  # the hook's plan ran: no change reached the draft
    assert op.cost == backend.profile.generation_cost  # priced as the agent planned it
    assert account.ledger.spent == op.cost


def test_the_unchanged_hook_runs_the_agents_plan() -> None:
    """B-SSE-09: the mock's own `turn_planned` returns the plan it is given."""
    backend = Backend(Settings(time_scale=0, access_log=False))

    async def scenario(backend: Backend) -> Session:
        account, session = paid_session(backend)
        await finished(backend.start_turn(account, session, GENERATE, None))
        return session

    assert run(backend, scenario).draft is not None


class SettleRecorder(Backend):
    settled: list[tuple[str, str | None, int]]

    def settle_turn(self, op: Operation) -> None:
        self.settled.append((op.op_id, op.failed, op.account.ledger.frozen))
        super().settle_turn(op)


def test_settle_turn_is_called_once_per_turn_and_spends_the_hold() -> None:
    """U-10, B-SSE-15: a finished turn is settled once, its hold still frozen then and spent by it."""
    backend = SettleRecorder(Settings(time_scale=0, access_log=False))
    backend.settled = []

    async def scenario(backend: Backend) -> tuple[Account, Operation]:
        account, session = paid_session(backend)
        return account, await finished(backend.start_turn(account, session, GENERATE, None))

    account, op = run(backend, scenario)
    cost = backend.profile.generation_cost
    assert backend.settled == [(op.op_id, None, cost)]
    assert (account.ledger.available, account.ledger.frozen, account.ledger.spent) == (1000 - cost, 0, cost)
    account.ledger.check()


def test_a_cancelled_turn_is_settled_as_failed_and_its_credits_come_back() -> None:
    """U-10: a turn thrown away by a reset is settled with `failed` set; the hold goes back."""
    backend = SettleRecorder(Settings(time_scale=1, access_log=False))  # the turn waits on the clock
    backend.settled = []

    async def scenario(backend: Backend) -> tuple[Account, Operation]:
        account, session = paid_session(backend)
        op = backend.start_turn(account, session, GENERATE, None)
        stream = op.stream()
        await anext(stream)  # the turn has begun; its work now waits on the (real-time) clock
        await stream.aclose()
        assert account.ledger.frozen == backend.profile.generation_cost
        assert op.task is not None
        op.task.cancel()
        await asyncio.gather(op.task, return_exceptions=True)
        return account, op

    account, op = run(backend, scenario)
    assert backend.settled == [(op.op_id, "cancelled", backend.profile.generation_cost)]
    assert (account.ledger.available, account.ledger.frozen, account.ledger.spent) == (1000, 0, 0)


class KeepsHolds(Backend):
    def settle_turn(self, op: Operation) -> None:
        """Settles nothing: whatever a turn froze stays frozen."""


def test_a_variant_that_settles_nothing_leaves_the_hold_frozen() -> None:
    """U-10 is decided in `settle_turn` alone: a variant that keeps it empty leaves the credits frozen."""
    backend = KeepsHolds(Settings(time_scale=0, access_log=False))

    async def scenario(backend: Backend) -> Account:
        account, session = paid_session(backend)
        await finished(backend.start_turn(account, session, GENERATE, None))
        return account

    account = run(backend, scenario)
    assert account.ledger.frozen == backend.profile.generation_cost
    assert account.ledger.spent == 0
