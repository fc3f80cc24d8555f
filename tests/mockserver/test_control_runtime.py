"""The control API at run time: journal queries, scenarios armed while serving, settings flipped
(U-03: bad input is a 400 envelope and changes nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mockserver.testing import LiveServer, live_server

pytestmark = pytest.mark.live
TOKEN = "/api/auth/anonymous-token"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server(seed=3) as running:
        yield running


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/_mock/reset").status_code == 200
        yield client


def test_journal_filters_and_total(http: httpx.Client) -> None:
    for client_id in ("a", "b", "c"):
        assert http.post(TOKEN, headers={"X-Client-Id": client_id}).status_code == 200
    token = http.post(TOKEN, headers={"X-Client-Id": "d"}).json()["data"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    session_id = http.post(
        "/api/tasks/me/with-session/nemo_agent", json={"task_name": "p"}, headers=auth
    ).json()["data"]["session_id"]
    http.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=auth)
    http.get("/api/credits/balance/simple", headers={"Authorization": "Bearer nope"})

    every = http.get("/_mock/journal").json()
    posts = http.get("/_mock/journal", params={"method": "post", "path": TOKEN}).json()
    assert posts["total"] == 4 and [e["path"] for e in posts["entries"]] == [TOKEN] * 4
    first_two = http.get("/_mock/journal", params={"path": "/api/auth/*", "limit": 2}).json()
    assert first_two["total"] == 4 and first_two["entries"] == posts["entries"][:2]
    refused = http.get("/_mock/journal", params={"code": 1001}).json()["entries"]
    assert [e["path"] for e in refused] == ["/api/credits/balance/simple"]
    ours = http.get("/_mock/journal", params={"session": session_id}).json()["entries"]
    # The session's creation and its state read: the handler notes the session either way.
    assert [e["path"] for e in ours] == [
        "/api/tasks/me/with-session/nemo_agent",
        f"/api/state/nemo_agent/me/{session_id}/latest",
    ]
    assert all(e["session"] == session_id for e in ours)
    assert http.get("/_mock/journal", params={"status": 200, "method": "GET"}).json()["total"] >= 1
    later = http.get("/_mock/journal", params={"since": every["entries"][-1]["time"] + 1}).json()
    assert later == {"entries": [], "total": 0}
    assert every["total"] == len(every["entries"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "`limit` is an integer"),
        ({"limit": "many"}, "`limit` is an integer"),
        ({"status": "2xx"}, "`status` is an integer"),
        ({"since": "nan"}, "`since` is a virtual time"),
        ({"method": "P O"}, "`method` is an HTTP method"),
        ({"path": "api"}, "`path` starts with /"),
        ({"sessoin": "x"}, "unknown journal filter `sessoin`"),
    ],
)
def test_bad_journal_filters_are_400(http: httpx.Client, params: dict[str, str], message: str) -> None:
    answer = http.get("/_mock/journal", params=params)
    assert answer.status_code == 400 and answer.json()["code"] == 400
    assert message in answer.json()["message"]


def test_delete_clears_the_journal(http: httpx.Client) -> None:
    http.post(TOKEN, headers={"X-Client-Id": "gone"})
    assert http.delete("/_mock/journal").json() == {"status": "cleared"}
    assert http.get("/_mock/journal", params={"path": TOKEN}).json()["total"] == 0


def test_a_scenario_armed_at_run_time(http: httpx.Client) -> None:
    listed = http.get("/_mock/scenarios").json()
    assert "rate-limited-token-call" in listed["scenarios"] and listed["armed"] == []
    armed = http.post("/_mock/scenarios/rate-limited-token-call")
    assert armed.status_code == 200 and armed.json()["faults"] == 1
    assert http.get("/_mock/scenarios").json()["armed"] == ["rate-limited-token-call"]
    first = http.post(TOKEN, headers={"X-Client-Id": "s"})
    assert first.status_code == 429 and first.headers["retry-after"] == "30"
    assert http.post(TOKEN, headers={"X-Client-Id": "s"}).status_code == 200
    http.post("/_mock/reset")
    assert http.get("/_mock/scenarios").json()["armed"] == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-such-scenario", "no shipped scenario"),
        ("upload-over-the-cap", "needs a restart"),
    ],
)
def test_scenarios_that_cannot_arm_at_run_time_are_400(http: httpx.Client, name: str, message: str) -> None:
    answer = http.post(f"/_mock/scenarios/{name}")
    assert answer.status_code == 400 and message in answer.json()["message"]
    assert http.get("/_mock/faults").json()["rules"] == []  # nothing armed


def run(http: httpx.Client, auth: dict[str, str], session: str, text: str) -> str:
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session,
        "new_message": {"parts": [{"text": text}]},
    }
    answer = http.post("/run_sse", headers=auth, json=body)
    assert answer.status_code == 200
    return answer.text


def spoken(stream: str) -> bool:
    """Whether a stream carried any text event for the user (a silent edit carries none, B-SSE-09)."""
    for line in stream.splitlines():
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            continue  # not an event (a done marker)
        if isinstance(event, dict) and event.get("type") == "text" and event.get("content"):
            return True
    return False


def test_a_scenario_with_steps_armed_at_run_time(http: httpx.Client) -> None:
    """silent-edit: the step arms a silent stream after the first /run_sse; a reset ends the steps."""
    armed = http.post("/_mock/scenarios/silent-edit").json()
    assert armed["status"] == "armed" and armed["steps"] == 1
    token = http.post(TOKEN, headers={"X-Client-Id": "scenario-silent-edit"}).json()["data"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    session = http.post("/api/tasks/me/with-session/nemo_agent", headers=auth, json={}).json()["data"]
    first = run(http, auth, session["session_id"], "make a video of a city at night")
    assert spoken(first)
    assert http.get("/_mock/faults").json()["rules"][0]["sse"] == "silent"  # the step acted
    second = run(http, auth, session["session_id"], "add a title 'Night City'")
    assert not spoken(second)

    http.post("/_mock/reset")
    token = http.post(TOKEN, headers={"X-Client-Id": "after-reset"}).json()["data"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    session = http.post("/api/tasks/me/with-session/nemo_agent", headers=auth, json={}).json()["data"]
    run(http, auth, session["session_id"], "what can you do?")
    assert http.get("/_mock/faults").json()["rules"] == []  # the step is gone with the reset


def test_steps_need_the_journal() -> None:
    with live_server(journal=False) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.post("/_mock/scenarios/silent-edit")
        assert answer.status_code == 409 and "--journal off" in answer.json()["message"]
        assert http.get("/_mock/faults").json()["rules"] == []


def test_settings_flip_at_run_time_and_reset_restores_them(http: httpx.Client) -> None:
    assert http.get("/_mock/settings").json()["settings"] == {
        "dialect": "documented",
        "render_shape": "A",
        "error_status": "body",
    }
    unauthorized = {"Authorization": "Bearer nope"}
    assert http.get("/api/credits/balance/simple", headers=unauthorized).status_code == 200
    flipped = http.patch("/_mock/settings", json={"error_status": "mapped", "render_shape": "B"})
    assert flipped.json()["settings"]["error_status"] == "mapped"
    assert http.get("/api/credits/balance/simple", headers=unauthorized).status_code == 401
    assert http.get("/_mock/health").json()["render_shape"] == "B"
    http.post("/_mock/reset")
    assert http.get("/_mock/settings").json()["settings"]["error_status"] == "body"
    assert http.get("/api/credits/balance/simple", headers=unauthorized).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"profile": "generator-video"}, "`profile` cannot change at run time"),
        ({"dialect": "xml"}, "`dialect` is one of documented, adk"),
        ({"error_status": "mapped", "render_shape": ["B"]}, "`render_shape` is one of A, B"),
    ],
)
def test_bad_settings_are_400_and_change_nothing(
    http: httpx.Client, body: dict[str, object], message: str
) -> None:
    before = http.get("/_mock/settings").json()
    answer = http.patch("/_mock/settings", json=body)
    assert answer.status_code == 400 and message in answer.json()["message"]
    assert http.get("/_mock/settings").json() == before
