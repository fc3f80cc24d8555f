"""Render submit / poll / cancel / download against a real server (B-REN-*)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from contracts.spec import component_validator, validator
from mockserver.settings import Settings
from mockserver.testing import LiveServer

GENERATE = "Generate a 10-second city timelapse video"


def generated(user) -> tuple[str, dict[str, Any]]:
    session_id, _ = user.session()
    user.chat(session_id, GENERATE)
    return session_id, user.state(session_id)["draft"]


def submit(user, session_id: str, draft: Any, render_id: str = "render_1", **extra: Any) -> httpx.Response:
    return user.post(
        "/api/render/proxy/lambda",
        json={
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": "high"},
            **extra,
        },
    )


def test_full_export_flow_shape_a(user, tmp_path: Path) -> None:
    """B-REN-01/05/06/09/13/15: pending -> processing -> completed; output.url and download: one MP4."""
    session_id, draft = generated(user)
    credits = user.credits()
    r = submit(user, session_id, draft)
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["id"] == "render_1"
    seen = [r.json()["status"]]
    while seen[-1] not in ("completed", "failed"):
        poll = user.get("/api/render/proxy/lambda/render_1").json()
        seen.append(poll["status"])
        assert len(seen) < 10
    assert seen == ["pending", "processing", "completed"]
    assert poll["progress"] == 100 and poll["output"]["url"].endswith(".mp4")
    video = user.http.get(poll["output"]["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    download = user.get("/api/render/proxy/render_1/download")
    assert download.content == video.content
    out = tmp_path / "out.mp4"
    out.write_bytes(download.content)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (
            draft["m"].get("width", 1920),
            draft["m"].get("height", 1080),
        )
        assert container.duration / 1e6 == pytest.approx(draft["d"] / 1000, abs=1.1)
    assert user.credits() == credits  # B-REN-15: export is free


def test_shape_a_submit_answer_satisfies_both_readers(user) -> None:
    """B-REN-04, B-REN-06, U-14: in shape A the submit answer carries the one documented submit answer,
    `{"success": true, "data": {id, status: "pending", progress: 5}}` (a v4.4 reader), and the v1.9
    top-level fields as well (a v1.9 reader), so neither reader takes an accepted export for a refusal."""
    session_id, draft = generated(user)
    body = submit(user, session_id, draft, "render_both").json()
    assert body["success"] is True
    assert body["data"] == {"id": "render_both", "status": "pending", "progress": 5}
    assert (body["id"], body["status"], body["progress"]) == ("render_both", "pending", 5)
    assert component_validator("RenderSubmitShapeA").is_valid(body)
    assert validator("render-shape-b").is_valid(body)  # what a reader of api-ref v4.4 expects
    poll = user.get("/api/render/proxy/lambda/render_both").json()
    assert "success" not in poll and poll["id"] == "render_both"  # the poll stays shape A (B-REN-06)


def test_shape_b_option() -> None:
    """B-REN-04/07: {"success": true, "data": {id, status, progress, outputUrl, createdAt, completedAt}}."""
    with (
        LiveServer(Settings(time_scale=0, render_shape="B", access_log=False)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 500}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "nemo-video"}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        with http.stream(
            "POST",
            "/run_sse",
            headers=headers,
            json={"session_id": sid, "new_message": {"parts": [{"text": GENERATE}]}},
        ) as r:
            r.read()
        draft = http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers).json()["data"]["state"][
            "draft"
        ]
        r = http.post(
            "/api/render/proxy/lambda",
            headers=headers,
            json={"id": "render_b", "sessionId": sid, "draft": draft},
        )
        assert r.json() == {
            "success": True,
            "data": {
                "id": "render_b",
                "status": "pending",
                "progress": 5,
                "createdAt": r.json()["data"]["createdAt"],
            },
        }
        for _ in range(3):
            poll = http.get("/api/render/proxy/lambda/render_b", headers=headers).json()
        assert poll["success"] is True and "status" not in poll
        assert poll["data"]["status"] == "completed" and poll["data"]["outputUrl"].endswith(".mp4")
        assert poll["data"]["completedAt"] >= poll["data"]["createdAt"]


def test_402_for_anonymous_without_attribution(user) -> None:
    """B-ATTR-08, B-REN-16, U-15: no X-Skill-* headers on an anonymous export -> HTTP 402, no job made."""
    session_id, draft = generated(user)
    r = user.http.post(
        "/api/render/proxy/lambda",
        headers={"Authorization": f"Bearer {user.token}"},
        json={"id": "render_x", "sessionId": session_id, "draft": draft},
    )
    assert r.status_code == 402 and r.json()["code"] == 402
    assert user.get("/api/render/proxy/lambda/render_x").status_code == 404


def test_paid_account_exports_without_headers(new_account) -> None:
    """U-15: only anonymous and free accounts are refused for missing headers."""
    paid = new_account("paid", 1000)
    session_id, draft = generated(paid)
    r = paid.http.post(
        "/api/render/proxy/lambda",
        headers={"Authorization": f"Bearer {paid.token}"},
        json={"id": "render_p", "sessionId": session_id, "draft": draft},
    )
    assert r.status_code == 200 and r.json()["status"] == "pending"


def test_free_tier_export_blocked_option() -> None:
    """B-AUTH-18 free plan: with --free-tier-export-blocked a free account gets 402 whatever it sends."""
    with (
        LiveServer(Settings(time_scale=0, free_tier_export_blocked=True, access_log=False)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        token = http.post("/_mock/accounts", json={"tier": "free", "credits": 500}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "nemo-video"}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        draft = {"t": [{"tt": 0, "sg": [{"id": "s", "st": 0, "d": 1000, "m": {}}]}], "d": 1000, "m": {}}
        r = http.post(
            "/api/render/proxy/lambda", headers=headers, json={"id": "r", "sessionId": sid, "draft": draft}
        )
        assert r.status_code == 402


def test_duplicate_id_refused(user) -> None:
    """B-REN-03, U-14: a used id -> HTTP 409 envelope; the client retries with a new id."""
    session_id, draft = generated(user)
    assert submit(user, session_id, draft, "render_dup").status_code == 200
    r = submit(user, session_id, draft, "render_dup")
    assert r.status_code == 409 and "new id" in r.json()["message"]
    assert submit(user, session_id, draft, "render_dup2").status_code == 200


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("id"),
        lambda b: b.update(id=""),
        lambda b: b.pop("sessionId"),
        lambda b: b.update(session_id=b.pop("sessionId")),
        lambda b: b.update(draft="{}"),
        lambda b: b.update(draft={"t": []}),
        lambda b: b.update(output={"format": "gif"}),
        lambda b: b.update(sessionId=["x"]),
    ],
)
def test_bad_submit_bodies(user, mutate) -> None:
    """B-ENV-05 (camelCase sessionId), B-STATE-05 (not exportable), bad types: 400, no job."""
    session_id, draft = generated(user)
    payload = {"id": "render_bad", "sessionId": session_id, "draft": draft}
    mutate(payload)
    r = user.post("/api/render/proxy/lambda", json=payload)
    assert r.status_code == 400 and r.json()["message"]
    assert user.get("/api/render/proxy/lambda/render_bad").status_code == 404


def test_foreign_session_and_render(user, new_account) -> None:
    """U-16: another account's session -> 1002; another account's render id -> 404."""
    session_id, draft = generated(user)
    submit(user, session_id, draft, "render_mine")
    other = new_account()
    assert submit(other, session_id, draft, "render_theirs").json()["code"] == 1002
    assert other.get("/api/render/proxy/lambda/render_mine").status_code == 404


def test_cancel(user) -> None:
    """B-REN-12, U-14: cancel a pending job -> failed with reason cancelled; it stays failed."""
    session_id, draft = generated(user)
    submit(user, session_id, draft, "render_c")
    r = user.post("/api/render/proxy/lambda/render_c/cancel")
    assert r.json()["status"] == "failed" and r.json()["reason"] == "cancelled"
    assert user.get("/api/render/proxy/lambda/render_c").json()["status"] == "failed"
    assert user.get("/api/render/proxy/render_c/download").status_code == 409


def test_render_faults(user, http: httpx.Client) -> None:
    """Fault `render: fail` ends in failed; `render: stall` never completes (B-CLI-16 paths)."""
    session_id, draft = generated(user)
    http.post("/_mock/faults", json={"method": "POST", "path": "/api/render/proxy/lambda", "render": "fail"})
    submit(user, session_id, draft, "render_f")
    http.post("/_mock/faults", json={"method": "POST", "path": "/api/render/proxy/lambda", "render": "stall"})
    submit(user, session_id, draft, "render_s")
    submit(user, session_id, draft, "render_ok")
    order = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}
    last: dict[str, str] = {}
    for _ in range(6):
        for rid in ("render_f", "render_s", "render_ok"):
            status = user.get(f"/api/render/proxy/lambda/{rid}").json()["status"]
            assert order[status] >= order[last.get(rid, "pending")]  # B-REN-09: only forward
            last[rid] = status
    assert last == {"render_f": "failed", "render_s": "processing", "render_ok": "completed"}


def test_render_on_the_virtual_clock() -> None:
    """B-REN-11: at time scale 1 a job takes 30-90 virtual seconds; advancing the clock completes it."""
    with (
        LiveServer(Settings(time_scale=1, access_log=False)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 0}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        draft = {
            "t": [{"tt": 0, "sg": [{"id": "s", "st": 0, "d": 2000, "m": {"color": "#ff0000"}}]}],
            "d": 2000,
            "m": {"width": 320, "height": 240},
        }
        http.post(
            "/api/render/proxy/lambda", headers=headers, json={"id": "r", "sessionId": sid, "draft": draft}
        )
        assert http.get("/api/render/proxy/lambda/r", headers=headers).json()["status"] == "pending"
        http.post("/_mock/clock/advance", json={"seconds": 20})
        assert http.get("/api/render/proxy/lambda/r", headers=headers).json()["status"] == "processing"
        http.post("/_mock/clock/advance", json={"seconds": 80})
        done = http.get("/api/render/proxy/lambda/r", headers=headers).json()
        assert done["status"] == "completed" and done["output"]["duration"] == pytest.approx(2.0, abs=1.01)


def test_legacy_paths_option() -> None:
    """B-REN-17: /api/render/proxy/draft and GET /api/render/proxy/<id> behind an option."""
    with (
        LiveServer(Settings(time_scale=0, legacy_render_paths=True, access_log=False)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 0}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        draft = {"t": [{"tt": 0, "sg": [{"id": "s", "st": 0, "d": 1000, "m": {}}]}], "d": 1000, "m": {}}
        r = http.post(
            "/api/render/proxy/draft", headers=headers, json={"id": "old", "sessionId": sid, "draft": draft}
        )
        assert r.json()["status"] == "pending"
        assert http.get("/api/render/proxy/old", headers=headers).json()["id"] == "old"


def test_output_optional_and_free_form_ids(user) -> None:
    """B-REN-02: `output` may be left out or carry resolution; U-19: render ids need no render_ prefix."""
    session_id, draft = generated(user)
    bare = user.post(
        "/api/render/proxy/lambda", json={"id": "my-export-1", "sessionId": session_id, "draft": draft}
    )
    assert bare.status_code == 200 and bare.json()["id"] == "my-export-1"
    rich = submit(
        user,
        session_id,
        draft,
        "render_hd",
        output={"format": "mp4", "quality": "high", "resolution": "1080p"},
    )
    assert rich.status_code == 200


def test_output_url_names_the_render(user) -> None:
    """B-REN-14: the output URL is a static .mp4 under render-result/, named after the render."""
    session_id, draft = generated(user)
    submit(user, session_id, draft, "render_url")
    for _ in range(2):
        poll = user.get("/api/render/proxy/lambda/render_url").json()
    assert "/render-result/render_url.mp4" in poll["output"]["url"]


def test_a_download_is_in_the_journal_once_its_last_byte_arrived(user, mock: LiveServer, monkeypatch) -> None:
    """The journal holds a download as soon as the client holds the file, even while the server
    still has work after the answer (a file response closes its file on a worker thread; here it
    is held until the test has read the journal). A contract check reads the journal right after a
    download."""
    from starlette.responses import FileResponse

    answer = FileResponse.__call__
    release: asyncio.Event = mock.call(asyncio.Event)

    async def held_after_answering(self: FileResponse, scope: Any, receive: Any, send: Any) -> None:
        await answer(self, scope, receive, send)
        await release.wait()

    session_id, draft = generated(user)
    submit(user, session_id, draft)
    while user.get("/api/render/proxy/lambda/render_1").json()["status"] != "completed":
        pass
    monkeypatch.setattr(FileResponse, "__call__", held_after_answering)
    try:
        download = user.get("/api/render/proxy/render_1/download")
        assert download.status_code == 200 and download.content[4:8] == b"ftyp"
        path = "/api/render/proxy/render_1/download"
        journal = user.http.get("/_mock/journal", params={"path": path}).json()
        assert [entry["status"] for entry in journal["entries"]] == [200]
    finally:
        mock.call(release.set)


def test_wait_idle_waits_for_the_journal_entry_of_an_answer(user, mock: LiveServer, monkeypatch) -> None:
    """`LiveServer.wait_idle` returns once every answered request is in the journal, so a test
    reading the journal in place after it sees the last call (the API path notes its entry after
    the handler returns; here the handler takes a fifth of a second after answering)."""
    from mockserver.api.common import JsonAnswer

    answer = JsonAnswer.__call__

    async def slow_to_finish(self: JsonAnswer, scope: Any, receive: Any, send: Any) -> None:
        await answer(self, scope, receive, send)
        await asyncio.sleep(0.2)

    monkeypatch.setattr(JsonAnswer, "__call__", slow_to_finish)
    user.http.delete("/_mock/journal")
    assert user.get("/api/credits/balance/simple").status_code == 200
    mock.wait_idle()
    api = [e["path"] for e in mock.backend.journal.entries() if e["path"].startswith("/api/")]
    assert api == ["/api/credits/balance/simple"]
    assert mock.backend.answering == 0
