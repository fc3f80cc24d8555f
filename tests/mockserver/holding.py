"""Holding a recorded mock's turn mid-way, through the public `Backend.turn_gate` seam."""

from __future__ import annotations

import asyncio

from mockserver.operations import Operation
from mockserver.testing import LiveServer


class Hold:
    """Holds the next turn that reaches a step after emitting `events` events, until `release()`:
    the recorded client then acts while the turn is surely still running (at time scale 0 a turn
    otherwise often ends before the next request arrives). It wraps the recorder's gate and holds
    before the recorder notes the step, so the recording says where the turn really stood."""

    def __init__(self, server: LiveServer, events: int) -> None:
        self.server = server
        self.events = events
        self.held = False
        self.ended = False
        self.released: asyncio.Event | None = None
        noted = server.backend.turn_gate
        assert noted is not None

        async def gate(op: Operation) -> None:
            if not self.held and not self.ended and op.emitted >= self.events:
                self.held = True
                self.released = asyncio.Event()
                await self.released.wait()
            await noted(op)

        server.backend.turn_gate = gate

    def end(self) -> None:
        """Hold no turn from now on, and let the held one (if any) go on."""
        self.ended = True
        if self.held:
            self.release()

    def release(self) -> None:
        assert self.held, "the turn never got that far"
        released = self.released
        assert released is not None
        self.server.call(released.set)
