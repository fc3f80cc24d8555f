"""A whole user session at time scale 0, as a client makes it, timed from the first call to the last byte.

Anonymous token (B-AUTH-01), session (B-SESS-01), a generation turn and three edit turns read to
the end of their streams (B-SSE-*), an upload of fixtures/media/clip-2s.mp4 (B-UPL-01), the
state (B-STATE-01), render submit, polls until completed and the download of the MP4 (B-REN-01,
B-REN-05, B-REN-13). The mock is `mockserver.testing.LiveServer` (a real uvicorn on a loopback
port, in this process) reset before each run; the client is httpx. Every answer is checked, so
a broken flow fails instead of looking fast.

The server's loop is uvloop by default, the loop `nemo-mock serve` runs on. `loop="asyncio"`
keeps LiveServer's own default loop; there every answer can wait ~40 ms for the client's delayed
ACK, because asyncio only sets TCP_NODELAY on sockets whose `proto` is IPPROTO_TCP and a listening
socket made with `socket.socket(AF_INET, SOCK_STREAM)` has proto 0 (uvloop sets it regardless).

Anonymous accounts start with 100 credits (B-CRED-03) and the upstream prices (100 a generation,
50 an edit) would stop the first edit with 2001. The bench profile is nemo-video with a generation
at 40 and edits at 20, so the same 100 credits pay for the whole session; prices do not change
the work the mock does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import uvloop

from bench import PROJECT
from contracts.profiles import load_profile
from mockserver.settings import Settings
from mockserver.testing import LiveServer

TARGET_MS = 150.0
REPEATS = 5
GENERATE = "Generate a 10-second city timelapse video"
EDITS = ("add a title 'Urban Dreams'", "add lo-fi background music", "add subtitles")
CLIP = PROJECT / "fixtures" / "media" / "clip-2s.mp4"
CLIENT_ID = "bench-session-client"
ATTRIBUTION = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9", "X-Skill-Platform": "unknown"}
MAX_POLLS = 20
LOOPS = ("uvloop", "asyncio")
STEPS = ("token", "session", "generate", "edits", "upload", "state", "render_submit", "polls", "download")


def bench_settings(seed: int = 1) -> Settings:
    profile = dataclasses.replace(load_profile("nemo-video"), generation_cost=40, edit_cost=20)
    return Settings(profile=profile, time_scale=0, seed=seed, access_log=False)


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON of a successful answer (B-ENV-06), or an error saying which step broke."""
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("code", 0) != 0:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return body


def _turn(http: httpx.Client, headers: dict[str, str], session_id: str, text: str) -> int:
    """One /run_sse turn read to the end; the number of events."""
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }
    with http.stream("POST", "/run_sse", json=body, headers={**headers, "Accept": "text/event-stream"}) as r:
        raw = r.read()
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/event-stream"):
            raise RuntimeError(f"turn {text!r}: HTTP {r.status_code} {raw[:300]!r}")
    if b'"type":"error"' in raw:
        raise RuntimeError(f"turn {text!r} failed: {raw[-300:]!r}")
    return raw.count(b"data:")


def one_session(http: httpx.Client, clip: bytes, render_id: str) -> dict[str, float]:
    """The session's steps in order; seconds per step."""
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = now - mark
        mark = now

    token = _ok(http.post("/api/auth/anonymous-token", headers={"X-Client-Id": CLIENT_ID}), "token")["data"]
    headers = {"Authorization": f"Bearer {token['token']}", **ATTRIBUTION}
    lap("token")
    created = _ok(
        http.post(
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "bench", "language": "en"},
            headers=headers,
        ),
        "session",
    )
    session_id = created["data"]["session_id"]
    lap("session")
    _turn(http, headers, session_id, GENERATE)
    lap("generate")
    for edit in EDITS:
        _turn(http, headers, session_id, edit)
    lap("edits")
    files = {"files": (CLIP.name, clip, "video/mp4")}
    _ok(http.post(f"/api/upload-video/nemo_agent/me/{session_id}", files=files, headers=headers), "upload")
    lap("upload")
    draft = _ok(http.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers), "state")["data"][
        "state"
    ]["draft"]
    lap("state")
    job = http.post(
        "/api/render/proxy/lambda",
        json={"id": render_id, "sessionId": session_id, "draft": draft, "output": {"format": "mp4"}},
        headers=headers,
    ).json()
    if job.get("status") != "pending":
        raise RuntimeError(f"render submit: {job}")
    lap("render_submit")
    for _ in range(MAX_POLLS):
        job = http.get(f"/api/render/proxy/lambda/{render_id}", headers=headers).json()
        if job.get("status") in ("completed", "failed"):
            break
    if job.get("status") != "completed":
        raise RuntimeError(f"render did not complete: {job}")
    lap("polls")
    video = http.get(f"/api/render/proxy/{render_id}/download", headers=headers)
    if video.status_code != 200 or not video.content:
        raise RuntimeError(f"download: HTTP {video.status_code}")
    lap("download")
    return steps


@contextlib.contextmanager
def event_loops(loop: str) -> Iterator[None]:
    """New event loops of this process are `loop`'s while the block runs (LiveServer makes one)."""
    if loop not in LOOPS:
        raise ValueError(f"loop must be one of {', '.join(LOOPS)}")
    previous = asyncio.get_event_loop_policy()
    if loop == "uvloop":
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)


def run(repeats: int = REPEATS, seed: int = 1, loop: str = "uvloop") -> dict[str, Any]:
    """One untimed warm-up session, then `repeats` timed ones; the median wall time and its steps."""
    clip = CLIP.read_bytes()
    walls: list[float] = []
    laps: list[dict[str, float]] = []
    with (
        event_loops(loop),
        LiveServer(bench_settings(seed)) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        for n in range(repeats + 1):
            server.reset()  # the anonymous-token limits allow one token per client id (B-AUTH-08)
            started = time.perf_counter()
            steps = one_session(http, clip, f"render_bench_{n}")
            if n > 0:
                walls.append(time.perf_counter() - started)
                laps.append(steps)
            server.wait_idle()
    wall_ms = statistics.median(walls) * 1e3
    return {
        "name": "session_time_scale_0",
        "repeats": repeats,
        "loop": loop,
        "wall_ms": round(wall_ms, 2),
        "wall_ms_min": round(min(walls) * 1e3, 2),
        "wall_ms_max": round(max(walls) * 1e3, 2),
        "steps_ms": {name: round(statistics.median(lap[name] for lap in laps) * 1e3, 2) for name in STEPS},
        "target_ms": TARGET_MS,
        "ratio_to_target": round(wall_ms / TARGET_MS, 3),
        "ok": wall_ms < TARGET_MS,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_session", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--loop", choices=LOOPS, default="uvloop", help="the server's event loop")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.repeats, loop=args.loop), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
