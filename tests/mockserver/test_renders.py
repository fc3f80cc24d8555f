"""The render registry without a server: submit, lookup by owner, polls, cancel, files and reset,
with its invariant after any sequence of moves (B-REN-*, U-14, U-15)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mockserver import media
from mockserver.clock import VirtualClock
from mockserver.errors import ApiError
from mockserver.state.accounts import Account
from mockserver.state.ledger import Ledger
from mockserver.state.renders import FILE_PROGRESS, ORDER, RenderJob, Renders

DRAFT: dict[str, Any] = {
    "t": [{"tt": 0, "id": "v", "sg": [{"id": "s", "st": 0, "d": 2000, "m": {"color": "#ff0000"}}]}],
    "d": 2000,
    "m": {"width": 64, "height": 64},
}
NOT_EXPORT_READY: dict[str, Any] = {"t": [{"tt": 0, "id": "v", "sg": []}], "d": 0, "m": {}}
DONE = media.RenderResult(duration_s=2.0, width=64, height=64, frames=2, size_bytes=1234)


@dataclass
class Encodings:
    """A stand-in encoder: each submit gets a future the test ends when it likes."""

    started: dict[Path, asyncio.Future[media.RenderResult]] = field(default_factory=dict)

    def __call__(self, draft: dict[str, Any], path: Path) -> asyncio.Future[media.RenderResult]:
        fut: asyncio.Future[media.RenderResult] = asyncio.get_running_loop().create_future()
        self.started[path] = fut
        return fut

    def finish(self, path: Path, ok: bool = True) -> None:
        fut = self.started[path]
        if not fut.done():
            if ok:
                fut.set_result(DONE)
            else:
                fut.set_exception(RuntimeError("encoder crashed"))
                fut.exception()  # seen: a failure no poll collects is no stray warning

    def finish_all(self) -> None:
        for path in self.started:
            self.finish(path)


def account(user_id: str, tier: str = "paid", credits: int = 100) -> Account:
    ledger = Ledger()
    ledger.grant(credits, 0)
    return Account(user_id, tier, ledger)


def registry(
    tmp_path: Path, time_scale: float = 0.0, free_tier_blocked: bool = False
) -> tuple[Renders, Encodings, VirtualClock]:
    clock = VirtualClock(time_scale, real=lambda: 0.0)
    encodings = Encodings()
    renders = Renders(
        random.Random(1), clock, tmp_path, encodings, duration_s=(30, 90), free_tier_blocked=free_tier_blocked
    )
    return renders, encodings, clock


async def settled(task: asyncio.Task[Any]) -> None:
    """Let a poll run until it answers or waits for its encoding (no real time passes)."""
    for _ in range(5):
        if task.done():
            return
        await asyncio.sleep(0)


def test_a_job_goes_pending_processing_completed_and_its_file_is_served(tmp_path: Path) -> None:
    """B-REN-09, B-REN-05: at time scale 0 each poll moves a job one stage on; once completed
    its file is served, under the name its URL quotes (B-REN-14)."""

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        owner = account("user_a")
        job = renders.submit(owner, "s1", "render_1", DRAFT, attributed=True)
        assert (job.status, job.progress) == ("pending", 5) and renders.file("render_1.mp4") is None
        assert (await renders.observe(job)).status == "processing"
        encodings.finish(job.output_path)
        assert (await renders.observe(job)).status == "completed"
        assert renders.file("render_1.mp4") == tmp_path / "render_1.mp4"
        assert (job.progress, job.output_bytes, job.output_duration_s) == (100, 1234, 2.0)
        assert [status for _, status in job.history] == ["pending", "processing", "completed"]
        renders.check()

    asyncio.run(scenario())


def test_virtual_time_moves_a_job_at_time_scale_one(tmp_path: Path) -> None:
    """B-REN-11: a job takes its drawn duration of virtual time; a clock advance past it completes it."""

    async def scenario() -> None:
        renders, encodings, clock = registry(tmp_path, time_scale=1.0)
        job = renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True)
        encodings.finish(job.output_path)
        assert (await renders.observe(job)).status == "pending"
        clock.advance(job.duration_s / 2)
        observed = await renders.observe(job)
        assert observed.status == "processing" and 10 < observed.progress < 95
        clock.advance(job.duration_s)
        assert (await renders.observe(job)).status == "completed"
        renders.check()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("fault", "status", "reason"), [("fail", "failed", "render failed"), ("stall", "processing", None)]
)
def test_faulted_jobs_fail_or_stall_without_encoding(
    tmp_path: Path, fault: str, status: str, reason: str | None
) -> None:
    """B-REN-09, U-14: a `fail` fault ends the job failed, a `stall` keeps it processing; neither encodes."""

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        job = renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True, fault=fault)
        for _ in range(4):
            await renders.observe(job)
        assert (job.status, job.reason) == (status, reason) and not encodings.started
        renders.check()

    asyncio.run(scenario())


def test_an_encoder_failure_is_a_failed_render(tmp_path: Path) -> None:
    """B-REN-09: the encoder crashing ends the job `failed`, reason `render failed`; nothing is served."""

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        job = renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True)
        encodings.finish(job.output_path, ok=False)
        await renders.observe(job)
        await renders.observe(job)
        assert (job.status, job.reason, renders.files) == ("failed", "render failed", {})
        renders.check()

    asyncio.run(scenario())


def test_a_cancel_ends_the_job_and_its_encoding_and_a_waiting_poll_answers(tmp_path: Path) -> None:
    """U-14: a cancel ends the job failed/cancelled and throws its encoding away; a poll waiting for
    that encoding answers `failed` too; a finished job stays as it was."""

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        job = renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True)
        await renders.observe(job)
        waiting = asyncio.create_task(renders.observe(job))  # completed by reads: waits for the file
        await settled(waiting)
        assert not waiting.done()
        renders.cancel(job)
        assert (await waiting).status == "failed" and job.reason == "cancelled"
        assert encodings.started[job.output_path].cancelled()
        done = renders.submit(account("user_a"), "s1", "render_2", DRAFT, attributed=True)
        encodings.finish(done.output_path)
        await renders.observe(done)
        await renders.observe(done)
        assert renders.cancel(done).status == "completed"
        renders.check()

    asyncio.run(scenario())


def test_refusals_leave_nothing_behind(tmp_path: Path) -> None:
    """B-ATTR-08, U-15: 402 for an anonymous export without attribution; B-STATE-05: 400 for a draft
    that is not export-ready; B-REN-03: 409 for an id used before. None of them makes a job."""

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True)
        refusals = [
            (account("anon_b", "anonymous"), "render_2", DRAFT, False, 402),
            (account("user_a"), "render_3", NOT_EXPORT_READY, True, 400),
            (account("user_b"), "render_1", DRAFT, True, 409),
        ]
        for who, render_id, draft, attributed, code in refusals:
            with pytest.raises(ApiError) as refused:
                renders.submit(who, "s1", render_id, draft, attributed=attributed)
            assert refused.value.code == code, refused.value.message
        assert list(renders) == ["render_1"] and len(encodings.started) == 1
        renders.check()

    asyncio.run(scenario())


def test_the_free_plan_may_be_blocked(tmp_path: Path) -> None:
    """B-REN-16: with the free tier blocked, a free account's export is 402 even with attribution;
    a paid account's goes through."""

    async def scenario() -> None:
        renders, _, _ = registry(tmp_path, free_tier_blocked=True)
        with pytest.raises(ApiError) as refused:
            renders.submit(account("user_f", "free"), "s1", "render_1", DRAFT, attributed=True)
        assert refused.value.code == 402 and "free plan" in refused.value.message
        renders.submit(account("user_p", "paid"), "s1", "render_1", DRAFT, attributed=True)

    asyncio.run(scenario())


