"""Re-running a recording against a fresh mock: what the tests `nemo-mock repro` writes call.

`Reenactment.start(header)` starts the mock the header describes (same settings, profile and
scenario; `mockserver.recording.header`), then each recorded request is sent again and its answer
is turned into an `Answer`, which compares equal to the recorded one when nothing changed:

- tokens: the recording holds aliases (`masking`); requests get the real tokens this mock handed
  out (learnt from its answers), answers are masked the same way before comparing, so the same
  seed gives the same aliases;
- hosts and ports: the run was served on another port, so every URL origin (the recorded hosts,
  any loopback `http://127.0.0.1:<port>`, the live mock) reads `http://nemo-mock` in both;
- binary and elided bodies compare by SHA-256 and size; SSE answers compare event by event;
- clock readings: at a time scale above 0 the control API's clock answers (`now`) depend on real
  time, so only their status is compared; at scale 0 they are exact and compared whole.

What happens between events is re-enacted too, when the recording noted it (`TurnMarks`; any
recording of the mock): each request is held until the virtual moment it arrived at in the
recording, and every running turn is held at the step it had reached then (`turns.TurnSchedule`),
so a state read while a turn runs, or a second message sent meanwhile, finds the same draft, the
same ledger and the same turns as in the recording, however fast this machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from mockserver.masking import Masker
from mockserver.recording.header import scenario_from_header, settings_from_header
from mockserver.recording.model import (
    Exchange,
    Recording,
    body_bytes,
    body_digest,
    digest_of,
    is_textual,
    split_events,
)
from mockserver.recording.turns import TurnSchedule
from mockserver.scenarios import install
from mockserver.testing import LiveServer

ORIGIN = "http://nemo-mock"
LOOPBACK = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0)(?::\d+)?")
#: Headers whose values an answer is compared on (length, date and the like may differ).
COMPARED_HEADERS = (
    "content-type",
    "retry-after",
    "cache-control",
    "x-accel-buffering",
    "content-disposition",
)
#: Request headers the client library sets for the new connection.
NOT_RESENT = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive"})
#: Control answers that read the virtual clock (compared by status only at a time scale above 0).
CLOCK_PATHS = frozenset({"/_mock/clock", "/_mock/clock/advance"})
CLOCK_READING = "(a clock reading: not compared at a time scale above 0)"
TIMEOUT = httpx.Timeout(60.0)
SETTLE_TIMEOUT_S = 60.0
#: How long turns may take to reach the recorded step before the schedule is dropped (real seconds).
REACH_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Answer:
    """What a client saw of one response, normalised for comparison."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # text, or `sha256:<hex> (<n> bytes)` for binary bodies
    events: list[str] | None = None  # SSE answers: one item per event


def normalise(text: str, origins: list[str]) -> str:
    for origin in sorted(origins, key=len, reverse=True):
        text = text.replace(origin, ORIGIN)
    return LOOPBACK.sub(ORIGIN, text)


def _as_exchange(record: dict[str, Any] | Exchange) -> Exchange:
    return record if isinstance(record, Exchange) else Exchange.from_record(record)


@dataclass(slots=True)
class Pending:
    """A request sent whose answer has not been read yet (an open stream, say)."""

    exchange: Exchange
    response: httpx.Response


