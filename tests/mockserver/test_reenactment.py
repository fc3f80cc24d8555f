"""Re-enacting the moments between events: a read while a turn runs sees what it saw then.

Each case is recorded once against the live mock at time scale 0, turned into a test by `nemo-mock
repro`, and that test is run 20 times in a row in this process: every run must pass.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from recorded import ATTRIBUTION, turn_body

from mockserver.operations import Operation
from mockserver.recording import repro
from mockserver.recording.live import live_mock
from mockserver.recording.model import Recording, load_recording
from mockserver.recording.reenact import Reenactment
from mockserver.recording.turns import expand
from mockserver.settings import Settings
from mockserver.testing import LiveServer

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


class Hold:
    """Holds the mock's first turn at the first step after it has emitted `events` events, until
    `release()`: the recorded client then acts while the turn is surely still running (at time
    scale 0 a turn otherwise often ends before the next request arrives)."""

    def __init__(self, server: LiveServer, events: int) -> None:
        self.server = server
        self.events = events
        self.held = False
        self.released: asyncio.Event | None = None
        noted = server.backend.turn_gate
        assert noted is not None

        async def gate(op: Operation) -> None:
            if not self.held and op.emitted >= self.events:
                self.held = True
                self.released = asyncio.Event()
                await self.released.wait()
            await noted(op)

        server.backend.turn_gate = gate

    def release(self) -> None:
        assert self.held, "the turn never got that far"
        released = self.released
        assert released is not None
        self.server.call(released.set)


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
