"""`nemo-mock replay FILE`: a recording served back byte for byte, its SSE events on a virtual clock."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from recorded import ATTRIBUTION, GENERATE, Run, faulty_run, nemo_mock, record_faulty_run, turn_body

from client import Client, ClientConfig, FakeClock
from client.flows import Outcome, Skill
from mockserver.masking import Masker
from mockserver.recording.live import live_mock
from mockserver.recording.model import body_bytes, load_recording
from mockserver.recording.replay import ReplayApp
from mockserver.settings import Settings
from mockserver.testing import ThreadedServer
from mockserver.wire import GARBAGE_BLOCK

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return record_faulty_run(tmp_path_factory.mktemp("replay") / "faulty.jsonl", seed=21)


def test_a_run_with_faults_replays_byte_for_byte(run: Run) -> None:
    """The same client gets the same answers: 429, dropped and silent streams, a failed render, the MP4
    (U-03, B-SSE-09, B-SSE-14, B-REN-09, B-REN-13); only the tokens are masked."""
    app = ReplayApp(run.recording, time_scale=0)
    with ThreadedServer(app) as replay, httpx.Client(base_url=replay.url, timeout=30) as http:
        replayed = faulty_run(http)
        status = http.get("/_replay/status").json()
    masker = Masker()
    expected = []
    for status_code, body in run.seen:
        try:
            expected.append((status_code, masker.mask(body.decode("utf-8")).encode("utf-8")))
        except UnicodeDecodeError:
            expected.append((status_code, body))
    assert replayed == expected
    assert status["served"] == status["exchanges"] == len(run.seen)
    assert status["left"] == [] and status["unmatched"] == []


def test_unmatched_requests_get_an_envelope_naming_the_recording(run: Run) -> None:
    """A request the recording has no answer (left) for gets HTTP 404 and the error envelope (U-02/U-03)."""
    with ThreadedServer(ReplayApp(run.recording, time_scale=0)) as replay:
        never = httpx.get(replay.url + "/api/unknown")
        first = httpx.post(replay.url + "/_mock/accounts", json={})
        again = httpx.post(replay.url + "/_mock/accounts", json={})
        status = httpx.get(replay.url + "/_replay/status").json()
    assert first.status_code == 200 and first.content == run.recording.exchanges[4].response_bytes()
    assert never.status_code == 404 and never.headers["x-nemo-replay"] == "unmatched"
    body = never.json()
    assert body["code"] == 404 and body["data"]["recording"] == "faulty.jsonl"
    assert (
        body["message"]
        == "Not in recording faulty.jsonl: no exchange left for GET /api/unknown (none was recorded)"
    )
    assert again.status_code == 404 and "all 1 recorded were served" in again.json()["message"]
    assert status["unmatched"] == [
        {"method": "GET", "path": "/api/unknown"},
        {"method": "POST", "path": "/_mock/accounts"},
    ]
    assert len(status["left"]) == len(run.seen) - 1


def test_stream_events_wait_for_their_virtual_time(tmp_path: Path) -> None:
    """Events come at their recorded virtual offsets: at a crawling time scale only the first ones come
    before a replayed clock advance releases the rest (B-SSE-06, B-SSE-10, U-04)."""
    path = tmp_path / "stream.jsonl"
    with (
        live_mock(Settings(time_scale=0, seed=3, access_log=False), record=path) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        token = http.post("/_mock/accounts", json={"tier": "paid"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        with http.stream(
            "POST", "/run_sse", json=turn_body(sid, "make a video of a desert"), headers=headers
        ) as s:
            recorded = s.read()
        http.post("/_mock/clock/advance", json={"seconds": 1000})
    stream = next(e for e in load_recording(path).exchanges if e.path == "/run_sse")
    assert stream.events is not None
    at_once = b"".join(event.data for event in stream.events if event.at == stream.at)
    duration = stream.events[-1].at - stream.at
    assert at_once and duration > 100  # a generation takes 100-300 virtual seconds (B-SSE-10)

    app = ReplayApp(load_recording(path), time_scale=1e-9)
    with ThreadedServer(app) as replay, httpx.Client(base_url=replay.url, timeout=30) as http:
        http.post("/_mock/accounts", json={})
        http.post("/api/tasks/me/with-session/nemo_agent", json={})
        start = app.clock.now()
        with http.stream("POST", "/run_sse", json={}) as s:
            chunks = s.iter_raw()
            received = b""
            while len(received) < len(at_once):
                received += next(chunks)
            assert received == at_once  # the first heartbeat is 5 virtual seconds (weeks of real time) away
            http.post("/_mock/clock/advance", json={"seconds": 1000})
            received += b"".join(chunks)
    assert received == recorded
    assert app.clock.now() - start == pytest.approx(1000, abs=1)


def test_replay_at_time_scale_zero_moves_its_clock_by_the_recorded_durations(run: Run) -> None:
    """At scale 0 nothing waits, yet the replay clock passes the streams' virtual durations (B-SSE-10)."""
    app = ReplayApp(run.recording, time_scale=0)
    streams = [e for e in run.recording.exchanges if e.events]
    with ThreadedServer(app) as replay, httpx.Client(base_url=replay.url, timeout=30) as http:
        for exchange in run.recording.exchanges[: run.recording.exchanges.index(streams[1])]:
            http.request(exchange.method, exchange.path)
        start = app.clock.now()
        http.post("/run_sse")
    assert streams[1].events is not None
    assert app.clock.now() - start == pytest.approx(streams[1].events[-1].at - streams[1].at)


