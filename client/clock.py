"""Clocks the client waits on: scaled real time in use, a fake one in tests.

`NEMO_TIME_SCALE` X makes every documented wait run X times faster, as the mock's virtual clock
does: a 30 s wait sleeps 30/X real seconds, and X = 0 does not wait at all. Virtual time always
moves by the full amount, so notices keyed to virtual time ("⏳ Still working..." every 2 min,
B-CLI-06) fire in the same order at every scale.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Virtual seconds and the ways to wait for them."""

    def now(self) -> float:
        """Virtual epoch seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of virtual time."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Wait for `seconds` of virtual time without blocking the event loop."""
        ...


def check_time_scale(value: float) -> float:
    """`value` as a time scale: finite and >= 0, else ValueError."""
    scale = float(value)
    if not math.isfinite(scale) or scale < 0:
        raise ValueError("time scale must be a finite number >= 0")
    return scale


class ScaledClock:
    """Real time scaled by `time_scale`; at scale 0 sleeps only move the virtual clock."""

    __slots__ = ("_asleep", "_offset", "_real", "_real0", "_sleep", "start", "time_scale")

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        start: float | None = None,
        real: Callable[[], float] = time.monotonic,
        real_sleep: Callable[[float], None] = time.sleep,
        real_asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.time_scale = check_time_scale(time_scale)
        self.start = time.time() if start is None else start
        self._real = real
        self._real0 = real()
        self._sleep = real_sleep
        self._asleep = real_asleep
        # Virtual seconds that passed without the matching real time (sleeps at scale 0,
        # and whatever a real sleep fell short of).
        self._offset = 0.0

    def now(self) -> float:
        return self.start + self._offset + (self._real() - self._real0) * self.time_scale

    def set_time_scale(self, time_scale: float) -> None:
        """Run at another scale from now on; virtual time so far is kept (the time-scale handshake)."""
        now = self.now()
        self.time_scale = check_time_scale(time_scale)
        self.start, self._offset, self._real0 = now, 0.0, self._real()

    def real_seconds(self, seconds: float) -> float:
        """The real time `seconds` of virtual time take (0 at scale 0)."""
        return 0.0 if self.time_scale == 0 else max(0.0, seconds) / self.time_scale

    def sleep(self, seconds: float) -> None:
        target = self.now() + max(0.0, seconds)
        real = self.real_seconds(seconds)
        if real > 0:
            self._sleep(real)
        self._catch_up(target)

    async def asleep(self, seconds: float) -> None:
        target = self.now() + max(0.0, seconds)
        await self._asleep(self.real_seconds(seconds))
        self._catch_up(target)

    def _catch_up(self, target: float) -> None:
        behind = target - self.now()
        if behind > 0:
            self._offset += behind


def seconds_text(seconds: float) -> str:
    """Real seconds for a message: "0.04", "0.4", "12.3"."""
    return f"{seconds:.2f}" if seconds < 0.1 else f"{seconds:.1f}"


class FakeClock:
    """A clock for tests: sleeps return at once, advance virtual time and are recorded."""

    __slots__ = ("_now", "sleeps")

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move virtual time forward without recording a sleep."""
        self._now += max(0.0, seconds)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)
