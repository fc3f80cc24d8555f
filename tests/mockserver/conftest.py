"""A real mock server on a free loopback port for the API tests, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings
from mockserver.testing import LiveServer

ATTRIBUTION = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9", "X-Skill-Platform": "unknown"}


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, seed=7, access_log=False)) as server:
        yield server


@pytest.fixture
def mock(live: LiveServer) -> Iterator[LiveServer]:
    live.reset()
    yield live
    live.wait_idle()


@pytest.fixture
def http(mock: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.url, timeout=30) as client:
        yield client


@dataclass
class User:
    """A signed-in caller: token, ids and the headers a well-behaved skill sends."""

    http: httpx.Client
    token: str
    user_id: str
    client_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **ATTRIBUTION}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def session(self, **body: Any) -> tuple[str, str]:
        r = self.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "project", **body})
        data = r.json()["data"]
        return data["session_id"], data["task_id"]

    def state(self, session_id: str) -> dict[str, Any]:
        r = self.get(f"/api/state/nemo_agent/me/{session_id}/latest")
        assert r.json()["code"] == 0, r.text
        state: dict[str, Any] = r.json()["data"]["state"]
        return state

    def credits(self) -> dict[str, int]:
        data: dict[str, int] = self.get("/api/credits/balance/simple").json()["data"]
        return data

    def chat(self, session_id: str, text: str) -> list[bytes]:
        """One turn; the raw SSE blocks (separated by blank lines) of the whole stream."""
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session_id,
            "new_message": {"parts": [{"text": text}]},
        }
        with self.http.stream(
            "POST", "/run_sse", json=body, headers={**self.headers, "Accept": "text/event-stream"}
        ) as r:
            assert r.status_code == 200, r.read()
            raw = r.read()
        return [block for block in raw.replace(b"\r\n", b"\n").split(b"\n\n") if block]


def anonymous(http: httpx.Client, client_id: str = "test-client-1") -> User:
    r = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": client_id})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    return User(http, data["token"], data["user_id"], client_id)


def account(http: httpx.Client, tier: str = "paid", credits: int = 10000) -> User:
    r = http.post("/_mock/accounts", json={"tier": tier, "credits": credits})
    assert r.status_code == 200, r.text
    data = r.json()
    return User(http, data["token"], data["user_id"], "")


@pytest.fixture
def user(http: httpx.Client) -> User:
    return anonymous(http)


@pytest.fixture
def paid(http: httpx.Client) -> User:
    return account(http, "paid", 10000)


@pytest.fixture
def new_anonymous(http: httpx.Client) -> Any:
    """A factory: `new_anonymous("client-id")` -> User."""
    return lambda client_id="test-client-1": anonymous(http, client_id)


@pytest.fixture
def new_account(http: httpx.Client) -> Any:
    """A factory: `new_account("free", 0)` -> User made by POST /_mock/accounts."""
    return lambda tier="paid", credits=10000: account(http, tier, credits)
