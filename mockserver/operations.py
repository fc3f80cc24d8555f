"""Runs one accepted `/run_sse` turn against a session, whether or not anyone is listening.

The operation is its own task: the HTTP stream only reads what it emits. A client that
disconnects detaches the stream; the draft and the ledger then change exactly as if it had stayed
(B-SSE-14). When the work ends, well or not, the operation calls `settle`: the backend then spends
the credits frozen at the start, or returns them on failure (`Backend.settle_turn`; B-SSE-15, U-10).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING

from contracts import wording
from mockserver.events import (
    Apply,
    Call,
    Heartbeat,
    Result,
    RunError,
    Say,
    StreamEvent,
    Text,
    ToolCall,
    ToolResult,
    Work,
)
from mockserver.faults import StreamFault, stream_fault

if TYPE_CHECKING:
    from mockserver.agent import Plan
    from mockserver.clock import VirtualClock
    from mockserver.state.accounts import Account
    from mockserver.state.sessions import Session

log = logging.getLogger("nemo-mock")

#: B-CLI-07: a client gives up after 10 minutes of heartbeats only; the fault runs past that.
HEARTBEATS_ONLY_S = 660.0
#: U-04: every 4th heartbeat is the empty `data:` form.
EMPTY_HEARTBEAT_EVERY = 4
#: U-18: the wording of the trailing noise text, per language (one home: `contracts.wording`).
TEMPORARY_ISSUE = wording.TEMPORARY_ISSUE

_CLOSE = None

#: Awaited by a turn at each point where it may be held: its start and each return from the clock
#: (the only places it waits). A recording notes the order turns pass them; a re-enactment holds
#: turns there so that a request finds each one at the step it had reached (mockserver.recording).
TurnGate = Callable[["Operation"], Awaitable[None]]


class Operation:
    """One turn: a plan, the hold on the ledger, and the stream listening to it (if any).

    Lean on purpose (one of these per open stream, 10,000 at a time): slots, a plain deque
    with one waiter future instead of an asyncio.Queue (four deques and an Event).
    """

    __slots__ = (
        "_buffer",
        "_cursor",
        "_drop_after",
        "_quiet_until",
        "_waiter",
        "account",
        "clock",
        "cost",
        "emitted",
        "encode",
        "failed",
        "fault",
        "finished_at",
        "gate",
        "heartbeats",
        "interval",
        "listening",
        "on_done",
        "op_id",
        "pauses",
        "plan",
        "session",
        "settle",
        "shape",
        "started_at",
        "task",
        "texts",
    )

    def __init__(
        self,
        *,
        op_id: str,
        plan: Plan,
        session: Session,
        account: Account,
        cost: int,
        clock: VirtualClock,
        heartbeat_interval_s: float,
        encode: Callable[[StreamEvent], bytes],
        settle: Callable[[Operation], None],
        sse_fault: str | None = None,
        on_done: Callable[[Operation], None] | None = None,
        gate: TurnGate | None = None,
    ) -> None:
        self.op_id = op_id
        self.plan = plan
        self.session = session
        self.account = account
        self.cost = cost
        self.clock = clock
        self.interval = heartbeat_interval_s
        self.encode = encode
        #: Called when the work ends (`failed` None when it went well): settles the turn's credits.
        self.settle = settle
        self.fault = sse_fault
        self.on_done = on_done
        self.gate = gate
        #: Gates reached so far (`TurnGate`): where the turn is, counted the same in every run.
        self.pauses = 0
        self._buffer: deque[bytes | None] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.listening = True
        self.emitted = 0
        self.heartbeats = 0
        self.texts = 0
        self.started_at = clock.now()
        self._cursor = self.started_at  # where the turn's virtual schedule has got to
        self.finished_at: float | None = None
        self.failed: str | None = None
        #: The `sse` fault taken apart (`faults.stream_fault`): what this turn and its writer do.
        self.shape: StreamFault | None = stream_fault(sse_fault) if sse_fault else None
        shape = self.shape
        self._drop_after = shape.k if shape is not None and shape.kind == "drop" else None
        #: No heartbeat before this virtual time (`heartbeat_gap:S` from the start; `stall:K:S` after K).
        self._quiet_until: float | None = None
        if shape is not None and shape.kind == "heartbeat_gap":
            self._quiet_until = self.started_at + shape.s
        self.task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ the stream side

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"operation {self.op_id}")
        return self.task

    def detach(self) -> None:
        """The listener left: keep working, stop buffering."""
        self.listening = False
        self._buffer.clear()

    def end_stream(self) -> None:
        """End the listener's stream now, after what it has been sent (server shutdown)."""
        self._close_stream()

    @property
    def quiet_until(self) -> float | None:
        """Until when the stream stays silent (`stall:K:S`), once the K-th event is out."""
        return self._quiet_until

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The bytes for the HTTP response, in batches, until the operation closes the stream.

        Under a fault on the wire, one event per item: the writer counts them."""
        if self.shape is not None and self.shape.on_wire:
            async for event in self._events():
                yield event
            return
        buffer = self._buffer
        try:
            while True:
                if not buffer:
                    self._waiter = asyncio.get_running_loop().create_future()
                    await self._waiter
                    self._waiter = None
                chunks: list[bytes] = []
                while buffer:
                    chunk = buffer.popleft()
                    if chunk is _CLOSE:
                        if chunks:
                            yield b"".join(chunks)
                        return
                    chunks.append(chunk)
                yield b"".join(chunks)
        finally:
            self.detach()

    async def _events(self) -> AsyncGenerator[bytes, None]:
        buffer = self._buffer
        try:
            while True:
                if not buffer:
                    self._waiter = asyncio.get_running_loop().create_future()
                    await self._waiter
                    self._waiter = None
                item = buffer.popleft()
                if item is None:  # _CLOSE
                    return
                yield item
        finally:
            self.detach()

    def _push(self, chunk: bytes | None) -> None:
        self._buffer.append(chunk)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _emit(self, event: StreamEvent) -> None:
        if not self.listening:
            return
        if self.fault == "heartbeats_only" and not isinstance(event, Heartbeat):
            return
        self._push(self.encode(event))
        self.emitted += 1
        shape = self.shape
        if shape is not None and shape.kind == "stall" and self.emitted == shape.k:
            self._quiet_until = self.clock.now() + shape.s
        if self._drop_after is not None and self.emitted >= self._drop_after:
            self._close_stream()

    def _close_stream(self) -> None:
        if self.listening:
            self._push(_CLOSE)
            self.listening = False

    # ------------------------------------------------------------------ the work side

    async def _work(self, seconds: float) -> None:
        """Spend virtual time, with a heartbeat every interval (B-SSE-06, U-04).

        The turn follows a fixed virtual schedule from its start: each step begins where the
        last one ended, so a clock advance past the schedule releases every remaining step and
        beat at once: the same events, just sooner.
        """
        start = self._cursor
        end = start + seconds
        self._cursor = end
        beat = 1
        while self.interval > 0 and start + beat * self.interval <= end:
            at = start + beat * self.interval
            await self.clock.sleep_until(at)
            await self._pause()
            beat += 1
            if self._quiet_until is not None and at < self._quiet_until:
                continue  # `heartbeat_gap`, `stall`: silence, while the work goes on
            self.heartbeats += 1
            self._emit(Heartbeat("empty" if self.heartbeats % EMPTY_HEARTBEAT_EVERY == 0 else "json"))
        await self.clock.sleep_until(end)
        await self._pause()

    async def _pause(self) -> None:
        self.pauses += 1
        if self.gate is not None:
            await self.gate(self)

    async def _run(self) -> None:
        try:
            await self._pause()
            for step in self.plan.steps:
                if isinstance(step, Say):
                    if self.fault == "silent":
                        continue  # B-SSE-09 forced: no text at all, the draft still changes
                    self.texts += 1
                    self._emit(Text(step.text))
                elif isinstance(step, Call):
                    self._emit(ToolCall(step.name, step.args, step.call_id))
                elif isinstance(step, Result):
                    self._emit(ToolResult(step.name, step.result, step.call_id))
                elif isinstance(step, Work):
                    await self._work(step.seconds)
                elif isinstance(step, Apply):
                    self._apply(step)
            if self.fault == "temporary_issue":
                self._emit(Text(TEMPORARY_ISSUE[self.plan.language]))  # B-SSE-12, in the turn's language
            self.settle(self)
        except asyncio.CancelledError:
            # A reset or shutdown throws the work away: the credits go back.
            self.failed = "cancelled"
            self.settle(self)
            raise
        except Exception as exc:  # the turn failed: refund and say so in the stream
            log.exception("operation %s failed", self.op_id)
            self.failed = str(exc) or type(exc).__name__
            self.settle(self)
            self._emit(RunError("The operation failed; no credits were charged."))
        finally:
            if self.fault == "heartbeats_only" and self.failed is None:
                await self._heartbeats_until(self.started_at + HEARTBEATS_ONLY_S)
            self.finished_at = self.clock.now()
            self.session.running -= 1
            self._close_stream()
            if self.on_done is not None:
                self.on_done(self)

    async def _heartbeats_until(self, deadline: float) -> None:
        if self.listening and self._cursor < deadline:
            await self._work(deadline - self._cursor)

    def _apply(self, step: Apply) -> None:
        session = self.session
        session.draft = step.change(session.draft)
        for media in step.generated_media:
            session.generated_media.append(dict(media))
            if media.get("type") == "video":
                session.video_infos.append({**media, "source": "generated"})