def test_a_job_is_found_by_its_owner_only(tmp_path: Path) -> None:
    """U-16: another account's render is 404, as if it did not exist."""

    async def scenario() -> None:
        renders, _, _ = registry(tmp_path)
        owner, other = account("user_a"), account("user_b")
        job = renders.submit(owner, "s1", "render_1", DRAFT, attributed=True)
        assert renders.owned(owner, "render_1") is job
        for who, render_id in ((other, "render_1"), (owner, "render_x")):
            with pytest.raises(ApiError) as missing:
                renders.owned(who, render_id)
            assert missing.value.code == 404

    asyncio.run(scenario())


def test_the_invariant_sees_a_job_that_went_back(tmp_path: Path) -> None:
    """B-REN-09: check() is no formality: a status moved backwards, or a file served for a job that
    is not completed, fails it."""

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        job = renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True)
        encodings.finish(job.output_path)
        await renders.observe(job)
        await renders.observe(job)
        renders.check()
        job.status = "processing"
        with pytest.raises(AssertionError):
            renders.check()
        job.status = "completed"
        renders.files["other.mp4"] = tmp_path / "other.mp4"
        with pytest.raises(AssertionError):
            renders.check()

    asyncio.run(scenario())


# ------------------------------------------------------------------------------ any sequence of moves

