"""Files the mock writes: distinct ids never share a file, `--data-dir` keeps what the mock did not
make, a crashed run's leftovers are never in the way, renders run off the event loop (B-REN-13/14)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from conftest import ATTRIBUTION

from mockserver import media, store
from mockserver.settings import Settings
from mockserver.state.renders import render_file_name
from mockserver.store import RUN_DIR_PREFIX
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live


def draft(colour: str, *, bgm: bool = False) -> dict[str, Any]:
    tracks: list[dict[str, Any]] = [
        {"tt": 0, "sg": [{"id": "v", "st": 0, "d": 1000, "m": {"color": colour}}]}
    ]
    if bgm:
        tracks.append(
            {"tt": 1, "sg": [{"id": "a", "st": 0, "d": 1000, "m": {"name": "BGM", "volume": 0.35}}]}
        )
    return {"t": tracks, "d": 1000, "m": {"width": 64, "height": 64}}


def export(user, render_id: str, body: dict[str, Any]) -> bytes:
    """Submit, poll to the end, download: the bytes of the MP4."""
    session_id, _ = user.session()
    r = user.post("/api/render/proxy/lambda", json={"id": render_id, "sessionId": session_id, "draft": body})
    assert r.status_code == 200, r.text
    for _ in range(5):
        poll = user.get(f"/api/render/proxy/lambda/{render_id}").json()
        if poll["status"] == "completed":
            break
    assert poll["status"] == "completed", poll
    via_url = user.http.get(poll["output"]["url"])
    download = user.get(f"/api/render/proxy/{render_id}/download")
    assert via_url.status_code == download.status_code == 200
    assert via_url.content == download.content
    return download.content


def centre_colour(data: bytes, tmp_path: Path) -> tuple[int, int, int]:
    path = tmp_path / "probe.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    r, g, b = frame[frame.shape[0] // 2, frame.shape[1] // 2]
    return int(r), int(g), int(b)


def test_lookalike_render_ids_of_two_accounts_never_share_a_file(new_account, tmp_path: Path) -> None:
    """B-REN-13/14: `x.render` (account A) and `x_render` (account B) are two files; each gets its own."""
    alice, bob = new_account("paid"), new_account("paid")
    red = export(alice, "x.render", draft("#ff0000"))
    blue = export(bob, "x_render", draft("#0000ff"))
    assert red != blue
    assert centre_colour(red, tmp_path)[0] > 200 and centre_colour(blue, tmp_path)[2] > 200
    assert centre_colour(alice.get("/api/render/proxy/x.render/download").content, tmp_path)[0] > 200


def test_render_file_names_are_distinct_for_distinct_ids() -> None:
    """B-REN-14: plain ids keep their name; any two ids differ, even ignoring case."""
    assert render_file_name("render_1712345678") == "render_1712345678.mp4"
    ids = ["x.render", "x_render", "X_render", "x/render", "x%2Frender", "é", "e", "+a", "a" * 300, "a" * 301]
    names = [render_file_name(i) for i in ids]
    assert len({name.lower() for name in names}) == len(ids)
    assert all(len(name) <= 255 and "/" not in name for name in names)


def test_a_draft_with_bgm_exports_with_sound(paid, tmp_path: Path) -> None:
    """B-STATE-04: an exported draft with a tt 1 track is an MP4 with an AAC stream that is not silent."""
    data = export(paid, "render_bgm", draft("#00ff00", bgm=True))
    path = tmp_path / "bgm.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        (stream,) = container.streams.audio
        assert stream.codec_context.name == "aac"
        samples = np.concatenate([f.to_ndarray().ravel() for f in container.decode(stream)])
    assert float(np.sqrt(np.mean(samples**2))) > 0.05


def test_renders_run_on_worker_threads_not_the_event_loop(paid, mock: LiveServer, monkeypatch) -> None:
    """B-SESS-08: encoding happens on the render pool's threads, so the loop keeps serving."""
    threads: list[str] = []
    real = media.render_draft

    def noted(*args: Any, **kwargs: Any) -> media.RenderResult:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "render_draft", noted)
    export(paid, "render_thread", draft("#808080"))
    loop_thread = mock._thread.name  # type: ignore[union-attr]
    assert threads and all(name.startswith("nemo-render") and name != loop_thread for name in threads)


def served(data_dir: Path, seed: int = 1) -> LiveServer:
    return LiveServer(Settings(time_scale=0, seed=seed, access_log=False, data_dir=data_dir))


def upload_and_render(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 100}).json()["token"]
        headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
        sid = http.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers).json()["data"][
            "session_id"
        ]
        png = (Path(media.__file__).parents[2] / "fixtures" / "media" / "still.png").read_bytes()
        r = http.post(
            f"/api/upload-video/nemo_agent/me/{sid}", files={"files": ("a.png", png)}, headers=headers
        )
        assert r.json()["code"] == 0, r.text
        body = {"id": "render_1", "sessionId": sid, "draft": draft("#123456")}
        assert http.post("/api/render/proxy/lambda", json=body, headers=headers).status_code == 200
        for _ in range(3):
            http.get("/api/render/proxy/lambda/render_1", headers=headers)


