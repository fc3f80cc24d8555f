"""Anonymous and claim tokens over HTTP, against a real server (B-AUTH-*)."""

from __future__ import annotations

import re

import httpx

from mockserver.masking import alias_of
from mockserver.settings import Settings
from mockserver.testing import LiveServer

WEEK = 7 * 86400


def test_anonymous_token_shape(http: httpx.Client) -> None:
    """B-AUTH-01/03/04: no body, X-Client-Id only; token, user_id, expires_at, credits 100."""
    r = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-shape"})
    body = r.json()
    assert r.status_code == 200 and body["code"] == 0
    data = body["data"]
    assert data["token"].startswith("nmv_usr_") and data["user_id"].startswith("anon_")
    assert data["credits"] == 100
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["expires_at"])


def test_missing_client_id_is_http_400_and_issues_nothing(http: httpx.Client, mock: LiveServer) -> None:
    """B-AUTH-02, B-ERR-02: HTTP 400 with a message; no token issued."""
    r = http.post("/api/auth/anonymous-token")
    assert r.status_code == 400
    assert r.json()["code"] == 400 and "X-Client-Id" in r.json()["message"]
    assert mock.backend.accounts.tokens == {}


def test_v44_limits_issue_tokens_without_a_client_id() -> None:
    """B-AUTH-10: the v4.4 call takes no X-Client-Id; each call is a new anonymous account, and the
    per-IP cap (5 per hour) still holds; a client id, when sent, is still checked (U-07)."""
    settings = Settings(time_scale=0, access_log=False, rate_limits="v44")
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        users = set()
        for _ in range(5):
            r = http.post("/api/auth/anonymous-token")
            assert r.status_code == 200 and r.json()["code"] == 0
            users.add(r.json()["data"]["user_id"])
        assert len(users) == 5
        r = http.post("/api/auth/anonymous-token")
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        too_long = {"X-Client-Id": "x" * 65}
        assert http.post("/api/auth/anonymous-token", headers=too_long).status_code == 400


def test_second_token_inside_window_is_429(http: httpx.Client) -> None:
    """B-AUTH-08, U-06: one token per client per 7 days; 429 with Retry-After (U-03)."""
    assert http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-429"}).status_code == 200
    r = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-429"})
    assert r.status_code == 429 and r.json()["code"] == 429
    assert r.headers["retry-after"] == "30"


def test_expired_token_is_1001_then_regranted(http: httpx.Client, new_anonymous) -> None:
    """B-AUTH-05/07/14: after 7 virtual days 1001; the same client id gets a new token, same user."""
    user = new_anonymous("c-expiry")
    assert user.get("/api/credits/balance/simple").json()["code"] == 0
    http.post("/_mock/clock/advance", json={"seconds": WEEK})
    r = user.get("/api/credits/balance/simple")
    assert r.status_code == 200 and r.json()["code"] == 1001  # U-01 default: HTTP 200 + body code
    again = new_anonymous("c-expiry")
    assert again.user_id == user.user_id and again.token != user.token
    assert again.get("/api/credits/balance/simple").json()["code"] == 0


def test_per_ip_cap_over_http(http: httpx.Client) -> None:
    """B-AUTH-09: the 11th anonymous token from one IP in 7 days is refused."""
    for n in range(10):
        assert http.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"ip-{n}"}).status_code == 200
    assert http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "ip-10"}).status_code == 429


def test_claim_token(user) -> None:
    """B-AUTH-19/20/21, B-SESS-09: clm_ token for own session, 604800 s, no API access."""
    session_id, task_id = user.session()
    r = user.post("/api/auth/claim-token", json={"task_id": task_id, "session_id": session_id})
    data = r.json()["data"]
    assert data["claim_token"].startswith("clm_") and data["expires_in"] == 604800
    denied = user.http.get(
        "/api/credits/balance/simple", headers={"Authorization": f"Bearer {data['claim_token']}"}
    )
    assert denied.json()["code"] == 1001


def test_claim_token_for_foreign_session_is_1002(user, new_account) -> None:
    """U-16: another account's session is as if it did not exist."""
    session_id, task_id = user.session()
    other = new_account()
    r = other.post("/api/auth/claim-token", json={"task_id": task_id, "session_id": session_id})
    assert r.json()["code"] == 1002


def test_claim_token_bad_body_is_400(user) -> None:
    """Bad input: a clear 400, never 500."""
    for body in (b"{", b"[]", b'{"task_id": 5, "session_id": "x"}', b'{"session_id": "x"}'):
        r = user.post("/api/auth/claim-token", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, body
        assert r.json()["message"]


def test_journal_masks_tokens(http: httpx.Client, user) -> None:
    """INTERFACE.md journal: headers with secrets masked, virtual time, body code (B-AUTH-22)."""
    user.get("/api/credits/balance/simple")
    entries = http.get("/_mock/journal").json()["entries"]
    credit_calls = [e for e in entries if e["path"] == "/api/credits/balance/simple"]
    assert credit_calls and credit_calls[0]["headers"]["authorization"] == f"Bearer {alias_of(user.token)}"
    assert alias_of(user.token).startswith("nmv_usr_MASKED_")
    assert credit_calls[0]["code"] == 0 and credit_calls[0]["status"] == 200
    assert user.token not in str(entries)
    assert entries[0]["path"] == "/api/auth/anonymous-token"  # oldest first