OWNERS = ("user_a", "user_a", "anon_c")  # a paid account, mostly, and an anonymous one (402 unattributed)
IDS = ("render_1", "Render_1", "render 1")  # three jobs, three files (render_file_name)


class RenderMoves(RuleBasedStateMachine):
    """Any sequence of submits, polls, cancels, finished encodings, clock advances and resets.

    B-REN-09: a status only moves forward and a finished job stays finished; B-REN-03: an id is
    taken once; U-16: another owner's job is 404; U-14: a cancel ends a running job; B-REN-15: no
    move touches any credits; the registry's invariant holds after every move and once every poll
    that waited for its file has answered.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.accounts = {"user_a": account("user_a"), "anon_c": account("anon_c", "anonymous")}
        self.stranger = account("user_x")
        self.seen: dict[str, list[str]] = {}  # statuses each id answered, in order
        self.polls: list[asyncio.Task[RenderJob]] = []
        self.touches = 0

    @initialize(time_scale=st.sampled_from([0.0, 1.0]))
    def start(self, time_scale: float) -> None:
        self.renders, self.encodings, self.clock = registry(Path("renders"), time_scale)

    def job(self, index: int) -> RenderJob:
        jobs = list(self.renders.values())
        return jobs[index % len(jobs)]

    def jobs_state(self) -> list[tuple[Any, ...]]:
        return sorted(
            (job.id, job.owner, job.status, job.progress, job.reason) for job in self.renders.values()
        )

    def has_jobs(self) -> bool:
        return len(self.renders) > 0

    @rule(
        owner=st.sampled_from(OWNERS),
        render_id=st.sampled_from(IDS),
        ready=st.sampled_from([True, True, True, False]),  # an export-ready draft, mostly
        fault=st.sampled_from([None, None, None, "fail", "stall"]),
        attributed=st.sampled_from([True, True, False]),
    )
    def submit(self, owner: str, render_id: str, ready: bool, fault: str | None, attributed: bool) -> None:
        who = self.accounts[owner]
        if who.tier == "anonymous" and not attributed:
            expected = 402
        elif not ready:
            expected = 400
        else:
            expected = 409 if render_id in self.renders else 0
        before = self.jobs_state()
        draft = DRAFT if ready else NOT_EXPORT_READY

        async def move() -> None:
            self.renders.submit(who, "s1", render_id, draft, attributed=attributed, fault=fault)

        try:
            self.loop.run_until_complete(move())
        except ApiError as refused:
            assert refused.code == expected, refused.message
            assert self.jobs_state() == before  # a refusal leaves nothing behind
            return
        assert expected == 0
        self.seen[render_id] = ["pending"]

    @precondition(has_jobs)
    @rule(
        kind=st.sampled_from(["poll"] * 4 + ["encoded"] * 2 + ["cancel", "elapse"]),
        index=st.integers(0, 2),
        stranger=st.sampled_from([False, False, False, True]),  # a poll or cancel by someone else
        ok=st.sampled_from([True, True, False]),  # an encoding that succeeds
        seconds=st.floats(0, 120),
    )
    def touch(self, kind: str, index: int, stranger: bool, ok: bool, seconds: float) -> None:
        """A move on a job there is: polls most often, then finished encodings, cancels, time."""
        self.touches += 1
        job = self.job(index)
        if kind == "elapse":
            self.clock.advance(seconds)
        elif kind == "encoded":
            self.encoded(job, ok)
        elif not self.refused(job, stranger):
            self.poll(job) if kind == "poll" else self.cancel(job)

    def poll(self, job: RenderJob) -> None:
        task = self.loop.create_task(self.renders.observe(job))
        self.polls.append(task)
        self.loop.run_until_complete(settled(task))
        if task.done():
            self.seen[job.id].append(task.result().status)
        event(f"a poll {'answered ' + task.result().status if task.done() else 'waits for its file'}")

    def cancel(self, job: RenderJob) -> None:
        expected = (job.status, job.reason) if job.finished else ("failed", "cancelled")
        self.renders.cancel(job)
        assert (job.status, job.reason) == expected
        self.seen[job.id].append(job.status)
        self.loop.run_until_complete(asyncio.sleep(0))  # a poll waiting for the encoding answers

    def encoded(self, job: RenderJob, ok: bool) -> None:
        if job.output_path in self.encodings.started:
            self.encodings.finish(job.output_path, ok=ok)
            self.loop.run_until_complete(asyncio.sleep(0))

    def refused(self, job: RenderJob, stranger: bool) -> bool:
        """A stranger gets 404 (U-16); the owner finds the job."""
        who = self.stranger if stranger else next(a for a in self.accounts.values() if a.user_id == job.owner)
        try:
            assert self.renders.owned(who, job.id) is job and not stranger
        except ApiError as missing:
            assert missing.code == 404 and stranger
            return True
        return False

    @precondition(lambda self: self.touches >= 10)  # now and then, not before jobs had a life
    @rule()
    def reset(self) -> None:
        self.touches = 0
        self.renders.reset()
        self.seen.clear()
        self.loop.run_until_complete(asyncio.sleep(0))
        assert len(self.renders) == 0 and not self.renders.files

    @invariant()
    def consistent(self) -> None:
        if hasattr(self, "renders"):
            self.renders.check()
            for job in self.renders.values():
                if job.finished:
                    event(f"a job ended {job.status} ({job.reason})")

    async def answered(self) -> None:
        await asyncio.gather(*self.polls)

    def teardown(self) -> None:
        if hasattr(self, "renders"):
            self.encodings.finish_all()
            self.loop.run_until_complete(self.answered())
            self.renders.check()
        self.loop.close()
        for statuses in self.seen.values():
            ranks = [ORDER[status] for status in statuses]
            assert ranks == sorted(ranks), statuses  # never backwards
            assert len({s for s in statuses if s in ("completed", "failed")}) <= 1, statuses  # ends once
        for each in (*self.accounts.values(), self.stranger):  # B-REN-15: exports are free
            assert [entry.kind for entry in each.ledger.entries] == ["grant"]
            assert (each.ledger.available, each.ledger.frozen) == (100, 0)


RenderMoves.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
test_the_invariant_holds_under_any_sequence_of_moves = RenderMoves.TestCase


def test_a_file_that_takes_longer_than_a_poll_waits_leaves_the_job_processing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B-REN-09: a poll that finds the job due waits for its file at most FILE_WAIT_S; a file still
    being written keeps the job `processing` at FILE_PROGRESS (the request answers, the status
    never moves back); a later poll finds the file and completes it."""
    monkeypatch.setattr("mockserver.state.renders.FILE_WAIT_S", 0.01)

    async def scenario() -> None:
        renders, encodings, _ = registry(tmp_path)
        job = renders.submit(account("user_a"), "s1", "render_1", DRAFT, attributed=True)
        assert (await renders.observe(job)).status == "processing"
        for _ in range(3):  # due by reads, but the file is not there yet
            observed = await renders.observe(job)
            assert (observed.status, observed.progress) == ("processing", FILE_PROGRESS)
            assert renders.file("render_1.mp4") is None
            renders.check()
        encodings.finish(job.output_path)
        assert (await renders.observe(job)).status == "completed" and job.progress == 100
        assert renders.file("render_1.mp4") == tmp_path / "render_1.mp4"
        renders.check()

    asyncio.run(scenario())
