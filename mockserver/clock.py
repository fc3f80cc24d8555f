"""The virtual clock every documented duration of the mock runs on.

`time_scale` X: X virtual seconds pass per real second. At scale 0 nothing waits: a sleep moves
the virtual clock forward by the slept amount and returns at once, so a turn produces the same
events, in the same order and with the same virtual timestamps as at scale 1.

`advance()` (the control API's `POST /_mock/clock/advance`) moves virtual time forward and wakes
every sleeper whose deadline has passed, at any scale.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: Virtual time at start-up and after a reset: 2026-03-11T00:00:00Z, near the dates in the sources.
DEFAULT_START = 1773187200.0


class VirtualClock:
    """Virtual epoch seconds, scaled from a monotonic real clock, with an advance offset."""

    __slots__ = ("_offset", "_real", "_real0", "_sleepers", "start", "time_scale")

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        start: float = DEFAULT_START,
        real: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale < 0:
            raise ValueError("time scale must be >= 0")
        self.time_scale = float(time_scale)
        self.start = start
        self._real = real
        self._real0 = real()
        self._offset = 0.0
        self._sleepers: dict[asyncio.Future[None], tuple[float, asyncio.TimerHandle | None]] = {}

    def now(self) -> float:
        """Virtual epoch seconds."""
        return self.start + self._offset + (self._real() - self._real0) * self.time_scale

    def reset(self) -> None:
        """Back to the start time; sleepers are woken (their work is being thrown away)."""
        self._offset = 0.0
        self._real0 = self._real()
        for fut, (_, handle) in list(self._sleepers.items()):
            if handle is not None:
                handle.cancel()
            if not fut.done():
                fut.set_result(None)
        self._sleepers.clear()

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by `seconds` (>= 0); returns the new now()."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        now = self.now()
        for fut, (deadline, handle) in list(self._sleepers.items()):
            if fut.done():
                continue
            if handle is not None:
                handle.cancel()
            if deadline <= now:
                fut.set_result(None)
            else:
                self._arm(fut, deadline, now)
        return now

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of virtual time (at scale 0: jump the clock, yield once, return)."""
        await self.sleep_until(self.now() + seconds)

    async def sleep_until(self, deadline: float) -> None:
        """Wait until virtual time `deadline`; an `advance()` past it wakes the sleeper at once."""
        now = self.now()
        if deadline <= now:
            await asyncio.sleep(0)
            return
        if self.time_scale == 0:
            self._offset += deadline - now
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._arm(fut, deadline, now)
        try:
            await fut
        finally:
            entry = self._sleepers.pop(fut, None)
            if entry is not None and entry[1] is not None:
                entry[1].cancel()

    def _arm(self, fut: asyncio.Future[None], deadline: float, now: float) -> None:
        delay = (deadline - now) / self.time_scale
        handle = asyncio.get_running_loop().call_later(delay, _wake, fut)
        self._sleepers[fut] = (deadline, handle)

    def real_seconds(self, virtual_seconds: float) -> float:
        """How long `virtual_seconds` take in real time (0 at scale 0)."""
        return 0.0 if self.time_scale == 0 else virtual_seconds / self.time_scale


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
