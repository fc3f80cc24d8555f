"""Re-enacting the moments between events: a read while a turn runs sees what it saw then.

Each case is recorded once against the live mock at time scale 0, turned into a test by `nemo-mock
repro`, and that test is run 20 times in a row in this process: every run must pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from holding import Hold
from recorded import ATTRIBUTION, turn_body

from mockserver.recording import repro
from mockserver.recording.live import live_mock
from mockserver.recording.model import Recording, body_bytes, load_recording
from mockserver.recording.reenact import Reenactment
from mockserver.recording.replay import ReplayApp
from mockserver.recording.turns import expand
from mockserver.settings import Settings
from mockserver.testing import LiveServer, ThreadedServer

pytestmark = pytest.mark.live

RUNS = 20
GENERATE = "generate a 5-second clip of a city street at night"


def generated_module(recording: Recording) -> ModuleType:
    """The test `nemo-mock repro` writes for `recording`, loaded as a module."""
    module = ModuleType("generated_repro")
    exec(compile(repro.generate_pytest(recording), "generated_repro.py", "exec"), module.__dict__)
    return module


def rerun(recording: Recording, runs: int = RUNS) -> list[str]:
    """Run the generated test `runs` times; the failures, one line each (empty: all passed)."""
    module = generated_module(recording)
    test: Callable[[Reenactment], None] = getattr(module, repro.test_name(recording))
    failures = []
    schedule = expand(module.SCHEDULE)
    for run in range(runs):
        with Reenactment.start(
            module.HEADER, module.ORIGINS, time_scale=module.TIME_SCALE, schedule=schedule
        ) as mock:
            try:
                test(mock)
            except AssertionError as exc:
                failures.append(f"run {run + 1}: {str(exc)[:300]}")
    return failures


Run = Callable[[httpx.Client, LiveServer], None]


def record(path: Path, run: Run, **settings: Any) -> Recording:
    with (
        live_mock(Settings(time_scale=0, access_log=False, **settings), record=path) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        run(http, server)
        server.wait_idle()
    return load_recording(path)


def session(http: httpx.Client, **account: Any) -> tuple[dict[str, str], str]:
    if account:
        token = http.post("/_mock/accounts", json=account).json()["token"]
    else:
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "reenact"}).json()["data"][
            "token"
        ]
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
    created = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers)
    return headers, created.json()["data"]["session_id"]


def state(recording: Recording, index: int = -1) -> dict[str, Any]:
    reads = [e for e in recording.exchanges if e.path.startswith("/api/state/")]
    text = reads[index].response_body["text"]  # type: ignore[index]
    return json.loads(text)["data"]


@pytest.fixture(scope="module")
def dropped(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The skill's recovery: read the generation until the stream drops, then read state at once."""

    def run(http: httpx.Client, server: LiveServer) -> None:
        http.post("/_mock/faults", json={"method": "POST", "path": "/run_sse", "times": 1, "sse": "drop:3"})
        headers, sid = session(http)
        hold = Hold(server, events=3)
        with http.stream("POST", "/run_sse", json=turn_body(sid, GENERATE), headers=headers) as stream:
            stream.read()
        http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
        hold.release()

    return record(tmp_path_factory.mktemp("reenact") / "dropped.jsonl", run, seed=5)


def test_a_read_right_after_a_drop_re_enacts_20_times(dropped: Recording) -> None:
    """The state read after a dropped stream sees the turn still running, every time (B-SSE-14,
    B-CLI-08)."""
    recorded = state(dropped)
    read = dropped.exchanges[-1]
    assert read.running == 1 and recorded["state"]["draft"] is None, recorded
    assert rerun(dropped) == []


class Events:
    """An open stream read event by event (blank-line separated)."""

    def __init__(self, stream: httpx.Response) -> None:
        self.lines = stream.iter_lines()

    def read(self, count: int) -> None:
        seen = 0
        for line in self.lines:
            if not line:
                seen += 1
                if seen == count:
                    return

    def rest(self) -> None:
        for _ in self.lines:
            pass


@pytest.fixture(scope="module")
def render_read(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """An export polled while an edit turn runs on the same session, then to its MP4."""

    def run(http: httpx.Client, server: LiveServer) -> None:
        headers, sid = session(http, tier="paid", credits=1000)
        with http.stream("POST", "/run_sse", json=turn_body(sid, GENERATE), headers=headers) as stream:
            stream.read()
        server.wait_idle()
        draft = http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers).json()["data"]["state"]
        body = {"id": "render_between", "sessionId": sid, "draft": draft["draft"]}
        http.post("/api/render/proxy/lambda", json=body, headers=headers)
        poll = "/api/render/proxy/lambda/render_between"
        hold = Hold(server, events=2)
        edit = turn_body(sid, "add a title 'Night Shift' at the start")
        with http.stream("POST", "/run_sse", json=edit, headers=headers) as stream:
            events = Events(stream)
            events.read(2)
            http.get(poll, headers=headers)
            http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
            http.get("/api/credits/balance/simple", headers=headers)
            hold.release()
            events.rest()
        while http.get(poll, headers=headers).json()["status"] not in ("completed", "failed"):
            pass
        http.get("/api/render/proxy/render_between/download", headers=headers)

    return record(tmp_path_factory.mktemp("reenact") / "render-read.jsonl", run, seed=6)


