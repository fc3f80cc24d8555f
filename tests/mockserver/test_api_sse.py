"""POST /run_sse against a real uvicorn (B-SSE-*, B-ADK-*, B-CRED-*)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contracts.wording import TEMPORARY_ISSUE
from mockserver.settings import Settings
from mockserver.testing import LiveServer

GENERATE = "Generate a 10-second city timelapse video at night"


def events(blocks: list[bytes]) -> list[dict[str, Any]]:
    """Decode raw SSE blocks: JSON data, `{"type": "heartbeat", "form": "empty"}` for an empty `data:`."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        lines = block.split(b"\n")
        assert not any(line.startswith((b"event:", b"id:", b"retry:")) for line in lines)  # B-SSE-04, U-05
        data = [line[5:].lstrip(b" ") for line in lines if line.startswith(b"data:")]
        if not data:
            assert all(line.startswith(b":") for line in lines)
            out.append({"type": "heartbeat", "form": "comment"})
            continue
        assert len(data) == 1  # B-SSE-04: one data line per event
        if data[0] == b"":
            out.append({"type": "heartbeat", "form": "empty"})
        else:
            out.append(json.loads(data[0]))
    return out


def kinds(evs: list[dict[str, Any]]) -> list[str]:
    return [e.get("type", "?") for e in evs]


def body(session_id: str, text: str) -> dict[str, Any]:
    return {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }


def test_question_is_text_only_and_free(user) -> None:
    """B-SSE-05/08: a question gets text events and the stream closes; questions cost nothing (B-CRED-08)."""
    session_id, _ = user.session()
    evs = events(user.chat(session_id, "What can you do?"))
    assert "text" in kinds(evs) and "tool_call" not in kinds(evs)
    assert user.credits() == {"available": 100, "frozen": 0, "total": 100}


