"""`nemo-mock serve --record FILE` and `nemo-mock record --upstream URL`: every exchange as JSON Lines."""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from recorded import ATTRIBUTION, Run, nemo_mock, record_faulty_run, turn_body

from mockserver.backend import Backend
from mockserver.cli import main as mock_cli
from mockserver.faults import Faults
from mockserver.masking import Masker, alias_of
from mockserver.middleware import RequestChores
from mockserver.recording.header import mock_header
from mockserver.recording.live import live_mock
from mockserver.recording.model import (
    EventSplitter,
    RecordingError,
    body_bytes,
    load_recording,
    split_events,
)
from mockserver.recording.proxy import recording_proxy
from mockserver.settings import Settings
from mockserver.testing import LiveServer, ThreadedServer

pytestmark = pytest.mark.live

READY = re.compile(r"nemo-mock listening on (http://127\.0\.0\.1:\d+)\n")
RAW_TOKEN = re.compile(r"(nmv_usr_|clm_)(?!MASKED_)[0-9a-f]{16,}")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return record_faulty_run(tmp_path_factory.mktemp("recording") / "faulty.jsonl", seed=5)


def test_header_names_seed_profile_clock_and_settings(run: Run) -> None:
    """The header carries what a re-run needs: seed, profile, time scale, dialect (B-PROF-01, U-04)."""
    header = run.recording.header
    assert header["format"] == "nemo-mock-recording" and header["source"] == "mock"
    assert header["settings"]["seed"] == 5 and header["settings"]["time_scale"] == 0
    assert header["settings"]["dialect"] == "documented" and header["settings"]["render_shape"] == "A"
    assert header["profile"] == {"name": "nemo-video", "shipped": "nemo-video"}
    assert header["clock"]["start"] == 1773187200.0
    assert run.recording.complete


def test_every_exchange_is_recorded_in_order_with_the_faults_that_fired(run: Run) -> None:
    """Each request and answer, the fault rules noted where they fired (U-03, B-SSE-09, B-REN-09)."""
    exchanges = run.recording.exchanges
    assert len(exchanges) == len(run.seen)
    assert [(e.status, e.response_bytes() if e.streamed else None) for e in exchanges] == [
        (status, body if exchange.streamed else None)
        for (status, body), exchange in zip(run.seen, exchanges, strict=True)
    ]
    limited = exchanges[1]
    assert (limited.path, limited.status, limited.header("retry-after")) == (
        "/api/auth/anonymous-token",
        429,
        "30",
    )
    assert limited.faults[0]["respond"]["status"] == 429
    dropped, silent = (e for e in exchanges if e.path == "/run_sse")
    assert dropped.faults == [{"id": "fault_2", "sse": "drop:3"}] and len(dropped.events or []) == 3
    assert silent.faults == [{"id": "fault_3", "sse": "silent"}]
    assert not any(b'"type":"text"' in event.data for event in silent.events or [])
    failed = next(e for e in exchanges if e.faults and "render" in e.faults[0])
    assert failed.request_body["text"].startswith('{"id":"render_first"')


def test_stream_events_carry_their_virtual_times(run: Run) -> None:
    """Heartbeats come every 5 virtual seconds (B-SSE-06, U-04): the mock's clock, not send times."""
    silent = [e for e in run.recording.exchanges if e.path == "/run_sse"][1]
    assert silent.events is not None
    beats = [event.at for event in silent.events if event.data.startswith(b'data: {"type":"heartbeat"}')]
    beats += [event.at for event in silent.events if event.data == b"data:\n\n"]
    beats.sort()
    assert len(beats) >= 2
    assert all(later - earlier == pytest.approx(5.0) for earlier, later in itertools.pairwise(beats))
    assert silent.at <= silent.events[0].at <= silent.events[-1].at <= silent.ended


