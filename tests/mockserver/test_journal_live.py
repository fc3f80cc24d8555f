"""The journal of a real server: bodies (bounded, masked), the session, streams entered when they
open and completed when they end, and the log lines a stream writes (issue: CI fit)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from checkout import FIXTURES_DIR
from mockserver.journal import BODY_LIMIT
from mockserver.operations import Operation
from mockserver.testing import LiveServer, live_server

pytestmark = pytest.mark.live


def journal(http: httpx.Client, **filters: Any) -> list[dict[str, Any]]:
    answer = http.get("/_mock/journal", params=filters)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def new_session(http: httpx.Client) -> tuple[dict[str, str], str, str]:
    token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 5000}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    created = http.post("/api/tasks/me/with-session/nemo_agent", headers=auth, json={"task_name": "t"})
    data = created.json()["data"]
    return auth, data["session_id"], data["task_id"]


def test_bodies_are_kept_parsed_and_masked() -> None:
    with live_server() as server, httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "bodies"}).json()["data"][
            "token"
        ]
        (entry,) = journal(http, path="/api/auth/anonymous-token")
        assert entry["response_body"]["code"] == 0
        shown = entry["response_body"]["data"]["token"]
        assert shown != token and shown.startswith("nmv_usr_MASKED_")
        assert token not in json.dumps(journal(http))

        auth, session, task = new_session(http)
        sent = {"task_id": task, "session_id": session}
        http.post("/api/auth/claim-token", headers=auth, json=sent)
        (claim,) = journal(http, path="/api/auth/claim-token")
        assert claim["request_body"] == sent and claim["session"] == session
        assert claim["response_body"]["data"]["claim_token"].startswith("clm_MASKED_")

        big = {"task_name": "x" * (3 * BODY_LIMIT)}
        http.post("/api/tasks/me/with-session/nemo_agent", headers=auth, json=big)
        last = journal(http, path="/api/tasks/*")[-1]
        assert last["request_body_cut"] is True
        assert isinstance(last["request_body"], str) and len(last["request_body"]) <= BODY_LIMIT + 10


def test_uploads_keep_a_line_not_the_file() -> None:
    with live_server() as server, httpx.Client(base_url=server.url, timeout=10) as http:
        auth, session, _ = new_session(http)
        files = {"files": ("clip.mp4", (FIXTURES_DIR / "media" / "clip-2s.mp4").read_bytes(), "video/mp4")}
        http.post(f"/api/upload-video/nemo_agent/me/{session}", headers=auth, files=files)
        (entry,) = journal(http, method="POST", path="/api/upload-video/*")
        assert entry["session"] == session
        assert entry["request_body"].startswith("multipart/form-data: 1 file(s): clip.mp4 (")
        assert "not journalled" in entry["request_body"]


class Gate:
    """Holds the next turn after its first event until released (the public `turn_gate` seam)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.reached = threading.Event()
        self.go: asyncio.Event | None = None

        async def gate(op: Operation) -> None:
            if op.emitted >= 1 and self.go is None:
                self.go = asyncio.Event()
                self.reached.set()
                await self.go.wait()

        server.backend.turn_gate = gate

    def release(self) -> None:
        go = self.go
        assert go is not None
        self.server.call(go.set)


@pytest.fixture
def access_lines() -> Iterator[list[dict[str, Any]]]:
    lines: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append({**record.nemo, "text": record.getMessage()})  # type: ignore[attr-defined]

    logger = logging.getLogger("nemo-mock.access")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_stream_is_entered_when_it_opens_and_completed_when_it_ends(access_lines) -> None:
    with live_server(access_log=True) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        auth, session, _ = new_session(http)
        gate = Gate(server)
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session,
            "new_message": {"parts": [{"text": "add a title Hello"}]},
        }
        with (
            httpx.Client(base_url=server.url, timeout=10) as streaming,
            streaming.stream("POST", "/run_sse", headers=auth, json=body) as answer,
        ):
            assert answer.status_code == 200
            assert gate.reached.wait(10)
            (running,) = journal(http, stream="true", open="true")
            assert running["path"] == "/run_sse" and running["session"] == session
            assert running["ended"] is None and running["response_body"] is None
            assert running["request_body"]["session_id"] == session
            opened = [line for line in access_lines if line["event"] == "stream-open"]
            assert [line["path"] for line in opened] == ["/run_sse"]
            assert opened[0]["session"] == session and "[stream-open]" in opened[0]["text"]
            assert not [line for line in access_lines if line["event"] == "stream-end"]
            gate.release()
            events = answer.read()
        assert journal(http, open="true") == []
        (done,) = journal(http, stream="true", session=session)
        assert done["open"] is False and done["ended"] >= done["time"]
        assert done["status"] == 200 and done["code"] == 0
        assert done["response_body"].startswith(events[:100].decode())
        (ended,) = [line for line in access_lines if line["event"] == "stream-end"]
        assert ended["latency_ms"] > 0 and ended["session"] == session
        plain = [line for line in access_lines if line["event"] == "request"]
        assert all(line["latency_ms"] is not None and line["latency_ms"] >= 0 for line in plain)
        # A stream is one entry, not two: the journal count and `total` agree.
        assert http.get("/_mock/journal", params={"path": "/run_sse"}).json()["total"] == 1


def test_a_stream_is_completed_in_the_journal_once_its_last_byte_arrived(monkeypatch) -> None:
    """The stream's entry is complete (ended, its events) by the time its client holds the whole
    answer, even while the server still has work after it (closing the event source; here held
    until the test has read the journal)."""
    from mockserver.api.sse import EventStream

    stream = EventStream._stream
    with live_server() as server, httpx.Client(base_url=server.url, timeout=10) as http:
        release: asyncio.Event = server.call(asyncio.Event)

        async def held_after_answering(self: EventStream, scope: Any, receive: Any, send: Any) -> None:
            await stream(self, scope, receive, send)
            await release.wait()

        monkeypatch.setattr(EventStream, "_stream", held_after_answering)
        auth, session, _ = new_session(http)
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session,
            "new_message": {"parts": [{"text": "add a title Hello"}]},
        }
        try:
            with httpx.Client(base_url=server.url, timeout=10) as streaming:
                events = streaming.post("/run_sse", headers=auth, json=body).content
            (done,) = journal(http, stream="true", session=session)
            assert done["open"] is False and done["ended"] is not None and done["code"] == 0
            assert done["response_body"].startswith(events[:100].decode())
        finally:
            server.call(release.set)


def test_bad_stream_and_open_filters_are_400() -> None:
    with live_server() as server, httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.get("/_mock/journal", params={"open": "maybe"})
        assert answer.status_code == 400 and "`open` is true or false" in answer.text
