"""A bounded soak: ten minutes of mixed load on `nemo-mock serve` (sessions, turns, streams dropped by
the server and by clients, uploads, renders, fault rules, oversized and broken requests, journal
reads, resets as a test suite makes them), stopping by itself. Its resident memory must reach a
plateau: sampled every few seconds between actions (what the server keeps, not what the requests
of the moment hold), the last third of the run may grow by at most `PLATEAU_BOUND` over the
middle third (medians of the samples); and no answer is a 500 (B-SSE-14, U-13, U-14).

`-m slow` runs it; NEMO_SOAK_SECONDS changes the length (the figures are printed with -s).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import statistics
import subprocess
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from test_cli import nemo_mock

from checkout import FIXTURES_DIR

pytestmark = [pytest.mark.slow, pytest.mark.live, pytest.mark.timeout(1800)]

SECONDS = float(os.environ.get("NEMO_SOAK_SECONDS", "600"))
WORKERS = 12
SAMPLE_EVERY_S = 5.0
#: Resets as a test suite makes them: one per this many actions.
RESET_EVERY = 400
PLATEAU_BOUND = 16 * 1024 * 1024
READY = re.compile(r"nemo-mock listening on (http://127\.0\.0\.1:\d+)\n")
PNG = (FIXTURES_DIR / "media" / "still.png").read_bytes()
CLIP = (FIXTURES_DIR / "media" / "clip-2s.mp4").read_bytes()
PROMPTS = ("Generate a 10-second city timelapse video", "add a title 'Soak'", "make it black and white")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Load:
    """Mixed requests from a few workers; every status counted."""

    def __init__(self, url: str, seed: int) -> None:
        self.url = url
        self.rng = random.Random(seed)
        self.statuses: Counter[int] = Counter()
        self.actions = 0
        self.http = httpx.AsyncClient(
            base_url=url, timeout=60, limits=httpx.Limits(max_connections=WORKERS * 2)
        )
        #: Cleared while memory is sampled: workers finish their action and wait, renders included.
        self.running = asyncio.Event()
        self.running.set()
        self.paused = 0

    async def account(self) -> tuple[dict[str, str], str]:
        token = (await self.call("POST", "/_mock/accounts", json={"tier": "paid", "credits": 10**9})).json()[
            "token"
        ]
        headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "nemo-video"}
        created = await self.call("POST", "/api/tasks/me/with-session/nemo_agent", json={}, headers=headers)
        return headers, created.json()["data"]["session_id"]

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, path, **kwargs)
        self.statuses[response.status_code] += 1
        return response

    async def turn(self, headers: dict[str, str], session_id: str, drop: bool) -> None:
        body = {
            "app_name": "nemo_agent",
            "session_id": session_id,
            "new_message": {"parts": [{"text": self.rng.choice(PROMPTS)}]},
        }
        async with self.http.stream("POST", "/run_sse", json=body, headers=headers) as response:
            self.statuses[response.status_code] += 1
            async for _ in response.aiter_bytes():
                if drop:
                    break  # the client leaves mid-stream

    async def action(self, headers: dict[str, str], session_id: str) -> None:
        kind = self.rng.choices(
            ["turn", "drop", "state", "credits", "upload", "render", "fault", "bad", "journal", "abort"],
            weights=[14, 6, 20, 20, 8, 6, 4, 10, 2, 4],
        )[0]
        if kind in ("turn", "drop"):
            await self.turn(headers, session_id, drop=kind == "drop")
        elif kind == "state":
            await self.call("GET", f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers)
        elif kind == "credits":
            await self.call("GET", "/api/credits/balance/simple", headers=headers)
        elif kind == "upload":
            name, data = self.rng.choice([("a.png", PNG), ("clip.mp4", CLIP)])
            await self.call(
                "POST",
                f"/api/upload-video/nemo_agent/me/{session_id}",
                files={"files": (name, data)},
                headers=headers,
            )
        elif kind == "render":
            state = (
                await self.call("GET", f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers)
            ).json()
            draft = (state.get("data") or {}).get("state", {}).get("draft")
            if draft:
                render_id = f"render_{self.rng.getrandbits(48):x}"
                body = {"id": render_id, "sessionId": session_id, "draft": draft}
                await self.call("POST", "/api/render/proxy/lambda", json=body, headers=headers)
                for _ in range(3):
                    await self.call("GET", f"/api/render/proxy/lambda/{render_id}", headers=headers)
                await self.call("GET", f"/api/render/proxy/{render_id}/download", headers=headers)
        elif kind == "fault":
            rule = self.rng.choice(
                [
                    {"path": "/run_sse", "sse": "drop:3"},
                    {"path": "/run_sse", "sse": "silent"},
                    {"path": "/api/render/proxy/lambda", "render": "fail"},
                    {"path": "/api/credits/*", "respond": {"status": 429, "json": {"code": 429}}},
                    {"path": "/api/state/*", "delay_ms": 2000},
                ]
            )
            await self.call("POST", "/_mock/faults", json=rule)
        elif kind == "bad":
            choice = self.rng.randrange(4)
            if choice == 0:
                with contextlib.suppress(httpx.TransportError):
                    await self.call("GET", "/api/credits/balance/simple", headers={"X-Big": "v" * 1_000_000})
            elif choice == 1:
                await self.call(
                    "POST",
                    "/_mock/clock/advance",
                    content=b'{"seconds": NaN}',
                    headers={"Content-Type": "application/json"},
                )
            elif choice == 2:
                await self.call(
                    "POST",
                    "/run_sse",
                    content=b"[" * 50_000,
                    headers={**headers, "Content-Type": "application/json"},
                )
            else:
                await self.call(
                    "POST",
                    "/_mock/accounts",
                    content=b" " * 200_000,
                    headers={"Content-Type": "application/json"},
                )
        elif kind == "journal":
            await self.call("GET", "/_mock/journal")
        else:  # an upload the client abandons half-way
            host, _, port = self.url.removeprefix("http://").partition(":")
            _, writer = await asyncio.open_connection(host, int(port))
            head = (
                f"POST /api/upload-video/nemo_agent/me/{session_id} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: {headers['Authorization']}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                'Content-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: form-data; name="files"; '
                'filename="x.mp4"\r\n\r\n'
            )
            writer.write(head.encode() + b"\x00" * 20_000)
            await writer.drain()
            writer.close()

    async def worker(self, deadline: float) -> None:
        headers, session_id = await self.account()
        while time.monotonic() < deadline:
            if not self.running.is_set():
                self.paused += 1
                await self.running.wait()
                self.paused -= 1
            self.actions += 1
            if self.actions % RESET_EVERY == 0:
                await self.call("POST", "/_mock/reset")
            with contextlib.suppress(KeyError, TypeError, ValueError):  # a reset account's answer
                await self.action(headers, session_id)
            if (await self.call("GET", "/api/credits/balance/simple", headers=headers)).json().get(
                "code"
            ) == 1001:
                headers, session_id = await self.account()


def test_memory_reaches_a_plateau_under_mixed_load() -> None:
    proc = subprocess.Popen(
        [nemo_mock(), "serve", "--port", "0", "--time-scale", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = READY.fullmatch(proc.stdout.readline())
        assert match, "no ready line"
        load = Load(match.group(1), seed=20)
        samples: list[tuple[float, int]] = []

        async def run() -> None:
            start = time.monotonic()
            deadline = start + SECONDS
            workers = [asyncio.create_task(load.worker(deadline)) for _ in range(WORKERS)]
            while time.monotonic() < deadline:
                await asyncio.wait(workers, timeout=SAMPLE_EVERY_S)
                # What the server keeps, not what its requests of the moment hold: sampled
                # between actions, once every worker (and so every render it waits for) is done.
                load.running.clear()
                while load.paused < sum(not w.done() for w in workers):
                    await asyncio.wait(workers, timeout=0.05)
                samples.append((time.monotonic() - start, rss_bytes(proc.pid)))
                load.running.set()
            await asyncio.gather(*workers)
            await load.http.aclose()

        asyncio.run(run())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    third = len(samples) // 3
    middle = statistics.median(rss for _, rss in samples[third : 2 * third])
    last = statistics.median(rss for _, rss in samples[2 * third :])
    mib = 1024 * 1024
    print(
        f"\nsoak: {SECONDS:.0f} s, {load.actions} actions, statuses {dict(sorted(load.statuses.items()))}; "
        f"RSS start {samples[0][1] / mib:.0f} MiB, peak {max(r for _, r in samples) / mib:.0f} MiB, "
        f"median middle third {middle / mib:.1f} MiB, last third {last / mib:.1f} MiB, "
        f"end {samples[-1][1] / mib:.0f} MiB; samples (s, MiB): "
        + " ".join(f"{at:.0f}:{rss / mib:.0f}" for at, rss in samples)
    )
    assert load.statuses[500] == 0
    assert load.actions > WORKERS * 10
    assert last - middle <= PLATEAU_BOUND, f"RSS still growing: {middle / mib:.1f} -> {last / mib:.1f} MiB"