def test_a_read_during_a_render_re_enacts_20_times(render_read: Recording) -> None:
    """Polls and a state read while a render is processing and an edit runs see the same stage and
    draft every time (B-REN-05, B-REN-09, B-SSE-14)."""
    polls = [e for e in render_read.exchanges if e.path == "/api/render/proxy/lambda/render_between"]
    assert '"processing"' in polls[0].response_body["text"]  # type: ignore[index]
    assert polls[0].running == 1
    assert rerun(render_read) == []


@pytest.fixture(scope="module")
def resent(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The same message sent again while its first turn still runs: two turns, two charges."""

    def run(http: httpx.Client, server: LiveServer) -> None:
        headers, sid = session(http, tier="paid", credits=1000)
        hold = Hold(server, events=1)
        with http.stream("POST", "/run_sse", json=turn_body(sid, GENERATE), headers=headers) as first:
            first_events = Events(first)
            first_events.read(1)
            http.get("/api/credits/balance/simple", headers=headers)
            with http.stream("POST", "/run_sse", json=turn_body(sid, GENERATE), headers=headers) as second:
                second_events = Events(second)
                second_events.read(1)
                http.get("/api/credits/balance/simple", headers=headers)
                http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
                hold.release()
                second_events.rest()
            first_events.rest()
        http.get("/api/credits/balance/simple", headers=headers)

    return record(tmp_path_factory.mktemp("reenact") / "resent.jsonl", run, seed=7)


def test_a_second_message_while_a_turn_runs_re_enacts_20_times(resent: Recording) -> None:
    """The re-sent message runs and is charged on its own, and the reads between see both turns
    exactly as recorded (B-SSE-13, U-11, B-CRED-01)."""
    balances = [
        json.loads(e.response_body["text"])["data"]  # type: ignore[index]
        for e in resent.exchanges
        if e.path == "/api/credits/balance/simple"
    ]
    cost = balances[0]["frozen"]
    assert cost > 0 and balances[-1]["available"] == 1000 - 2 * cost, balances  # charged twice
    streams = [e for e in resent.exchanges if e.path == "/run_sse"]
    assert len(streams) == 2 and all(e.streamed for e in streams)
    assert streams[1].running == 1  # the first turn was still running
    assert rerun(resent) == []


@pytest.fixture(scope="module")
def expired(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The clock passes the anonymous token's 7 days while a generation runs."""

    def run(http: httpx.Client, server: LiveServer) -> None:
        headers, sid = session(http)
        hold = Hold(server, events=2)
        with http.stream("POST", "/run_sse", json=turn_body(sid, GENERATE), headers=headers) as stream:
            events = Events(stream)
            events.read(2)
            http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
            http.post("/_mock/clock/advance", json={"seconds": 7 * 24 * 3600 + 1})
            http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
            hold.release()
            events.rest()
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "reenact"}).json()["data"][
            "token"
        ]
        renewed = {**headers, "Authorization": f"Bearer {token}"}
        http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=renewed)

    return record(tmp_path_factory.mktemp("reenact") / "expired.jsonl", run, seed=8)


def test_a_token_expiring_mid_session_re_enacts_20_times(expired: Recording) -> None:
    """The read after the 7 days is 1001 while the turn still runs, the same client id then gets
    a token for the same account, every time (B-AUTH-05, B-AUTH-07, U-08)."""
    reads = [e for e in expired.exchanges if e.path.startswith("/api/state/")]
    assert '"code":0' in reads[0].response_body["text"].replace(" ", "")  # type: ignore[index]
    assert '"code":1001' in reads[1].response_body["text"].replace(" ", "")  # type: ignore[index]
    assert reads[1].running == 1
    assert rerun(expired) == []


def test_a_replay_answers_the_read_after_a_drop_as_recorded(dropped: Recording) -> None:
    """Replayed, the dropped stream and the state read right after it are the recorded ones, and
    the replay clock stands at the read's recorded moment (B-SSE-14, B-CLI-08)."""
    stream, read = dropped.exchanges[-2], dropped.exchanges[-1]
    app = ReplayApp(dropped, time_scale=0)
    with ThreadedServer(app) as replay, httpx.Client(base_url=replay.url, timeout=30) as http:
        for exchange in dropped.exchanges[:-2]:
            http.request(exchange.method, exchange.target, content=body_bytes(exchange.request_body))
        answered = http.post(stream.path, content=body_bytes(stream.request_body))
        assert answered.content == stream.response_bytes()
        assert app.clock.now() >= stream.at
        state = http.get(read.path)
        assert state.content == body_bytes(read.response_body)
        assert app.clock.now() >= read.at
