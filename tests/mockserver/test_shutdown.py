"""Stopping with streams open: each ends with its final chunk, no traceback, exit status 0; a send to a
client that is gone detaches the turn, which runs on (B-SSE-14)."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from typing import Any

import httpx
import pytest
from test_cli import nemo_mock

from mockserver.api.sse import EventStream
from mockserver.backend import Backend
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

READY = re.compile(r"nemo-mock listening on (http://127\.0\.0\.1:\d+)\n")
GENERATE = "Generate a 10-second city timelapse video"
STREAMS = 20


def turn(session_id: str) -> dict[str, Any]:
    return {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": GENERATE}]},
    }


async def open_streams(url: str, count: int) -> tuple[list[asyncio.Task[bytes]], asyncio.Event]:
    """`count` generation streams, each read to its end by a task; the event is set once all are open."""
    client = httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=count + 4))
    token = (await client.post("/_mock/accounts", json={"tier": "paid", "credits": 10**6})).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "X-Skill-Source": "nemo-video"}
    opened = 0
    all_open = asyncio.Event()

    async def one() -> bytes:
        nonlocal opened
        created = await client.post("/api/tasks/me/with-session/nemo_agent", json={}, headers=headers)
        session_id = created.json()["data"]["session_id"]
        async with client.stream("POST", "/run_sse", json=turn(session_id), headers=headers) as r:
            assert r.status_code == 200
            chunks = r.aiter_bytes()
            first = await anext(chunks)  # the stream is live
            opened += 1
            if opened == count:
                all_open.set()
            # Reading to the end raises if the stream is cut without its final chunk.
            return first + b"".join([chunk async for chunk in chunks])

    return [asyncio.create_task(one()) for _ in range(count)], all_open


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_every_open_stream_cleanly(sig: signal.Signals) -> None:
    """Each stream ends with the chunked terminator (httpx reads it to the end), stderr holds no
    traceback, and the process exits 0."""
    proc = subprocess.Popen(
        [nemo_mock(), "serve", "--port", "0", "--time-scale", "1", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = READY.fullmatch(proc.stdout.readline())
        assert match, "no ready line"

        async def scenario() -> list[bytes]:
            tasks, all_open = await open_streams(match.group(1), STREAMS)
            await asyncio.wait_for(all_open.wait(), timeout=60)
            proc.send_signal(sig)
            return await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)

        bodies = asyncio.run(scenario())
        assert len(bodies) == STREAMS and all(body.startswith(b"data: ") for body in bodies)
        _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stopping_a_live_server_ends_its_streams() -> None:
    """The test server stops the same way: streams still open get their end, the turns are cancelled."""
    server = LiveServer(Settings(time_scale=1, access_log=False)).start()

    async def scenario() -> list[bytes]:
        tasks, all_open = await open_streams(server.url, 3)
        await asyncio.wait_for(all_open.wait(), timeout=60)
        await asyncio.to_thread(server.stop)
        return await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)

    try:
        assert len(asyncio.run(scenario())) == 3
    finally:
        server.stop()
    assert not server.backend.operations


def test_a_send_to_a_gone_client_detaches_the_turn() -> None:
    """B-SSE-14: when the server raises on a send to a client that left, the stream stops quietly and
    the turn runs on to the end: the draft changes and the credits are spent."""

    async def scenario() -> None:
        backend = Backend(Settings(time_scale=0, access_log=False))
        try:
            _, account = backend.accounts.create_account("paid", 1000, backend.clock.now())
            session = backend.create_session(account, "p", "en")
            op = backend.start_turn(account, session, GENERATE, None)
            sent: list[dict[str, Any]] = []

            async def send(message: dict[str, Any]) -> None:
                if message.get("body"):
                    raise ConnectionResetError("the client is gone")
                sent.append(message)

            async def receive() -> dict[str, Any]:
                return {"type": "http.disconnect"}

            await EventStream(op)({"type": "http"}, receive, send)  # returns, does not raise
            assert sent[0]["type"] == "http.response.start"
            assert not op.listening
            assert op.task is not None
            await op.task
            assert op.failed is None and session.draft is not None
            assert account.ledger.available == 1000 - backend.profile.generation_cost
        finally:
            await backend.aclose()

    asyncio.run(scenario())


def test_a_reset_right_after_a_turn_starts_ends_its_stream() -> None:
    """A reset in the same instant a turn starts (its task has not run a step yet) still ends the
    stream: the client is not left waiting for ever (B-SSE-14)."""

    async def scenario() -> list[bytes]:
        backend = Backend(Settings(time_scale=0, access_log=False))
        try:
            _, account = backend.accounts.create_account("paid", 1000, backend.clock.now())
            session = backend.create_session(account, "p", "en")
            op = backend.start_turn(account, session, GENERATE, None)
            backend.reset()
            return await asyncio.wait_for(_collect(op.stream()), timeout=10)
        finally:
            await backend.aclose()

    assert asyncio.run(scenario()) == []


async def _collect(chunks: Any) -> list[bytes]:
    return [chunk async for chunk in chunks]