def test_tokens_are_masked_with_stable_aliases(run: Run) -> None:
    """No token in the file; each becomes one alias that keeps its kind (B-AUTH-04, B-AUTH-19, B-AUTH-22)."""
    text = run.path.read_text(encoding="utf-8")
    assert not RAW_TOKEN.search(text)
    paid_token = json.loads(run.seen[4][1])["token"]
    alias = alias_of(paid_token)
    assert alias.startswith("nmv_usr_MASKED_") and paid_token not in text
    session = next(e for e in run.recording.exchanges if e.path.startswith("/api/tasks/"))
    assert session.header("authorization", response=False) == f"Bearer {alias}"
    assert json.loads(run.recording.exchanges[4].response_bytes())["token"] == alias
    claim = json.loads(
        next(e for e in run.recording.exchanges if e.path == "/api/auth/claim-token").response_bytes()
    )
    assert claim["data"]["claim_token"].startswith("clm_MASKED_")


def test_binary_bodies_are_kept_byte_for_byte(run: Run) -> None:
    """The MP4 download is recorded as base64 and reads back as the same bytes (B-REN-13)."""
    download = next(e for e in run.recording.exchanges if e.path.endswith("/download"))
    assert download.response_body is not None and "base64" in download.response_body
    assert download.response_bytes() == run.seen[run.recording.exchanges.index(download)][1]
    assert download.response_bytes()[4:8] == b"ftyp"


def test_a_respond_fault_still_records_the_request_body(tmp_path: Path) -> None:
    """A `respond` fault answers without reading the body; the recording has it anyway (U-02)."""
    path = tmp_path / "respond.jsonl"
    with live_mock(Settings(time_scale=0, access_log=False), record=path) as server:
        rule = {"method": "POST", "path": "/run_sse", "respond": {"status": 503, "json": {"code": 503}}}
        httpx.post(server.url + "/_mock/faults", json=rule)
        answer = httpx.post(server.url + "/run_sse", json=turn_body("s1", "hello"))
    assert answer.status_code == 503
    exchange = load_recording(path).exchanges[1]
    assert json.loads(exchange.request_body["text"]) == turn_body("s1", "hello")
    assert exchange.faults[0]["respond"]["status"] == 503