def test_stream_headers(user) -> None:
    """B-SSE-01, U-05: text/event-stream, no caching, Accept not required (U-12)."""
    session_id, _ = user.session()
    with user.http.stream("POST", "/run_sse", json=body(session_id, "hello"), headers=user.headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache" and r.headers["x-accel-buffering"] == "no"
        r.read()


def test_generation_two_stages_heartbeats_and_charge(user) -> None:
    """B-SSE-06/07/11/15, B-CRED-04: raw clip, then post-production; both heartbeat forms; 100 spent."""
    session_id, _ = user.session()
    evs = events(user.chat(session_id, GENERATE))
    names = [e["name"] for e in evs if e["type"] == "tool_call"]
    assert names[0] == "generate_video_with_seedance" and "edit_multitrack" in names
    forms = {e.get("form", "json") for e in evs if e["type"] == "heartbeat"}
    assert forms == {"json", "empty"}
    # 100-300 s of generation at one heartbeat per 5 s (B-SSE-10, U-04):
    assert sum(1 for e in evs if e["type"] == "heartbeat") >= 20
    state = user.state(session_id)
    tracks = state["draft"]["t"]
    assert any(t["sg"] for t in tracks)  # B-STATE-05: export-ready
    assert {t["tt"] for t in tracks} >= {0, 1, 7}  # post-production added BGM and a title
    assert state["generated_media"] and state["video_infos"]
    assert user.credits() == {"available": 0, "frozen": 0, "total": 0}


def test_out_of_credits_is_2001_before_any_stream(user, mock: LiveServer) -> None:
    """B-CRED-05, U-09: an anonymous user with no credits left gets 2001 as JSON, nothing runs or changes."""
    session_id, _ = user.session()
    user.chat(session_id, GENERATE)
    draft_before = user.state(session_id)["draft"]
    r = user.post("/run_sse", json=body(session_id, "add a title 'Again'"))
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["code"] == 2001 and r.json()["data"] is None
    assert user.state(session_id)["draft"] == draft_before
    assert user.credits() == {"available": 0, "frozen": 0, "total": 0}
    assert not mock.backend.operations


def test_edits_change_the_draft_and_some_are_silent(paid) -> None:
    """B-SSE-09/19: ~30% of edits end with no text, the draft still changes; others end with text."""
    session_id, _ = paid.session()
    paid.chat(session_id, GENERATE)
    silent = spoken = 0
    for n in range(24):
        before = paid.state(session_id)["draft"]
        evs = events(paid.chat(session_id, f"add a title 'Take {n}'"))
        assert kinds(evs)[0] == "tool_call" and "tool_result" in kinds(evs)
        after = paid.state(session_id)["draft"]
        assert after != before
        if "text" in kinds(evs):
            spoken += 1
        else:
            silent += 1
            assert kinds(evs)[-1] == "tool_result"  # the stream ends right after the tool_result
    assert 3 <= silent <= 14 and spoken >= 10
    credits = paid.credits()
    assert credits["total"] == credits["available"] == 10000 - 100 - 24 * 50  # B-CRED-04


def test_fault_silent(paid, http: httpx.Client) -> None:
    """Fault `sse: silent`: no text at all, tool events still come, the draft changes (B-SSE-09)."""
    session_id, _ = paid.session()
    http.post("/_mock/faults", json={"method": "POST", "path": "/run_sse", "times": 1, "sse": "silent"})
    evs = events(paid.chat(session_id, GENERATE))
    assert "text" not in kinds(evs) and "tool_call" in kinds(evs)
    assert paid.state(session_id)["draft"] is not None


def test_fault_temporary_issue(paid, http: httpx.Client) -> None:
    """Fault `sse: temporary_issue`: a trailing temporary-issue text after a normal reply (B-SSE-12, U-18)."""
    session_id, _ = paid.session()
    http.post("/_mock/faults", json={"path": "/run_sse", "sse": "temporary_issue"})
    evs = [e for e in events(paid.chat(session_id, "what can you do?")) if e["type"] == "text"]
    assert len(evs) >= 2 and evs[-1]["content"] == TEMPORARY_ISSUE["en"]


def test_fault_drop_keeps_working_and_ledger_exact(paid, http: httpx.Client, mock: LiveServer) -> None:
    """Fault `sse: drop:K` and B-SSE-14: the stream closes after K events; the work and the charge go on."""
    session_id, _ = paid.session()
    http.post("/_mock/faults", json={"path": "/run_sse", "sse": "drop:3"})
    evs = events(paid.chat(session_id, GENERATE))
    assert len(evs) == 3
    mock.wait_idle()
    assert paid.state(session_id)["draft"]["t"]
    assert paid.credits() == {"available": 9900, "frozen": 0, "total": 9900}
    assert not mock.backend.operations


def test_fault_heartbeats_only(paid, http: httpx.Client) -> None:
    """Fault `sse: heartbeats_only`: only keep-alives, past the client's 10-minute limit (B-CLI-07)."""
    session_id, _ = paid.session()
    http.post("/_mock/faults", json={"path": "/run_sse", "sse": "heartbeats_only"})
    t0 = http.get("/_mock/clock").json()["now"]
    evs = events(paid.chat(session_id, GENERATE))
    assert set(kinds(evs)) == {"heartbeat"}
    assert http.get("/_mock/clock").json()["now"] - t0 >= 600
    assert paid.state(session_id)["draft"]["t"]  # the generation itself still happened


@pytest.mark.parametrize(
    "raw,expect",
    [
        (b"{", 400),
        (b"[]", 400),
        (b'{"new_message": {"parts": [{"text": "hi"}]}}', 400),
        (b'{"session_id": 5, "new_message": {"parts": [{"text": "hi"}]}}', 400),
        (b'{"session_id": "S", "new_message": {"parts": []}}', 400),
        (b'{"session_id": "S", "new_message": {"parts": [{"text": 5}]}}', 400),
        (b'{"session_id": "S", "new_message": "hi"}', 400),
        (b'{"app_name": "other", "session_id": "S", "new_message": {"parts": [{"text": "hi"}]}}', 400),
    ],
)
def test_bad_run_sse_bodies(paid, mock: LiveServer, raw: bytes, expect: int) -> None:
    """U-12: malformed or incomplete bodies -> HTTP 400 with a message; nothing runs, nothing is charged."""
    session_id, _ = paid.session()
    r = paid.post(
        "/run_sse",
        content=raw.replace(b'"S"', json.dumps(session_id).encode()),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == expect and r.json()["message"]
    assert paid.credits()["total"] == 10000 and not mock.backend.operations


def test_unknown_session_and_foreign_user_id(paid, user) -> None:
    """B-SESS-07, B-SSE-03, U-16: unknown session -> 1002; user_id me / own id / absent all accepted."""
    assert paid.post("/run_sse", json=body("123", "hi")).json()["code"] == 1002
    session_id, _ = paid.session()
    for user_id in ("me", paid.user_id, None):
        b = body(session_id, "hi")
        if user_id is None:
            del b["user_id"]
        else:
            b["user_id"] = user_id
        with paid.http.stream("POST", "/run_sse", json=b, headers=paid.headers) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            r.read()
    foreign = body(session_id, "hi")
    foreign["user_id"] = user.user_id
    assert paid.post("/run_sse", json=foreign).json()["code"] == 1002


def test_same_seed_same_bytes(http: httpx.Client, new_anonymous) -> None:
    """--seed: after a reset the same calls give byte-identical streams (ids, choices, texts)."""
    runs = []
    for _ in range(2):
        http.post("/_mock/reset")
        user = new_anonymous("seeded")
        session_id, _ = user.session()
        runs.append((session_id, user.chat(session_id, GENERATE), user.chat(session_id, "add subtitles")))
    assert runs[0] == runs[1]


@pytest.fixture
def realtime() -> Any:
    """A server at time scale 1: operations take real time unless the clock is advanced."""
    with LiveServer(Settings(time_scale=1, seed=3, access_log=False)) as server:
        yield server


def _paid(http: httpx.Client) -> dict[str, str]:
    token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 1000}).json()["token"]
    return {"Authorization": f"Bearer {token}", "X-Skill-Source": "nemo-video"}


