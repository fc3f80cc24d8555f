"""The virtual clock (INTERFACE.md --time-scale; every documented duration runs on it)."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.clock import DEFAULT_START, VirtualClock


class FakeReal:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_scale_multiplies_real_time() -> None:
    """--time-scale X: X virtual seconds per real second."""
    real = FakeReal()
    clock = VirtualClock(10, real=real)
    assert clock.now() == DEFAULT_START
    real.t += 3
    assert clock.now() == pytest.approx(DEFAULT_START + 30)


def test_advance_moves_forward_only() -> None:
    """POST /_mock/clock/advance moves virtual time forward (token expiry B-AUTH-05)."""
    clock = VirtualClock(0, real=FakeReal())
    assert clock.advance(7 * 86400) == DEFAULT_START + 7 * 86400
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_scale_zero_sleep_jumps_the_clock_without_waiting() -> None:
    """At scale 0 a 200 s generation costs no real time but 200 virtual seconds pass."""
    clock = VirtualClock(0)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(40):
            await clock.sleep(5)
        return loop.time() - t0

    real_elapsed = asyncio.run(main())
    assert clock.now() == pytest.approx(DEFAULT_START + 200)
    assert real_elapsed < 0.5


def test_advance_wakes_sleepers_at_scale_one() -> None:
    """A test at real time can advance past a sleeper's deadline instead of waiting for it."""
    clock = VirtualClock(1)

    async def main() -> bool:
        sleeper = asyncio.ensure_future(clock.sleep(3600))
        await asyncio.sleep(0)
        assert not sleeper.done()
        clock.advance(1800)
        await asyncio.sleep(0)
        still_waiting = not sleeper.done()
        clock.advance(1800)
        await asyncio.wait_for(sleeper, timeout=2)
        return still_waiting

    assert asyncio.run(main())


def test_reset_returns_to_start() -> None:
    """POST /_mock/reset: clock back to start."""
    clock = VirtualClock(0)
    clock.advance(500)
    clock.reset()
    assert clock.now() == DEFAULT_START


def test_negative_scale_refused() -> None:
    with pytest.raises(ValueError):
        VirtualClock(-1)
