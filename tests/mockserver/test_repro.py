"""`nemo-mock repro FILE --pytest OUT.py`: a recording as a self-contained test that passes on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from recorded import ATTRIBUTION, faulty_run, turn_body

from client import Client, ClientConfig
from client.flows import Skill
from mockserver.cli import main
from mockserver.recording.live import live_mock
from mockserver.recording.model import load_recording
from mockserver.recording.reenact import Reenactment
from mockserver.recording.repro import generate_pytest
from mockserver.scenarios import load_scenario
from mockserver.settings import Settings

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run with a 429, a dropped and a silent stream, a failed render and an MP4, recorded."""
    path = tmp_path_factory.mktemp("repro") / "faulty-run.jsonl"
    settings = Settings(time_scale=0, seed=31, dialect="adk", access_log=False)
    with live_mock(settings, record=path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        faulty_run(http, server.wait_idle)
    return path


@pytest.fixture(scope="module")
def overlapping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state query and a clock advance sent while a generation's stream is open."""
    path = tmp_path_factory.mktemp("repro") / "overlapping.jsonl"
    settings = Settings(time_scale=0.0001, seed=32, access_log=False)
    with live_mock(settings, record=path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        token = http.post("/_mock/accounts", json={"tier": "paid"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        with http.stream(
            "POST", "/run_sse", json=turn_body(sid, "make a video of rain"), headers=headers
        ) as s:
            chunks = s.iter_raw()
            next(chunks)
            http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
            http.post("/_mock/clock/advance", json={"seconds": 3600})
            b"".join(chunks)
    return path


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference client through the silent-edit scenario, recorded."""
    tmp = tmp_path_factory.mktemp("repro")
    path = tmp / "silent-edit.jsonl"
    scenario = load_scenario("silent-edit")
    with live_mock(scenario=scenario, record=path) as server:
        env = {"NEMO_API_URL": server.url, "NEMO_CONFIG_DIR": str(tmp / "config"), "NEMO_TIME_SCALE": "0"}
        with Client(ClientConfig.from_env({**env, **scenario.client["env"]})) as client:
            skill = Skill(client)
            assert skill.handle("make a video of a city at night").ok
            assert skill.handle("add a title 'Night City'").ok
        server.wait_idle()
    return path


def test_generated_tests_pass_on_their_own_in_a_fresh_process(
    faulty: Path, overlapping: Path, scenario_run: Path, tmp_path: Path
) -> None:
    """Same seed, profile, dialect, scenario and faults give the same answers and events: a 429
    (U-03), a dropped stream whose turn ends on the server (B-SSE-14), silent edits (B-SSE-09), a
    failed render (B-REN-09), the MP4 (B-REN-13), ADK events with virtual timestamps (B-ADK-03)."""
    for recording in (faulty, overlapping, scenario_run):
        out = tmp_path / f"test_{recording.stem.replace('-', '_')}.py"
        assert main(["repro", str(recording), "--pytest", str(out)]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout


def test_overlapping_exchanges_are_sent_in_the_recorded_order(overlapping: Path) -> None:
    """A request sent while a stream was open is sent again while it is open (B-SSE-14)."""
    source = generate_pytest(load_recording(overlapping))
    body = source[source.index("def test_reproduces_overlapping") :]
    opened = body.index("pending_3 = mock.open(EXCHANGES[2])")
    state = body.index("mock.exchange(EXCHANGES[3])")
    advance = body.index("mock.exchange(EXCHANGES[4])")
    closed = body.index("mock.close(pending_3) == mock.expected(EXCHANGES[2])")
    assert opened < state < advance < closed
    assert "TIME_SCALE = 0.0001" in source


def test_a_different_answer_fails_the_comparison(faulty: Path) -> None:
    """The comparison is real: a changed event or body no longer equals the recording (B-SSE-05)."""
    recording = load_recording(faulty)
    records = [exchange.to_record() for exchange in recording.exchanges]
    stream = next(i for i, r in enumerate(records) if "events" in r["response"])
    records[stream]["response"]["events"][0]["text"] = 'data: {"type":"text","content":"changed"}\n\n'
    records[3]["response"]["body"]["text"] = records[3]["response"]["body"]["text"].replace("100", "99")
    with Reenactment.start(recording.header, recording.origins()) as mock:
        answers = [mock.exchange(record) for record in records[: stream + 1]]
        assert answers[0] == mock.expected(records[0])
        assert answers[3] != mock.expected(records[3])
        assert answers[stream] != mock.expected(records[stream])
        assert answers[stream].events is not None
        assert answers[stream].events[1:] == mock.expected(records[stream]).events[1:]  # type: ignore[index]


def test_the_generated_file_says_what_it_reproduces(scenario_run: Path) -> None:
    """The docstring names the seed, profile, scenario, its rule ids and the expected reaction (B-CLI-10)."""
    source = generate_pytest(load_recording(scenario_run), time_scale=0)
    doc = source[: source.index('"""', 3)]
    assert "seed 13, profile nemo-video, dialect documented, time scale 0" in doc
    assert "Scenario silent-edit (B-SSE-09, B-SSE-19, B-CLI-10)" in doc
    assert "Expected client reaction:" in doc
    compile(source, "generated.py", "exec")


def test_repro_command_line(faulty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`nemo-mock repro` writes the file and says how to run it; a re-run at another scale is noted."""
    out = tmp_path / "test_out.py"
    assert main(["repro", str(faulty), "--pytest", str(out), "--time-scale", "2"]) == 0
    captured = capsys.readouterr()
    assert f"run it with python -m pytest {out}" in captured.out
    assert "--time-scale 0 runs it without waiting" in captured.err
    assert "Recorded at time scale 0, re-run at 2" in out.read_text(encoding="utf-8")
    assert main(["repro", str(tmp_path / "missing.jsonl"), "--pytest", str(out)]) == 2
