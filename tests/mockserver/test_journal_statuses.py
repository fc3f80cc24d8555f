"""The journal's status is the status the client got, for every kind of API answer.

API handlers note their own status (`api.common.note_answer`) and the middleware does not watch
`send` for them; these calls cover each way an API request can end: success, business errors
(HTTP 200 or mapped), bad JSON, unknown ids, unknown paths, wrong methods, oversized bodies,
a download (watched), a stream (watched), and a handler that raises.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mockserver.testing import live_server

pytestmark = pytest.mark.live

Call = Callable[[httpx.Client, dict[str, str], str], httpx.Response]

CALLS: list[tuple[str, Call]] = [
    ("credits", lambda h, a, s: h.get("/api/credits/balance/simple", headers=a)),
    ("credits, no token", lambda h, a, s: h.get("/api/credits/balance/simple")),
    (
        "credits, bad token",
        lambda h, a, s: h.get("/api/credits/balance/simple", headers={"Authorization": "Bearer x"}),
    ),
    ("state", lambda h, a, s: h.get(f"/api/state/nemo_agent/me/{s}/latest", headers=a)),
    ("state, unknown session", lambda h, a, s: h.get("/api/state/nemo_agent/me/nope/latest", headers=a)),
    ("poll, unknown render", lambda h, a, s: h.get("/api/render/proxy/lambda/nope", headers=a)),
    ("submit, malformed JSON", lambda h, a, s: h.post("/api/render/proxy/lambda", headers=a, content=b"{")),
    ("submit, not an object", lambda h, a, s: h.post("/api/render/proxy/lambda", headers=a, json=[1])),
    ("session", lambda h, a, s: h.post("/api/tasks/me/with-session/nemo_agent", headers=a, json={})),
    (
        "claim, wrong task",
        lambda h, a, s: h.post("/api/auth/claim-token", headers=a, json={"task_id": "t", "session_id": s}),
    ),
    (
        "upload, no files",
        lambda h, a, s: h.post(f"/api/upload-video/nemo_agent/me/{s}", headers=a, content=b"x"),
    ),
    ("unknown API path", lambda h, a, s: h.get("/api/no/such/thing", headers=a)),
    ("wrong method", lambda h, a, s: h.delete("/api/credits/balance/simple", headers=a)),
    (
        "too large",
        lambda h, a, s: h.post("/api/auth/claim-token", headers=a, content=b"{" + b" " * 3_000_000 + b"}"),
    ),
    ("download, unknown", lambda h, a, s: h.get("/api/render/proxy/nope/download", headers=a)),
    ("token", lambda h, a, s: h.post("/api/auth/anonymous-token", headers={"X-Client-Id": "statuses"})),
    (
        "run_sse",
        lambda h, a, s: h.post(
            "/run_sse",
            headers=a,
            json={
                "app_name": "nemo_agent",
                "user_id": "me",
                "session_id": s,
                "new_message": {"parts": [{"text": "hi"}]},
            },
        ),
    ),
]


@pytest.mark.parametrize("error_status", ["body", "mapped"])
def test_journal_statuses_match_what_the_client_got(error_status: str) -> None:
    with (
        live_server(error_status=error_status) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 1000}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        session = http.post("/api/tasks/me/with-session/nemo_agent", headers=auth, json={}).json()["data"]
        http.delete("/_mock/journal")
        got = []
        for _, call in CALLS:
            got.append(call(http, auth, session["session_id"]).status_code)
        seen = [e for e in http.get("/_mock/journal").json()["entries"] if not e["path"].startswith("/_mock")]
        assert [e["status"] for e in seen] == got, list(zip([name for name, _ in CALLS], got, strict=True))
        assert len(set(got)) >= 3  # the calls do end in different ways


def test_a_handler_that_raises_is_journalled_as_500() -> None:
    with live_server() as server, httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 10}).json()["token"]

        def broken(*args: object) -> None:
            raise RuntimeError("planted")

        server.backend.authenticate = broken  # type: ignore[method-assign]
        # A bug, never a designed answer: the test server closes the connection on it, or says 500.
        try:
            answer = http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 500
        except httpx.ReadError:
            pass
        # A new connection: the broken request's may be gone.
        journal = httpx.get(f"{server.url}/_mock/journal", params={"path": "/api/credits/*"}, timeout=10)
        (entry,) = journal.json()["entries"]
        assert entry["status"] == 500
