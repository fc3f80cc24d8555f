"""The API calls the web tests make, with httpx against the live mock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

ATTRIBUTION = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9", "X-Skill-Platform": "unknown"}


@dataclass
class Caller:
    http: httpx.Client
    token: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **ATTRIBUTION}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, headers=self.headers, **kw)

    def session(self, task_name: str = "project") -> tuple[str, str]:
        data = self.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": task_name}).json()[
            "data"
        ]
        return data["session_id"], data["task_id"]

    def chat(self, session_id: str, text: str) -> None:
        body = {"app_name": "nemo_agent", "user_id": "me", "session_id": session_id}
        body["new_message"] = {"parts": [{"text": text}]}  # type: ignore[assignment]
        with self.http.stream("POST", "/run_sse", json=body, headers=self.headers) as response:
            assert response.status_code == 200
            response.read()

    def claim(self, session_id: str, task_id: str) -> str:
        answer = self.post("/api/auth/claim-token", json={"task_id": task_id, "session_id": session_id})
        token: str = answer.json()["data"]["claim_token"]
        return token


def paid(http: httpx.Client, credits: int = 10_000) -> Caller:
    data = http.post("/_mock/accounts", json={"tier": "paid", "credits": credits}).json()
    return Caller(http, data["token"], data["user_id"])


def anonymous(http: httpx.Client, client_id: str) -> Caller:
    data = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": client_id}).json()["data"]
    return Caller(http, data["token"], data["user_id"])
