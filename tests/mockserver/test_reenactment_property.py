"""Any interleaving of messages, dropped streams, reads, clock moves, renders and polls, recorded
against the live mock at time scale 0, re-enacts to the same answers.

A hypothesis state machine drives a recorded run: streams stay open while other requests go out,
a `drop` fault cuts the next stream short while its turn goes on, a turn is held mid-way while
reads and other messages go out, the clock jumps. At the end
of each run the recording becomes the test `nemo-mock repro` writes, and that test must pass.
A few runs by default; many more under `-m slow`.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from holding import Hold
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from recorded import ATTRIBUTION, turn_body

from mockserver.recording import repro
from mockserver.recording.live import live_mock
from mockserver.recording.model import load_recording
from mockserver.recording.reenact import Reenactment
from mockserver.recording.turns import expand
from mockserver.settings import Settings

pytestmark = pytest.mark.live

MESSAGES = (
    "generate a 5-second clip of a city street at night",
    "add a title 'Night Shift' at the start",
    "what formats can I upload?",
    "make the music quieter",
)
MAX_OPEN_STREAMS = 2
#: A held turn stops after this many events: a message reads at most as many before going on.
HELD_AFTER = 2


class Interleavings(RuleBasedStateMachine):
    """A recorded run of the live mock; its re-enactment is checked when the run ends."""

    def __init__(self) -> None:
        super().__init__()
        self.stack = contextlib.ExitStack()
        self.tmp = tempfile.TemporaryDirectory(prefix="nemo-interleavings-")
        self.path = Path(self.tmp.name) / "run.jsonl"
        self.streams: list[tuple[httpx.Response, Any]] = []
        self.renders: list[str] = []
        self.hold: Hold | None = None

    @initialize(seed=st.integers(0, 999))
    def start(self, seed: int) -> None:
        settings_ = Settings(time_scale=0, seed=seed, access_log=False)
        self.server = self.stack.enter_context(live_mock(settings_, record=self.path))
        self.http = self.stack.enter_context(httpx.Client(base_url=self.server.url, timeout=30))
        token = self.http.post("/_mock/accounts", json={"tier": "paid", "credits": 100000}).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
        created = self.http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=self.headers)
        self.sid = created.json()["data"]["session_id"]

    @precondition(lambda self: len(self.streams) < MAX_OPEN_STREAMS)
    @rule(text=st.sampled_from(MESSAGES), first=st.integers(0, HELD_AFTER))
    def message(self, text: str, first: int) -> None:
        """Send a message and read its first events, leaving the stream open."""
        request = self.http.build_request(
            "POST", "/run_sse", json=turn_body(self.sid, text), headers=self.headers
        )
        response = self.http.send(request, stream=True)
        lines = response.iter_lines()
        for _ in range(first):
            if not _next_event(lines):
                break
        self.streams.append((response, lines))

    @rule(events=st.integers(1, 4))
    def drop(self, events: int) -> None:
        """The next stream is cut after `events` events; its turn runs on (B-SSE-14)."""
        rule_ = {"method": "POST", "path": "/run_sse", "times": 1, "sse": f"drop:{events}"}
        self.http.post("/_mock/faults", json=rule_)

    @precondition(lambda self: self.hold is None)
    @rule()
    def hold_next_turn(self) -> None:
        """The next turn to have emitted HELD_AFTER events is held there until `release`."""
        self.hold = Hold(self.server, events=HELD_AFTER)

    @precondition(lambda self: self.hold is not None)
    @rule()
    def release(self) -> None:
        hold, self.hold = self.hold, None
        if hold is not None:
            hold.end()

    @precondition(lambda self: bool(self.streams))
    @rule(which=st.integers(0, MAX_OPEN_STREAMS - 1))
    def finish_stream(self, which: int) -> None:
        self.release()  # a held turn would never end its stream
        response, lines = self.streams.pop(which % len(self.streams))
        for _ in lines:
            pass
        response.close()

    @rule()
    def read(self) -> None:
        self.http.get(f"/api/state/nemo_agent/me/{self.sid}/latest", headers=self.headers)
        self.http.get("/api/credits/balance/simple", headers=self.headers)

    @rule(seconds=st.sampled_from([1, 5, 30, 91]))
    def advance(self, seconds: int) -> None:
        self.http.post("/_mock/clock/advance", json={"seconds": seconds})

    @rule()
    def render(self) -> None:
        state = self.http.get(f"/api/state/nemo_agent/me/{self.sid}/latest", headers=self.headers)
        draft = state.json()["data"]["state"]["draft"]
        if draft is None:
            return
        render_id = f"render_{len(self.renders)}"
        body = {"id": render_id, "sessionId": self.sid, "draft": draft}
        if self.http.post("/api/render/proxy/lambda", json=body, headers=self.headers).status_code == 200:
            self.renders.append(render_id)

    @precondition(lambda self: bool(self.renders))
    @rule(which=st.integers(0, 3))
    def poll(self, which: int) -> None:
        render_id = self.renders[which % len(self.renders)]
        self.http.get(f"/api/render/proxy/lambda/{render_id}", headers=self.headers)

    def teardown(self) -> None:
        try:
            if self.hold is not None:
                self.release()
            for response, lines in self.streams:
                for _ in lines:
                    pass
                response.close()
            self.server.wait_idle()
        finally:
            self.stack.close()
        try:
            recording = load_recording(self.path)
        finally:
            self.tmp.cleanup()
        module = ModuleType("generated_repro")
        exec(compile(repro.generate_pytest(recording), "generated_repro.py", "exec"), module.__dict__)
        schedule = None if module.SCHEDULE is None else expand(module.SCHEDULE)
        with Reenactment.start(module.HEADER, module.ORIGINS, time_scale=0, schedule=schedule) as mock:
            getattr(module, repro.test_name(recording))(mock)


def _next_event(lines: Any) -> bool:
    """Read up to the end of the next event (a blank line); False when the stream ended first."""
    return any(not line for line in lines)


def test_recorded_interleavings_re_enact_to_the_same_answers() -> None:
    """B-SSE-13, B-SSE-14, B-REN-09, B-AUTH-05: whatever the interleaving, the re-run answers as
    recorded, event for event."""
    run = Interleavings.TestCase
    run.settings = settings(
        max_examples=4, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
    )
    run().runTest()


@pytest.mark.slow
def test_many_recorded_interleavings_re_enact_to_the_same_answers() -> None:
    """B-SSE-13, B-SSE-14, B-REN-09: the same property over many more and longer runs."""
    run = Interleavings.TestCase
    run.settings = settings(
        max_examples=60, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
    )
    run().runTest()