def test_bodies_over_the_limit_keep_their_edges_and_digest(tmp_path: Path) -> None:
    """A large upload is recorded by size, SHA-256, head and tail (U-13: the cap still applies)."""
    path = tmp_path / "big.jsonl"
    payload = bytes(range(256)) * 400  # 100 kB
    with live_mock(Settings(time_scale=0, access_log=False), record=path, body_limit=4096) as server:
        token = httpx.post(server.url + "/_mock/accounts", json={"tier": "paid"}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
        session = httpx.post(server.url + "/api/tasks/me/with-session/nemo_agent", json={}, headers=headers)
        sid = session.json()["data"]["session_id"]
        files = {"files": ("blob.mp4", payload, "video/mp4")}
        httpx.post(f"{server.url}/api/upload-video/nemo_agent/me/{sid}", files=files, headers=headers)
    upload = load_recording(path).exchanges[-1]
    body = upload.request_body
    assert body["elided"] and body["size"] > len(payload)
    data = body_bytes(body)
    assert len(data) == body["size"] and payload[:1000] in data[:70000]
    assert data.endswith(b"--\r\n")


def test_recording_is_off_by_default() -> None:
    """A mock that does not record has no tap on its request path (the benchmarked path stays as it was)."""
    server = LiveServer(Settings(time_scale=0, access_log=False))
    assert server.backend.stream_tap is None
    assert type(server.backend.faults) is Faults
    assert [m.cls for m in server.app.user_middleware] == [RequestChores]


@pytest.mark.parametrize(
    "chunks,events",
    [
        ([b'data: {"a":1}\n\ndata:\n\n'], [b'data: {"a":1}\n\n', b"data:\n\n"]),
        ([b"data: x\r\n\r\n", b"data: y\r\r"], [b"data: x\r\n\r\n"]),
        ([b"data: x\r", b"\n", b"\r", b"\ndata: y\n", b"\n"], [b"data: x\r\n\r\n", b"data: y\n\n"]),
        ([b": keep-alive\n\ndata: par", b"tial"], [b": keep-alive\n\n"]),
    ],
)
def test_event_splitter_cuts_at_blank_lines(chunks: list[bytes], events: list[bytes]) -> None:
    """Events end at a blank line with LF, CRLF or CR endings, across chunk boundaries (B-SSE-04)."""
    splitter = EventSplitter()
    found = [event for chunk in chunks for event in splitter.feed(chunk)]
    assert found == events  # a trailing CR may still become CRLF: it waits
    rest = splitter.close()
    assert b"".join(found + rest) == b"".join(chunks)
    assert split_events(b"".join(chunks)) == found + rest


def test_masker_learns_credentials_from_headers_json_and_queries() -> None:
    """Bearer values, JSON token fields and `ct=` links are masked wherever they reappear (B-CLI-19)."""
    masker = Masker()
    masker.learn_headers([("Authorization", "Bearer opaque-upstream-secret")])
    masker.learn_json('{"data": {"access_token": "another-long-secret"}}')
    masker.learn_query("ct=claim-value-123456")
    text = masker.mask("opaque-upstream-secret another-long-secret claim-value-123456 short")
    assert "secret" not in text and "claim-value" not in text and text.endswith(" short")
    assert masker.unmask(text) == "opaque-upstream-secret another-long-secret claim-value-123456 short"
    assert masker.mask(text) == text


def test_unreadable_recordings_are_refused_and_a_torn_last_line_is_skipped(tmp_path: Path, run: Run) -> None:
    """A crash mid-write leaves a torn last line: the rest still loads, marked incomplete."""
    lines = run.path.read_text(encoding="utf-8").splitlines()
    torn = tmp_path / "torn.jsonl"
    torn.write_text("\n".join(lines[:3]) + "\n" + lines[3][:40], encoding="utf-8")
    partial = load_recording(torn)
    assert len(partial.exchanges) == 2 and not partial.complete
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"record": "exchange"}\n', encoding="utf-8")
    with pytest.raises(RecordingError, match="not a nemo-mock-recording file"):
        load_recording(bad)
    with pytest.raises(RecordingError, match="cannot read"):
        load_recording(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Shot list: skyline at dusk, traffic trails.\n", 1),
        ("Shot list\nskyline at dusk\ntraffic trails\n", 1),
        ("\n\n  Shot list\n", 3),
        ('{"record": "header", "format": "something-else"}\nmore\n', 1),
    ],
)
def test_a_file_that_is_no_recording_is_named_so_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int
) -> None:
    """`nemo-mock export notes.txt --har x.har` on a text file: "not a recording" and the line that
    shows it, never "empty file" (the tool's own error, exit status 2)."""
    notes = tmp_path / "notes.txt"
    notes.write_text(text, encoding="utf-8")
    with pytest.raises(RecordingError, match=rf"^notes\.txt:{line}: not a nemo-mock-recording file"):
        load_recording(notes)
    assert mock_cli(["export", str(notes), "--har", str(tmp_path / "x.har")]) == 2
    err = capsys.readouterr().err
    assert f"notes.txt:{line}: not a nemo-mock-recording file" in err and "empty" not in err
    assert not (tmp_path / "x.har").exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(RecordingError, match="empty file"):
        load_recording(empty)


# ---------------------------------------------------------------------------- the recording proxy


@pytest.fixture
def upstream() -> Iterator[LiveServer]:
    """The mock as the backend behind the proxy, so slow that only clock advances move its turns."""
    with LiveServer(Settings(time_scale=0.0001, seed=8, access_log=False)) as server:
        yield server


def test_proxy_records_the_mock_as_upstream_and_passes_the_token_through(
    upstream: LiveServer, tmp_path: Path
) -> None:
    """The user's own token reaches the backend unchanged; the file holds only its alias (B-AUTH-13)."""
    path = tmp_path / "proxy.jsonl"
    app, recorder = recording_proxy(upstream.url, path)
    token = httpx.post(upstream.url + "/_mock/accounts", json={"tier": "paid"}).json()["token"]
    with ThreadedServer(app) as proxy:
        answer = httpx.get(
            proxy.url + "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        missing = httpx.get(
            proxy.url + "/api/state/nemo_agent/me/nope/latest", headers={"Authorization": "x"}
        )
    recorder.close()
    assert answer.status_code == 200 and answer.json()["code"] == 0  # the real token worked upstream
    assert missing.json()["code"] == 1001
    recording = load_recording(path)
    assert recording.source == "proxy" and recording.header["upstream"] == upstream.url
    assert token not in path.read_text(encoding="utf-8")
    first = recording.exchanges[0]
    assert first.header("authorization", response=False) == f"Bearer {alias_of(token)}"
    assert first.response_bytes() == answer.content
    assert recording.origins()[0] == upstream.url