def test_disconnect_mid_generation_work_goes_on(realtime: LiveServer) -> None:
    """B-SSE-14/15: a client leaves mid-generation; credits stay frozen, then are spent exactly once."""
    with httpx.Client(base_url=realtime.url, timeout=10) as http:
        headers = _paid(http)
        session_id = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()[
            "data"
        ]["session_id"]
        with http.stream("POST", "/run_sse", json=body(session_id, GENERATE), headers=headers) as r:
            first = next(r.iter_lines())
            assert first.startswith("data:")
        # The client is gone; the operation runs on with its hold frozen.
        credits = http.get("/api/credits/balance/simple", headers=headers).json()["data"]
        assert credits == {"available": 900, "frozen": 100, "total": 1000}
        assert len(realtime.backend.operations) == 1
        http.post("/_mock/clock/advance", json={"seconds": 3600})
        realtime.wait_idle()
        credits = http.get("/api/credits/balance/simple", headers=headers).json()["data"]
        assert credits == {"available": 900, "frozen": 0, "total": 900}
        state = http.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers).json()["data"][
            "state"
        ]
        assert state["draft"]["t"]
        account = next(iter(realtime.backend.accounts.accounts.values()))
        account.ledger.check()


def test_resent_message_runs_and_charges_twice(realtime: LiveServer) -> None:
    """B-SSE-13, U-11: a message re-sent while a generation runs starts a second one, charged again."""
    with httpx.Client(base_url=realtime.url, timeout=10) as http:
        headers = _paid(http)
        session_id = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()[
            "data"
        ]["session_id"]
        for _ in range(2):
            with http.stream("POST", "/run_sse", json=body(session_id, GENERATE), headers=headers) as r:
                next(r.iter_lines())
        credits = http.get("/api/credits/balance/simple", headers=headers).json()["data"]
        assert credits == {"available": 800, "frozen": 200, "total": 1000}
        http.post("/_mock/clock/advance", json={"seconds": 3600})
        realtime.wait_idle()
        assert http.get("/api/credits/balance/simple", headers=headers).json()["data"]["total"] == 800


def test_adk_dialect() -> None:
    """B-ADK-02/03/04/07/10: ADK Event objects; heartbeats stay documented; missing session -> 404 detail."""
    with (
        LiveServer(Settings(time_scale=0, dialect="adk", access_log=False)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        headers = _paid(http)
        session_id = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()[
            "data"
        ]["session_id"]
        with http.stream("POST", "/run_sse", json=body(session_id, GENERATE), headers=headers) as r:
            blocks = [b for b in r.read().split(b"\n\n") if b]
        evs = events(blocks)
        adk = [e for e in evs if "content" in e]
        assert adk and all("invocationId" in e and "author" in e and "timestamp" in e for e in adk)
        parts = [p for e in adk for p in e["content"]["parts"]]
        assert any("functionCall" in p for p in parts) and any("functionResponse" in p for p in parts)
        assert any(e["type"] == "heartbeat" for e in evs if "type" in e)
        assert not any(v is None for e in adk for v in e.values())
        texts = [e for e in adk if any("text" in p for p in e["content"]["parts"])]
        assert texts and not any(e.get("partial") for e in texts)  # B-ADK-05: whole texts only
        r = http.post("/run_sse", json=body("404404", "hi"), headers=headers)
        assert r.status_code == 404 and r.json() == {"detail": "Session not found: 404404"}


def test_camel_case_request_keys_accepted(paid) -> None:
    """B-ADK-09, B-ENV-08: ADK's guide spells the body in camelCase; the app name is nemo_agent."""
    session_id, _ = paid.session()
    camel = {
        "appName": "nemo_agent",
        "userId": "me",
        "sessionId": session_id,
        "newMessage": {"role": "user", "parts": [{"text": "what can you do?"}]},
    }
    with paid.http.stream("POST", "/run_sse", json=camel, headers=paid.headers) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "text" in kinds(events([b for b in r.read().split(b"\n\n") if b]))
