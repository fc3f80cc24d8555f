"""`nemo-mock export FILE --har OUT`: HAR 1.2 that validates against contracts/schemas/har-1.2.schema.json."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from recorded import faulty_run

from contracts.spec import validator
from mockserver.cli import main
from mockserver.masking import alias_of
from mockserver.recording.har import iso, to_har
from mockserver.recording.live import live_mock
from mockserver.recording.model import load_recording
from mockserver.settings import Settings

pytestmark = pytest.mark.live

HAR_SCHEMA = "har-1.2.schema.json"


def errors(document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(HAR_SCHEMA).iter_errors(document)]


@pytest.fixture(scope="module")
def recording_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("har") / "run.jsonl"
    settings = Settings(time_scale=0, seed=41, access_log=False)
    with live_mock(settings, record=path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        faulty_run(http, server.wait_idle)
    return path


@pytest.fixture(scope="module")
def har(recording_path: Path) -> dict[str, Any]:
    return to_har(load_recording(recording_path))


def test_export_validates_against_the_har_schema(har: dict[str, Any], recording_path: Path) -> None:
    """Every entry has what HAR 1.2 requires; the recording's seed and source come along (B-PROF-01)."""
    assert errors(har) == []
    log = har["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "nemo-mock"
    assert len(log["entries"]) == len(load_recording(recording_path).exchanges)
    assert log["_recording"] == {
        "source": "mock",
        "upstream": None,
        "seed": 41,
        "profile": "nemo-video",
        "scenario": None,
        "time_scale": 0.0,
    }


def test_entries_carry_virtual_times_events_and_faults(har: dict[str, Any]) -> None:
    """Times are the virtual clock; SSE events keep their own times (B-SSE-06); fired faults are noted."""
    entries = har["log"]["entries"]
    assert entries[0]["startedDateTime"].startswith("2026-03-11T00:00:00")
    assert iso(1773187200.25) == "2026-03-11T00:00:00.250Z"
    for entry in entries:
        timings = entry["timings"]
        assert entry["time"] == pytest.approx(timings["send"] + timings["wait"] + timings["receive"])
    dropped = next(e for e in entries if e.get("_faults") == [{"id": "fault_2", "sse": "drop:3"}])
    assert dropped["response"]["content"]["mimeType"].startswith("text/event-stream")
    assert len(dropped["_events"]) == 3
    assert "".join(event["data"] for event in dropped["_events"]) == dropped["response"]["content"]["text"]
    silent = [e for e in entries if e["request"]["url"].endswith("/run_sse")][1]
    assert silent["_events"][-1]["_at"] > silent["startedDateTime"]
    limited = entries[1]
    assert limited["response"]["status"] == 429 and limited["response"]["statusText"] == "Too Many Requests"
    assert {"name": "retry-after", "value": "30"} in limited["response"]["headers"]


def test_requests_and_binary_answers(har: dict[str, Any]) -> None:
    """POST bodies are postData; the MP4 is base64 content; tokens stay masked (B-REN-13, B-AUTH-22)."""
    entries = har["log"]["entries"]
    session = next(e for e in entries if "/with-session/" in e["request"]["url"])
    request = session["request"]
    assert request["url"].startswith("http://127.0.0.1:") and request["method"] == "POST"
    assert request["postData"] == {
        "mimeType": "application/json",
        "params": [],
        "text": '{"task_name":"lake"}',
    }
    auth = next(h["value"] for h in request["headers"] if h["name"] == "authorization")
    assert auth.startswith("Bearer nmv_usr_MASKED_")
    download = next(e for e in entries if e["request"]["url"].endswith("/download"))
    content = download["response"]["content"]
    assert content["encoding"] == "base64" and content["mimeType"] == "video/mp4"
    assert base64.b64decode(content["text"])[4:8] == b"ftyp" and content["size"] > 1000


def test_the_schema_refuses_what_har_requires(har: dict[str, Any]) -> None:
    """The schema is not empty: missing required fields and wrong types are caught."""
    broken = copy.deepcopy(har)
    del broken["log"]["entries"][0]["response"]["content"]["mimeType"]
    broken["log"]["entries"][1]["startedDateTime"] = "yesterday"
    del broken["log"]["creator"]["version"]
    found = errors(broken)
    assert any("'mimeType' is a required property" in e for e in found)
    assert any("yesterday" in e for e in found)
    assert any("'version' is a required property" in e for e in found)
    no_entries = {"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}}}
    assert errors(no_entries) == ["['log']: 'entries' is a required property"]


def test_export_command_line(
    recording_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`nemo-mock export FILE --har OUT` writes HAR 1.2; a file that is not a recording is refused."""
    out = tmp_path / "run.har"
    assert main(["export", str(recording_path), "--har", str(out)]) == 0
    assert "entries (HAR 1.2)" in capsys.readouterr().out
    assert errors(json.loads(out.read_text(encoding="utf-8"))) == []
    not_a_recording = tmp_path / "x.jsonl"
    not_a_recording.write_text("{}\n", encoding="utf-8")
    assert main(["export", str(not_a_recording), "--har", str(out)]) == 2


def test_export_masks_secrets_a_recording_still_holds(recording_path: Path) -> None:
    """B-AUTH-22: the HAR export masks through the same policy, even a recording edited by hand."""
    recording = load_recording(recording_path)
    token, claim = "nmv_usr_0123456789abcdef", "clm_fedcba9876543210"
    exchange = dataclasses.replace(
        recording.exchanges[0],
        path=f"/api/state/nemo_agent/{token}/s/latest",
        query="token=plain-secret-1&page=2",
        request_headers=[("Authorization", "Bearer raw-bearer-2"), ("Cookie", "sid=cookie-secret-3")],
        request_body={"size": 40, "text": json.dumps({"token": "json-secret-4", "ct": claim})},
        response_headers=[
            ("Set-Cookie", "sid=cookie-secret-3; Path=/"),
            ("Content-Type", "application/json"),
        ],
        response_body={"size": 10, "text": f'{{"echo": "{token}"}}'},
    )
    recording.exchanges[0] = exchange
    text = json.dumps(to_har(recording))
    for secret in (token, claim, "plain-secret-1", "raw-bearer-2", "cookie-secret-3", "json-secret-4"):
        assert secret not in text, secret
    assert alias_of(token) in text and alias_of("raw-bearer-2") in text and alias_of("json-secret-4") in text
    assert not errors(to_har(recording))