class Reenactment:
    """A fresh mock and a client that sends it the recorded requests."""

    def __init__(
        self,
        server: LiveServer,
        header: dict[str, Any],
        origins: list[str],
        schedule: TurnSchedule | None = None,
    ) -> None:
        self.server = server
        self.header = header
        self.recorded_origins = list(origins)
        self.running_clock = server.settings.time_scale > 0
        self.masker = Masker()
        self.http = httpx.Client(base_url=server.url, timeout=TIMEOUT)
        self.schedule = schedule

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        header: dict[str, Any],
        origins: list[str] | tuple[str, ...] = (),
        *,
        time_scale: float | None = None,
        schedule: list[str] | None = None,
    ) -> Iterator[Reenactment]:
        """The mock of `header` (at `time_scale` if given), live until the block ends.

        With `schedule` (`Recording.schedule()`), turns pass their steps in the recorded order and
        each request meets them where the recording did.
        """
        settings = settings_from_header(header, time_scale=time_scale)
        scenario = scenario_from_header(header)
        server = LiveServer(settings)
        turns = None if schedule is None else TurnSchedule(list(schedule), server.backend)
        if turns is not None:
            server.backend.turn_gate = turns.gate
        if scenario is not None:
            install(server.app, server.backend, scenario)
        with server:
            reenactment = cls(server, header, list(origins), turns)
            try:
                yield reenactment
            finally:
                reenactment.http.close()

    # ------------------------------------------------------------------ sending

    def _rebase(self, text: str) -> str:
        """Recorded origins in a request (an upload URL of the mock's own /cdn/) point here now."""
        for origin in self.recorded_origins:
            text = text.replace(origin, self.server.url)
        return self.masker.unmask(text)

    def settle(self, running: int | None, timeout: float = SETTLE_TIMEOUT_S) -> None:
        """Wait until no more turns run than did when the recorded request arrived.

        A turn goes on after its stream ends (a dropped stream, B-SSE-14); whether the next request
        finds its change depends on that, so the re-run waits as the recorded run did.
        """
        if running is None:
            return
        backend = self.server.backend

        async def settled() -> None:
            # On the server's loop: wake when a turn ends, not on a real-time poll.
            while len(backend.operations) > running:
                tasks = [op.task for op in backend.operations if op.task is not None]
                if not tasks:
                    return
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)

        async def bounded() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(settled(), timeout)

        self.server.call(bounded)

    @classmethod
    def of(
        cls, recording: Recording, *, time_scale: float | None = None
    ) -> contextlib.AbstractContextManager[Reenactment]:
        """`start` for a loaded recording: its header, origins and turn schedule."""
        return cls.start(
            recording.header, recording.origins(), time_scale=time_scale, schedule=recording.schedule()
        )

    def reach(self, steps: int) -> None:
        """Let the turns on to run-wide step `steps` of the recorded schedule, and hold them there."""
        schedule = self.schedule
        if schedule is None:
            return

        async def reached() -> bool:
            return await schedule.reach(steps, REACH_TIMEOUT_S)

        self.server.call(reached)

    def hold_until(self, at: float) -> None:
        """Hold the next request until the virtual moment `at` (at scale 0: move the clock there)."""
        clock = self.server.backend.clock

        async def wait() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(clock.sleep_until(at), REACH_TIMEOUT_S)

        self.server.call(wait)  # at scale 0 one jump; above it, waits of bounded length
        while clock.time_scale > 0 and clock.now() < at:
            self.server.call(wait)

    def _before(self, exchange: Exchange) -> None:
        """Bring the mock to where the recorded run was when `exchange` arrived."""
        marks = exchange.turns
        if marks is None or self.schedule is None:
            self.settle(exchange.running)
            return
        # A plain answer is built when it is sent: the turns had got as far as when it started. A
        # stream starts its own turn, whose steps can only come once it is sent.
        steps = marks.arrived if exchange.streamed or marks.answered is None else marks.answered
        self.reach(steps)
        self.hold_until(exchange.at)

    def open(self, record: dict[str, Any] | Exchange) -> Pending:
        """Send the recorded request; the answer's headers are in, its body not yet read."""
        exchange = _as_exchange(record)
        self._before(exchange)
        headers = [
            (name, self.masker.unmask(value))
            for name, value in exchange.request_headers
            if name.lower() not in NOT_RESENT
        ]
        content = body_bytes(exchange.request_body)
        if "text" in exchange.request_body:
            content = self._rebase(exchange.request_body["text"]).encode("utf-8")
        target = exchange.path + (f"?{self._rebase(exchange.query)}" if exchange.query else "")
        request = self.http.build_request(exchange.method, target, headers=headers, content=content or None)
        return Pending(exchange, self.http.send(request, stream=True))

    def close(self, pending: Pending) -> Answer:
        """Read the answer to its end and describe it as the recording would."""
        response = pending.response
        if pending.exchange.turns is not None:
            self.reach(pending.exchange.turns.ended)  # as far as the turns got while it was read
        try:
            data = response.read()
        finally:
            response.close()
        return self.answer(pending.exchange, response, data)

    def exchange(self, record: dict[str, Any] | Exchange) -> Answer:
        """Send one recorded request and read its whole answer."""
        return self.close(self.open(record))

    def finish(self) -> None:
        """Wait for turns still running on the mock (their answers are all read by now)."""
        if self.schedule is not None:
            self.server.call(self.schedule.release)
        self.server.wait_idle()

    # ------------------------------------------------------------------ comparing

    def answer(self, exchange: Exchange, response: httpx.Response, data: bytes) -> Answer:
        if self.running_clock and exchange.path in CLOCK_PATHS:
            return Answer(response.status_code, body=CLOCK_READING)
        masker = self.masker
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        masker.learn_headers(pairs)
        origins = [self.server.url]
        headers = {
            name: normalise(masker.mask(value), origins)
            for name in COMPARED_HEADERS
            if (value := response.headers.get(name)) is not None
        }
        if exchange.events is not None:
            events = [normalise(masker.mask(_decode(chunk)), origins) for chunk in split_events(data)]
            return Answer(response.status_code, headers, None, events)
        recorded = exchange.response_body or {}
        textual = "text" in recorded or (not recorded and is_textual(response.headers.get("content-type")))
        if textual:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                body = digest_of(data)
            else:
                masker.learn_json(text)
                body = normalise(masker.mask(text), origins)
        else:
            body = digest_of(data)
        return Answer(response.status_code, headers, body, None)

    def expected(self, record: dict[str, Any] | Exchange) -> Answer:
        """The recorded answer, normalised the same way."""
        exchange = _as_exchange(record)
        if self.running_clock and exchange.path in CLOCK_PATHS:
            return Answer(exchange.status, body=CLOCK_READING)
        origins = self.recorded_origins
        headers = {
            name: normalise(value, origins)
            for name in COMPARED_HEADERS
            if (value := exchange.header(name)) is not None
        }
        if exchange.events is not None:
            events = [normalise(_decode(event.data), origins) for event in exchange.events]
            return Answer(exchange.status, headers, None, events)
        recorded = exchange.response_body or {"size": 0, "text": ""}
        if "text" in recorded:
            return Answer(exchange.status, headers, normalise(str(recorded["text"]), origins), None)
        return Answer(exchange.status, headers, body_digest(recorded), None)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
