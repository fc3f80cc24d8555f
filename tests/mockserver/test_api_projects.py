"""Sessions, state, credits and the error envelope over HTTP (B-SESS-*, B-STATE-*, B-CRED-*, B-ERR-*)."""

from __future__ import annotations

import httpx
import pytest

from mockserver.settings import Settings
from mockserver.testing import LiveServer


def test_create_session_shape(user) -> None:
    """B-SESS-01/03: task_id and a numeric-string session_id, plus user_id (api-ref v4.4)."""
    r = user.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "project", "language": "en"})
    data = r.json()["data"]
    assert r.json()["code"] == 0
    assert data["task_id"].startswith("task_") and data["session_id"].isdigit()
    assert data["user_id"] == user.user_id


@pytest.mark.parametrize(
    "body", [{"task_name": "project"}, {"task_name": "My Video Project", "language": "zh-CN"}, {}]
)
def test_language_optional(user, body) -> None:
    """B-SESS-05/06: seed 003 sends no language; task_name is free text."""
    r = user.post("/api/tasks/me/with-session/nemo_agent", json=body)
    assert r.json()["code"] == 0


def test_user_path_me_own_or_other(user) -> None:
    """B-ENV-07, U-16: `me` or the caller's own id; another id -> 1002."""
    ok = user.post(f"/api/tasks/{user.user_id}/with-session/nemo_agent", json={"task_name": "p"})
    assert ok.json()["code"] == 0
    other = user.post("/api/tasks/anon_someoneelse/with-session/nemo_agent", json={"task_name": "p"})
    assert other.json()["code"] == 1002


def test_state_before_generation(user) -> None:
    """B-STATE-02, U-17: all keys, draft null before a generation; user_id for ?bind= (B-STATE-08)."""
    session_id, task_id = user.session()
    r = user.get(f"/api/state/nemo_agent/me/{session_id}/latest")
    data = r.json()["data"]
    assert data["user_id"] == user.user_id and data["task_id"] == task_id
    assert set(data["state"]) == {
        "draft",
        "video_infos",
        "canvas_config",
        "video_analyses",
        "generated_media",
    }
    assert data["state"]["draft"] is None


def test_unknown_and_foreign_session_is_1002(user, new_account) -> None:
    """B-SESS-07, U-16: unknown or another account's session -> 1002, nothing revealed."""
    session_id, _ = user.session()
    assert user.get("/api/state/nemo_agent/me/999/latest").json()["code"] == 1002
    other = new_account()
    r = other.get(f"/api/state/nemo_agent/me/{session_id}/latest")
    assert r.json() == {"code": 1002, "message": f"Session not found: {session_id}", "data": None}


def test_credits_shape_and_invariant(user) -> None:
    """B-CRED-01/02/03: available/frozen/total, total = available + frozen; 100 for a new anonymous user."""
    data = user.credits()
    assert data == {"available": 100, "frozen": 0, "total": 100}


def test_missing_token_is_1001(http: httpx.Client) -> None:
    """B-AUTH-13/14."""
    r = http.get("/api/credits/balance/simple")
    assert r.status_code == 200 and r.json()["code"] == 1001 and r.json()["data"] is None


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"null",
        b"[1]",
        b'{"task_name": 7}',
        b'{"language": ["en"]}',
        b'{"task_name": "' + b"x" * 300 + b'"}',
    ],
)
def test_bad_session_bodies_are_400_and_change_nothing(user, mock: LiveServer, raw: bytes) -> None:
    """Bad input: HTTP 400 with a message, never 500, no session made."""
    before = len(mock.backend.sessions.sessions)
    r = user.post(
        "/api/tasks/me/with-session/nemo_agent", content=raw, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["message"]
    assert len(mock.backend.sessions.sessions) == before


def test_unknown_path_and_method_answer_with_envelope(http: httpx.Client) -> None:
    """No bare error pages: 404 and 405 carry the envelope too (U-02)."""
    r = http.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == 404
    r = http.get("/run_sse")
    assert r.status_code == 405 and r.json()["code"] == 405


def test_mapped_error_statuses() -> None:
    """U-01 option: business codes with mapped HTTP statuses (1001->401, 1002->404)."""
    with (
        LiveServer(Settings(time_scale=0, error_status="mapped", access_log=False)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        r = http.get("/api/credits/balance/simple")
        assert r.status_code == 401 and r.json()["code"] == 1001
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "m"}).json()["data"]["token"]
        r = http.get("/api/state/nemo_agent/me/1/latest", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404 and r.json()["code"] == 1002


def test_omit_session_user_id_option() -> None:
    """B-SESS-03 disagreement: the v1.9 example has no user_id."""
    with (
        LiveServer(Settings(time_scale=0, session_user_id=False, access_log=False)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "o"}).json()["data"]["token"]
        r = http.post(
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "p"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert set(r.json()["data"]) == {"task_id", "session_id"}


def test_strict_attribution_option() -> None:
    """B-ATTR-08 (v1.9 "auth failures"): with strict attribution, no X-Skill-* headers -> 1001."""
    with (
        LiveServer(Settings(time_scale=0, strict_attribution=True, access_log=False)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "s"}).json()["data"]["token"]
        bare = http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"})
        assert bare.json()["code"] == 1001
        full = http.get(
            "/api/credits/balance/simple",
            headers={
                "Authorization": f"Bearer {token}",
                "X-Skill-Source": "nemo-video",
                "X-Skill-Version": "1.9",
                "X-Skill-Platform": "unknown",
            },
        )
        assert full.json()["code"] == 0


def test_no_rate_limit_on_other_endpoints(user) -> None:
    """U-20: only the anonymous-token call is rate limited."""
    codes = {user.get("/api/credits/balance/simple").status_code for _ in range(60)}
    assert codes == {200}