def test_proxy_streams_events_as_they_arrive(upstream: LiveServer, tmp_path: Path) -> None:
    """An SSE stream reaches the client event by event, not when the turn ends (B-SSE-06, B-SSE-10)."""
    path = tmp_path / "stream.jsonl"
    app, recorder = recording_proxy(upstream.url, path)
    token = httpx.post(upstream.url + "/_mock/accounts", json={"tier": "paid"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
    with ThreadedServer(app) as proxy, httpx.Client(base_url=proxy.url, timeout=10) as http:
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        with http.stream(
            "POST", "/run_sse", json=turn_body(sid, "make a video of a forest"), headers=headers
        ) as s:
            chunks = s.iter_raw()
            first = next(chunks)  # the turn is still waiting on the upstream's virtual clock
            assert first.startswith(b"data: ") and upstream.backend.operations
            httpx.post(upstream.url + "/_mock/clock/advance", json={"seconds": 3600})
            rest = b"".join(chunks)
    recorder.close()
    exchange = next(e for e in load_recording(path).exchanges if e.path == "/run_sse")
    assert exchange.events is not None and len(exchange.events) > 3
    assert exchange.response_bytes() == first + rest
    assert exchange.events[0].at < exchange.events[-1].at  # the proxy noted when each event arrived


def test_proxy_answers_502_when_the_upstream_is_down(tmp_path: Path) -> None:
    """An unreachable backend is an HTTP 502 with the error envelope naming it (U-02)."""
    app, recorder = recording_proxy("http://127.0.0.1:9", tmp_path / "down.jsonl")
    with ThreadedServer(app) as proxy:
        answer = httpx.get(proxy.url + "/api/credits/balance/simple")
    recorder.close()
    assert answer.status_code == 502
    assert answer.json()["code"] == 502 and "http://127.0.0.1:9" in answer.json()["message"]
    assert load_recording(tmp_path / "down.jsonl").exchanges[0].status == 502


# ---------------------------------------------------------------------------- the command line


def _start(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([nemo_mock(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = READY.fullmatch(line)
    if not match:
        proc.kill()
        raise AssertionError(f"no ready line: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, match.group(1)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_serve_record_and_record_proxy_from_the_command_line(tmp_path: Path) -> None:
    """`serve --record` and `record --upstream URL --out FILE` write the token answer masked (B-AUTH-03)."""
    served, proxied = tmp_path / "served.jsonl", tmp_path / "proxied.jsonl"
    mock, mock_url = _start(
        ["serve", "--port", "0", "--time-scale", "0", "--seed", "4", "--quiet", "--record", str(served)]
    )
    try:
        proxy, proxy_url = _start(
            ["record", "--upstream", mock_url, "--port", "0", "--out", str(proxied), "--quiet"]
        )
        try:
            answer = httpx.post(proxy_url + "/api/auth/anonymous-token", headers={"X-Client-Id": "cli"})
        finally:
            _stop(proxy)
    finally:
        _stop(mock)
    token = answer.json()["data"]["token"]
    for path in (served, proxied):
        recording = load_recording(path)
        assert recording.complete and len(recording.exchanges) == 1
        assert recording.exchanges[0].response_bytes() == answer.content.replace(
            token.encode(), alias_of(token).encode()
        )
    assert load_recording(served).header["settings"]["seed"] == 4
    assert load_recording(proxied).header["upstream"] == mock_url


def test_the_control_token_never_reaches_a_recording(tmp_path: Path) -> None:
    """B-AUTH-22: the settings in a recording's header leave out the control token (a secret)."""
    backend = Backend(Settings(time_scale=0, access_log=False, control_token="secret-control-token"))
    try:
        header = mock_header(backend)
    finally:
        backend.store.close()
    assert "secret-control-token" not in json.dumps(header)
    assert "control_token" not in header["settings"] and header["settings"]["seed"] == 0