def test_replay_from_the_command_line(run: Run, tmp_path: Path) -> None:
    """`nemo-mock replay FILE --port 0` prints the ready line and serves the file; bad files are refused."""
    proc = subprocess.Popen(
        [nemo_mock(), "replay", str(run.path), "--port", "0", "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("nemo-mock listening on http://127.0.0.1:")
        url = line.split()[-1]
        answer = httpx.post(url + "/_mock/faults", json={})
        assert answer.content == run.recording.exchanges[0].response_bytes()
        assert httpx.get(url + "/_replay/status").json()["served"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"record": "header", "format": "other"}) + "\n", encoding="utf-8")
    done = subprocess.run([nemo_mock(), "replay", str(bad)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "not a nemo-mock-recording file" in done.stderr


def _export_with_the_reference_client(url: str, folder: Path) -> Outcome:
    """Generate, then export: the client picks a fresh render id (B-REN-03) every time it runs."""
    config = ClientConfig(api_url=url, web_url="https://web.test", client_id="replay-export-1")
    with Client(config, clock=FakeClock()) as client:
        skill = Skill(client, persist=False, downloads_dir=folder)
        assert skill.handle("make a 3 second video of a lighthouse").ok
        return skill.export(folder / "out.mp4")


def test_an_export_replays_under_the_clients_new_render_id(tmp_path: Path) -> None:
    """B-REN-03, B-REN-05, B-REN-13: a client replaying an export submits a render id the recording
    never saw; the replay takes it for the recorded one, in order, on the poll and download paths
    too, so the client gets the recorded MP4 under its own id."""
    path = tmp_path / "export.jsonl"
    with live_mock(Settings(time_scale=0, seed=12, access_log=False), record=path) as server:
        recorded = _export_with_the_reference_client(server.url, tmp_path / "recorded")
        server.wait_idle()
    assert recorded.ok and recorded.file is not None
    app = ReplayApp(load_recording(path), time_scale=0)
    with ThreadedServer(app) as replay:
        replayed = _export_with_the_reference_client(replay.url, tmp_path / "replayed")
        health = httpx.get(replay.url + "/_mock/health").json()  # not recorded: the replay's own
        status = httpx.get(replay.url + "/_replay/status").json()
    assert health["time_scale"] == 0 and health["replay"] == "export.jsonl"
    assert replayed.ok, replayed
    assert replayed.file is not None and replayed.file.read_bytes() == recorded.file.read_bytes()
    assert status["unmatched"] == [] and status["left"] == []
    submits = [e for e in load_recording(path).exchanges if e.path == "/api/render/proxy/lambda"]
    (recorded_id,) = [json.loads(body_bytes(e.request_body))["id"] for e in submits]
    assert list(app.aliases.values()) == [recorded_id] and list(app.aliases) != [recorded_id]


def _stream_fault_run(http: httpx.Client, fault: str, settle: Callable[[], None]) -> list[tuple[int, bytes]]:
    """A paid account, a session, one generation under the stream fault `fault`, then the state."""
    seen: list[tuple[int, bytes]] = []
    paid = http.post("/_mock/accounts", json={"tier": "paid", "credits": 1000})
    seen.append((paid.status_code, paid.content))
    headers = {"Authorization": f"Bearer {paid.json()['token']}", **ATTRIBUTION}
    made = http.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "lake"}, headers=headers)
    seen.append((made.status_code, made.content))
    session_id = made.json()["data"]["session_id"]
    armed = http.post("/_mock/faults", json={"method": "POST", "path": "/run_sse", "times": 1, "sse": fault})
    seen.append((armed.status_code, armed.content))
    with http.stream("POST", "/run_sse", json=turn_body(session_id, GENERATE), headers=headers) as response:
        seen.append((response.status_code, response.read()))
    settle()
    state = http.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers)
    seen.append((state.status_code, state.content))
    return seen


@pytest.mark.parametrize(
    "fault", ["truncate:2", "duplicate:2", "garbage:2", "heartbeat_gap:30", "stall:1:20"]
)
def test_runs_with_the_network_stream_faults_replay_byte_for_byte(fault: str, tmp_path: Path) -> None:
    """B-SSE-09, B-SSE-14: a stream cut inside an event, a repeated event, an invalid block, silent
    stretches: the recording serves back the very bytes the client got (tokens masked)."""
    path = tmp_path / "stream-fault.jsonl"
    settings = Settings(time_scale=0, seed=5, access_log=False)
    with live_mock(settings, record=path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        seen = _stream_fault_run(http, fault, server.wait_idle)
    streamed = seen[3][1]
    assert streamed, "the faulted stream sent nothing"
    if fault.startswith("truncate"):
        assert not streamed.endswith(b"\n\n"), "the stream was not cut inside an event"
    if fault.startswith("garbage"):
        assert GARBAGE_BLOCK in streamed
    replay_app = ReplayApp(load_recording(path), time_scale=0)
    with ThreadedServer(replay_app) as replay, httpx.Client(base_url=replay.url, timeout=30) as http:
        replayed = _stream_fault_run(http, fault, lambda: None)
    masker = Masker()
    expected = [
        (code, masker.mask(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape"))
        for code, body in seen
    ]
    assert replayed == expected
