"""The user's path, walked two ways: a fixed journey, and a hypothesis state machine that mixes the steps.

The journey takes every step once, in the documented order, so each rule is met on every run.
`ContractMachine` (a `RuleBasedStateMachine`) draws its own sequences of the same steps over
bundles of sessions and renders, with the credits invariant (B-CRED-02) after each step. Steps
record outcomes instead of raising, so a broken rule never makes hypothesis shrink against a
server whose state has moved on; the report keeps the first request that broke each rule.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from conformance.check.report import Report
from conformance.check.samples import EDITS, GENERATION, QUESTIONS, title_edit
from conformance.check.target import Target
from conformance.check.walker import Account, RenderRef, SessionRef, Walker, exportable
from conformance.check.walks import walk

#: Steps per scenario: enough for session, generation, edit, render, poll and download.
STEPS_PER_SCENARIO = 12
SILENT_EDIT_FAULT = {"method": "POST", "path": "/run_sse", "sse": "silent"}


def journey(target: Target, report: Report) -> None:
    """Every step once, in order; steps that spend run only when the target allows it."""
    walk = Walker(target, report, "journey")
    account = walk.account()
    walk.settle(account)
    session = walk.create_session(account)
    if session is None:
        return
    walk.state(session)
    walk.turn(session, QUESTIONS[0], "question", user_id="me")
    if account.user_id:
        walk.turn(session, QUESTIONS[1], "question", user_id=account.user_id)  # B-SSE-03
    walk.turn(session, QUESTIONS[2], "question", user_id=None)  # B-SSE-03
    if not target.may_spend:
        report.note("generation, edits, uploads and renders left out: a real backend needs --allow-spend")
        walk.foreign(session)
        return
    walk.turn(session, GENERATION, "generation")
    for text in EDITS[:3]:
        walk.turn(session, text, "edit")
    with target.fault(SILENT_EDIT_FAULT) as armed:
        if armed:  # B-SSE-09 on demand: the edit happens, no text is sent
            walk.turn(session, title_edit(f"Silent {uuid.uuid4().hex[:6]}"), "edit", changes=True)
    walk.upload(session)
    walk.state(session)
    render = walk.submit_render(session) if exportable(session.draft) else None
    if render is not None:
        walk.duplicate_render(render)
        walk.download(render)  # usually before completion: 409 (U-14)
        walk.finish(render)
        walk.download(render)
    walk.foreign(session, render)


class ContractMachine(RuleBasedStateMachine):
    """Random walks over sessions and renders; bind `walker` with `machine_for()`."""

    walker: ClassVar[Walker]
    sessions = Bundle("sessions")
    renders = Bundle("renders")

    def __init__(self) -> None:
        super().__init__()
        self.user: Account | None = None
        self.titles = 0

    @property
    def spends(self) -> bool:
        return self.walker.target.may_spend

    @initialize()
    def sign_in(self) -> None:
        self.user = self.walker.account(fresh=True)
        self.walker.settle(self.user)

    @rule(target=sessions)
    def create_session(self) -> Any:
        assert self.user is not None
        session = self.walker.create_session(self.user)
        return multiple() if session is None else session

    @rule(session=sessions, text=st.sampled_from(QUESTIONS), user_id=st.sampled_from(["me", "own", None]))
    def ask(self, session: SessionRef, text: str, user_id: str | None) -> None:
        if user_id == "own":
            user_id = session.account.user_id or "me"
        self.walker.turn(session, text, "question", user_id=user_id)

    @precondition(lambda self: self.spends)
    @rule(session=sessions)
    def generate(self, session: SessionRef) -> None:
        self.walker.turn(session, GENERATION, "generation")

    @precondition(lambda self: self.spends)
    @rule(session=sessions, text=st.sampled_from(EDITS))
    def edit(self, session: SessionRef, text: str) -> None:
        self.walker.turn(session, text, "edit")

    @precondition(lambda self: self.spends)
    @rule(session=sessions)
    def retitle(self, session: SessionRef) -> None:
        self.titles += 1
        self.walker.turn(session, title_edit(f"Take {self.titles}"), "edit", changes=True)

    @precondition(lambda self: self.spends)
    @rule(session=sessions)
    def upload(self, session: SessionRef) -> None:
        self.walker.upload(session)

    @rule(session=sessions)
    def read_state(self, session: SessionRef) -> None:
        self.walker.state(session)

    @precondition(lambda self: self.spends)
    @rule(target=renders, session=sessions)
    def export(self, session: SessionRef) -> Any:
        if not exportable(session.draft):
            return multiple()
        render = self.walker.submit_render(session)
        return multiple() if render is None else render

    @rule(render=renders)
    def poll(self, render: RenderRef) -> None:
        self.walker.poll(render)

    @rule(render=renders)
    def download(self, render: RenderRef) -> None:
        self.walker.download(render)

    @rule(session=sessions)
    def foreign_read(self, session: SessionRef) -> None:
        self.walker.foreign(session)

    @invariant()
    def balance_holds(self) -> None:
        if self.user is not None:
            self.walker.balance(self.user)  # B-CRED-02 by the response checks


def machine_for(walker: Walker) -> type[ContractMachine]:
    """A machine class bound to one walker (hypothesis builds a fresh instance per scenario)."""
    return type("BoundContractMachine", (ContractMachine,), {"walker": walker})


def run_machine(target: Target, report: Report, *, scenarios: int, seed: int) -> None:
    """`scenarios` random walks of up to STEPS_PER_SCENARIO steps each."""
    machine = machine_for(Walker(target, report, "stateful"))
    config = settings(
        max_examples=scenarios,
        stateful_step_count=STEPS_PER_SCENARIO,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )

    def run(walk_seed: int) -> None:
        hypothesis_seed(walk_seed)(get_state_machine_test(machine, settings=config))()

    walk(run, seed=seed, report=report, phase="stateful")