def test_data_dir_keeps_what_the_mock_did_not_create(tmp_path: Path) -> None:
    """`--data-dir`: a reset and a shutdown touch only the run's own directory; renders stay for the user."""
    mine = {
        tmp_path / "notes.txt": b"mine",
        tmp_path / "uploads" / "keep.png": b"mine too",
        tmp_path / "renders" / "old.mp4": b"an old render",
        tmp_path / "incoming" / "x": b"not the mock's",
    }
    for path, data in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with served(tmp_path) as server:
        run_dir = server.backend.data_dir
        assert run_dir.parent == tmp_path and run_dir.name.startswith(RUN_DIR_PREFIX)
        upload_and_render(server)
        first = list((run_dir / "uploads").iterdir())
        assert first and list((run_dir / "renders").glob("*.mp4"))
        httpx.post(server.url + "/_mock/reset")
        current = server.backend.data_dir
        assert current.parent == run_dir and not list((current / "uploads").iterdir())
        # The previous files stay for a grace period: a download that checked one may still open it.
        assert all(path.exists() for path in first)
        upload_and_render(server)
    assert all(path.read_bytes() == data for path, data in mine.items())
    assert (current / "renders" / "render_1.mp4").is_file()  # kept for the user
    assert not (current / "incoming").exists()  # half-received uploads are not
    assert not any(path.exists() for path in first)  # nor the state a reset threw away


def test_a_reset_removes_the_previous_files_after_a_grace_period(tmp_path: Path, monkeypatch) -> None:
    """What a reset threw away is gone once no request can still be reading it."""
    monkeypatch.setattr(store, "GRACE_S", 0.0)
    files = store.FileStore(tmp_path)
    kept = files.current / "renders" / "render_1.mp4"
    kept.write_bytes(b"x")

    async def reset_and_wait() -> None:
        files.reset()
        assert kept.exists()  # not at once
        await asyncio.sleep(0)  # one turn of the loop: the zero grace period is over
        await files.settled()

    asyncio.run(reset_and_wait())
    assert not kept.exists() and (files.current / "renders").is_dir()
    files.close()


def test_a_crashed_runs_leftovers_never_trip_the_next_start(tmp_path: Path) -> None:
    """Same seed, same --data-dir, stale half-written files from a run that died: the next run works."""
    stale = tmp_path / f"{RUN_DIR_PREFIX}dead"
    for path in (
        stale / "incoming" / "req_0000000000000001" / "0",
        stale / "renders" / ".render_1.mp4.x.part",
        stale / "uploads" / "f_0000000000000001" / "a.png",
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"stale")
    for _ in range(2):
        with served(tmp_path, seed=1) as server:
            upload_and_render(server)
    assert (stale / "renders" / ".render_1.mp4.x.part").read_bytes() == b"stale"
    assert len(list(tmp_path.glob(f"{RUN_DIR_PREFIX}*"))) == 3


def test_a_poll_waiting_for_an_encoding_that_is_cancelled_answers(
    paid, mock: LiveServer, monkeypatch
) -> None:
    """U-14: a cancel (or a reset) while a poll waits for the encoder: the poll answers `failed`,
    reason `cancelled`, never a 500."""
    started, release = threading.Event(), threading.Event()
    real = media.render_draft

    def slow(*args: Any, **kwargs: Any) -> media.RenderResult:
        started.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "render_draft", slow)
    session_id, _ = paid.session()
    body = {"id": "render_slow", "sessionId": session_id, "draft": draft("#00ffff")}
    assert paid.post("/api/render/proxy/lambda", json=body).status_code == 200
    assert started.wait(30)
    assert paid.get("/api/render/proxy/lambda/render_slow").json()["status"] == "processing"
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(paid.get, "/api/render/proxy/lambda/render_slow")
        deadline = time.monotonic() + 30
        while mock.call(lambda: mock.backend.renders["render_slow"].reads) < 2:  # the poll now waits
            assert time.monotonic() < deadline
        cancelled = paid.post("/api/render/proxy/lambda/render_slow/cancel").json()
        answer = waiting.result(timeout=30)
    release.set()
    assert cancelled["status"] == "failed" and cancelled["reason"] == "cancelled"
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "failed" and answer.json()["reason"] == "cancelled"


def test_an_upload_caught_by_a_reset_answers_session_not_found(paid, mock: LiveServer, monkeypatch) -> None:
    """U-13, U-16: a reset while an upload is being checked throws its files away with its session:
    the upload answers 1002, never a 500, and nothing of it is kept."""
    started, release = threading.Event(), threading.Event()
    real = media.probe

    def slow(path: Path) -> media.MediaInfo:
        started.set()
        release.wait(30)
        return real(path)

    monkeypatch.setattr(media, "probe", slow)
    session_id, _ = paid.session()
    png = (Path(media.__file__).parents[2] / "fixtures" / "media" / "still.png").read_bytes()
    with ThreadPoolExecutor(1) as pool:
        upload = pool.submit(
            paid.post, f"/api/upload-video/nemo_agent/me/{session_id}", files={"files": ("a.png", png)}
        )
        assert started.wait(30)
        assert paid.http.post("/_mock/reset").status_code == 200
        release.set()
        answer = upload.result(timeout=30)
    assert answer.status_code == 200 and answer.json()["code"] == 1002, answer.text
    assert mock.backend.assets == {}
