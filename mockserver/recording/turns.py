"""The mock's turns between events: noted in a recording, held in a re-enactment.

A turn waits only at numbered points (`mockserver.operations.TurnGate`: its start and each return
from the virtual clock); everything between two points runs at once. So where every turn stood
when a request arrived is the number of points each had passed, and a run's interleaving of turns
is the order in which they passed points, run-wide: the turn schedule.

- `TurnNotes` (recording) counts the points as turns pass them and hands the recorder the
  schedule in pieces, one per exchange written (`model.TurnMarks`).
- `TurnSchedule` (re-enactment) lets turns pass points only in the recorded order and only up to
  a limit: before a request is sent again, the turns are let on to where they stood when it
  arrived in the recording, and held there, so the request finds them at the same step.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.backend import Backend
    from mockserver.operations import Operation


def runs(order: list[str]) -> list[tuple[str, int]]:
    """A schedule as runs: (turn, how many points it passed in a row)."""
    out: list[tuple[str, int]] = []
    for op_id in order:
        if out and out[-1][0] == op_id:
            out[-1] = (op_id, out[-1][1] + 1)
        else:
            out.append((op_id, 1))
    return out


def expand(schedule_runs: list[tuple[str, int]]) -> list[str]:
    """The schedule `runs` made of."""
    return [op_id for op_id, count in schedule_runs for _ in range(count)]


class TurnNotes:
    """The recording side: the points turns pass, counted and listed in order."""

    __slots__ = ("_backend", "_unwritten", "_written", "passed")

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.passed = 0
        self._unwritten: list[str] = []
        self._written = 0

    async def gate(self, op: Operation) -> None:
        """`Backend.turn_gate` while recording: note the pass and go on (it never waits)."""
        self._unwritten.append(op.op_id)
        self.passed += 1

    def running(self) -> dict[str, int]:
        """Each running turn and the points it has passed."""
        return {op.op_id: op.pauses for op in self._backend.operations}

    def take(self) -> tuple[int, list[str]]:
        """The schedule since the last call: the run-wide index of its first point, and the turns."""
        start, turns = self._written, self._unwritten
        self._unwritten = []
        self._written = self.passed
        return start, turns


class TurnSchedule:
    """The re-enactment side: turns pass points in the recorded order, up to `limit`.

    Lives on the server's event loop. A run that leaves the recorded schedule (a turn the
    recording never had, or one that ended sooner) is not held forever: `reach` gives up after
    its timeout and lets every turn run free, so the comparison of answers says what differs.
    """

    def __init__(self, order: list[str], backend: Backend) -> None:
        self.order = order
        self.backend = backend
        self.cursor = 0  # points passed so far in this run
        self.limit = 0
        self.free = False
        self._gates: dict[int, asyncio.Future[None]] = {}  # id(op) -> its wait at a gate
        self._waiting: set[str] = set()
        self._changed: asyncio.Future[None] | None = None

    async def gate(self, op: Operation) -> None:
        """`Backend.turn_gate` while re-enacting: wait until the schedule names this turn."""
        while not self.free:
            if self.cursor < min(self.limit, len(self.order)) and self.order[self.cursor] == op.op_id:
                self.cursor += 1
                self._wake_gates()
                return
            fut = asyncio.get_running_loop().create_future()
            self._gates[id(op)] = fut
            self._waiting.add(op.op_id)
            self._note_change()
            try:
                await fut
            finally:
                self._gates.pop(id(op), None)
                self._waiting.discard(op.op_id)

    async def reach(self, limit: int, timeout: float) -> bool:
        """Let turns pass points up to `limit`, then return once each running turn waits at its
        next point (or has ended). False if that did not happen within `timeout` real seconds:
        the schedule is then dropped and every turn runs free."""
        if self.free:
            return False
        self.limit = max(self.limit, min(limit, len(self.order)))
        self._wake_gates()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._skip_ended()
            live = list(self.backend.operations)
            busy = [op.task for op in live if op.op_id not in self._waiting and op.task is not None]
            if self.cursor >= self.limit and not busy:
                return True
            left = deadline - loop.time()
            if left <= 0:
                self.release()
                return False
            self._changed = loop.create_future()
            await asyncio.wait([self._changed, *busy], timeout=left, return_when=asyncio.FIRST_COMPLETED)
            self._changed = None

    def release(self) -> None:
        """Drop the schedule: every turn runs on freely."""
        self.free = True
        self._wake_gates()

    def _skip_ended(self) -> None:
        """Points of turns that have ended in this run cannot be passed again: skip them."""
        live = {op.op_id for op in self.backend.operations}
        moved = False
        while self.cursor < self.limit and self.order[self.cursor] not in live:
            self.cursor += 1
            moved = True
        if moved:
            self._wake_gates()

    def _wake_gates(self) -> None:
        for fut in list(self._gates.values()):
            if not fut.done():
                fut.set_result(None)
        self._note_change()

    def _note_change(self) -> None:
        if self._changed is not None and not self._changed.done():
            with contextlib.suppress(asyncio.InvalidStateError):
                self._changed.set_result(None)
