"""A scripted run with faults, shared by the recording, replay, repro and HAR tests.

The run decides each next request from the answers it gets (tokens, ids, render status), so it
runs unchanged against the live mock and against a replay of its own recording.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mockserver.recording.live import live_mock
from mockserver.recording.model import Recording, load_recording
from mockserver.settings import Settings

ATTRIBUTION = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9", "X-Skill-Platform": "unknown"}
GENERATE = "make a 3 second video of a blue boat on a lake"
EDIT = "add a title 'Blue Lake'"
CLIENT_ID = "recorded-client"

Answer = tuple[int, bytes]


def nemo_mock() -> str:
    """The console script next to this interpreter."""
    return shutil.which("nemo-mock") or str(Path(sys.executable).with_name("nemo-mock"))


def turn_body(session_id: str, text: str) -> dict[str, Any]:
    return {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }


def faulty_run(http: httpx.Client, settle: Callable[[], None] = lambda: None) -> list[Answer]:
    """429 on the token call, a dropped generation, a silent edit, a failed render, then an MP4.

    `settle` is called where the run waits for the mock's turns to end (the live mock's
    `wait_idle`; nothing against a replay, which has no turns running).
    """
    seen: list[Answer] = []

    def keep(response: httpx.Response) -> httpx.Response:
        seen.append((response.status_code, response.content))
        return response

    def arm(**rule: Any) -> None:
        keep(http.post("/_mock/faults", json=rule))

    def stream(headers: dict[str, str], body: dict[str, Any]) -> None:
        with http.stream("POST", "/run_sse", json=body, headers=headers) as response:
            seen.append((response.status_code, response.read()))

    arm(
        method="POST",
        path="/api/auth/anonymous-token",
        respond={
            "status": 429,
            "headers": {"Retry-After": "30"},
            "json": {"code": 429, "message": "slow down"},
        },
    )
    keep(http.post("/api/auth/anonymous-token", headers={"X-Client-Id": CLIENT_ID}))
    anonymous = keep(http.post("/api/auth/anonymous-token", headers={"X-Client-Id": CLIENT_ID})).json()
    anonymous_headers = {"Authorization": f"Bearer {anonymous['data']['token']}", **ATTRIBUTION}
    keep(http.get("/api/credits/balance/simple", headers=anonymous_headers))
    paid = keep(http.post("/_mock/accounts", json={"tier": "paid", "credits": 1000})).json()
    headers = {"Authorization": f"Bearer {paid['token']}", **ATTRIBUTION}
    session = keep(
        http.post("/api/tasks/me/with-session/nemo_agent", json={"task_name": "lake"}, headers=headers)
    ).json()["data"]
    session_id = session["session_id"]
    keep(http.post("/api/auth/claim-token", json={**session, "user_id": None}, headers=headers))
    arm(method="POST", path="/run_sse", sse="drop:3")
    stream(headers, turn_body(session_id, GENERATE))
    settle()  # the dropped turn finishes on the server (B-SSE-14)
    arm(method="POST", path="/run_sse", sse="silent")
    stream(headers, turn_body(session_id, EDIT))
    settle()
    state = keep(http.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers)).json()
    draft = state["data"]["state"]["draft"]
    arm(method="POST", path="/api/render/proxy/lambda", render="fail")
    for render_id in ("render_first", "render_second"):
        body = {"id": render_id, "sessionId": session_id, "draft": draft}
        keep(http.post("/api/render/proxy/lambda", json=body, headers=headers))
        status = "pending"
        while status not in ("completed", "failed"):
            status = keep(http.get(f"/api/render/proxy/lambda/{render_id}", headers=headers)).json()["status"]
    keep(http.get("/api/render/proxy/render_second/download", headers=headers))
    keep(http.get("/api/credits/balance/simple", headers=headers))
    keep(http.post("/_mock/clock/advance", json={"seconds": 60}))
    keep(
        http.get("/api/credits/balance/simple", headers={"Authorization": "Bearer nmv_usr_not_a_real_token"})
    )
    return seen


@dataclass
class Run:
    """A recorded faulty run: the file, the recording read back, and what the client was answered."""

    path: Path
    recording: Recording
    seen: list[Answer]


def record_faulty_run(path: Path, seed: int) -> Run:
    """The faulty run against a live mock at time scale 0 that records to `path`."""
    settings = Settings(time_scale=0, seed=seed, access_log=False)
    with live_mock(settings, record=path) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        seen = faulty_run(http, server.wait_idle)
    return Run(path, load_recording(path), seen)
