"""The web side over plain HTTP: the console under the control API's guard, and the live feed's costs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from mockserver.backend import Backend
from mockserver.journal import JournalEntry
from mockserver.settings import Settings
from mockserver.testing import LiveServer, live_server
from mockserver.web.feed import Feed

pytestmark = pytest.mark.live

T = TypeVar("T")

CONSOLE_PATHS = ("/_mock/ui", "/_mock/ui/console.js", "/_mock/ui/events", "/_mock/ui/sessions")


@pytest.fixture(scope="module")
def plain() -> Iterator[LiveServer]:
    with live_server(seed=3) as server:
        yield server


@pytest.mark.parametrize("path", CONSOLE_PATHS)
def test_console_refuses_what_the_control_api_refuses(plain: LiveServer, path: str) -> None:
    """The console is the control API: a rebound DNS name or a cross-origin page gets 403, as JSON."""
    rebound = httpx.get(plain.url + path, headers={"Host": f"evil.example:{plain.port}"}, timeout=10)
    assert rebound.status_code == 403 and rebound.json()["code"] == 403
    foreign = httpx.get(plain.url + path, headers={"Origin": "http://evil.example"}, timeout=10)
    assert foreign.status_code == 403
    cross = httpx.get(plain.url + path, headers={"Sec-Fetch-Site": "cross-site"}, timeout=10)
    assert cross.status_code == 403


def test_console_sessions_fragment_escapes_what_users_typed(plain: LiveServer) -> None:
    with httpx.Client(base_url=plain.url, timeout=10) as http:
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 100}).json()["token"]
        http.post(
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "<script>alert(1)</script>"},
            headers={"Authorization": f"Bearer {token}"},
        )
        fragment = http.get("/_mock/ui/sessions")
    assert fragment.status_code == 200 and fragment.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in fragment.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment.text


def test_with_a_control_token_the_shell_asks_for_it_and_the_data_needs_it() -> None:
    settings = Settings(time_scale=0, access_log=False, control_token="s3cret-token")
    with LiveServer(settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        shell = http.get("/_mock/ui")
        assert shell.status_code == 200 and 'id="token-form"' in shell.text
        for path in CONSOLE_PATHS[1:]:
            assert http.get(path).status_code == 401, path
        bearer = {"Authorization": "Bearer s3cret-token"}
        assert http.get("/_mock/ui/sessions", headers=bearer).status_code == 200
        with http.stream("GET", "/_mock/ui/events", headers=bearer) as events:
            assert events.status_code == 200
            assert events.headers["content-type"].startswith("text/event-stream")
            first = next(events.iter_lines())
            assert first == "event: snapshot"


def test_without_the_control_api_there_is_no_console_but_the_workspace_stays() -> None:
    with live_server(control=False) as server:
        assert httpx.get(server.url + "/_mock/ui", timeout=10).status_code == 404
        refused = httpx.get(server.url + "/workspace/claim?ct=clm_0000000000000000", timeout=10)
        assert refused.status_code == 404 and refused.headers["content-type"].startswith("text/html")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a thread of its own, whatever loop runs on this one (Playwright's, say)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def test_feed_listens_only_while_open_and_serialises_each_batch_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The request path never gains a listener: the feed reads new entries on its own time and only
    hears of streams that end, and only while a console is open. Twenty consoles: one
    serialisation per batch, the same bytes to each."""
    backend = Backend(Settings(time_scale=0, access_log=False))
    journal = backend.journal
    feed = Feed(journal)
    calls = 0
    as_dict = JournalEntry.as_dict

    def counting(self: JournalEntry) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return as_dict(self)

    monkeypatch.setattr(JournalEntry, "as_dict", counting)

    async def scenario() -> list[list[bytes]]:
        assert journal.listeners == () and journal.stream_listeners == ()
        streams = [feed.console_stream() for _ in range(20)]
        for stream in streams:
            assert (await anext(stream)).startswith(b"event: snapshot")
        assert journal.listeners == () and len(journal.stream_listeners) == 1
        before = calls
        for path in ("/a", "/b", "/c"):
            journal.record("GET", path, b"", 200, 0, [], 1.0, None)
        received = [[await anext(stream)] for stream in streams]
        assert calls - before == 3  # three entries, masked once for twenty consoles
        for stream in streams:
            await stream.aclose()
        assert journal.listeners == () and journal.stream_listeners == ()
        return received

    received = run_async(scenario())
    assert all(chunks == received[0] for chunks in received)
    assert received[0][0].startswith(b"event: entries\n") and b'"/c"' in received[0][0]
    backend.renders.close()
    backend.store.close()


def test_feed_ends_at_shutdown() -> None:
    backend = Backend(Settings(time_scale=0, access_log=False))
    feed = Feed(backend.journal)
    backend.stream_enders.append(feed.close)

    async def scenario() -> list[bytes]:
        stream = feed.console_stream()
        chunks = [await anext(stream)]
        backend.end_streams()
        chunks += [chunk async for chunk in stream]
        return chunks

    chunks = run_async(scenario())
    assert len(chunks) == 1 and backend.journal.stream_listeners == ()
    backend.renders.close()
    backend.store.close()


def test_under_load_a_batch_sends_its_newest_entries_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("mockserver.web.feed.MAX_BATCH", 2)
    backend = Backend(Settings(time_scale=0, access_log=False))
    feed = Feed(backend.journal)

    async def scenario() -> bytes:
        stream = feed.console_stream()
        await anext(stream)
        for n in range(5):
            backend.journal.record("GET", f"/n{n}", b"", 200, 0, [], 1.0, None)
        chunk = await anext(stream)
        await stream.aclose()
        return chunk

    chunk = run_async(scenario())
    entries, skipped = chunk.split(b"\n\n")[:2]
    assert b'"/n3"' in entries and b'"/n4"' in entries and b'"/n2"' not in entries
    assert skipped == b"event: skipped\ndata: 3"
    backend.renders.close()
    backend.store.close()


def test_a_stream_shows_open_then_once_completed_and_a_short_one_once() -> None:
    """A stream new in a batch goes as it is now; its end goes in a later batch; one that opened
    and ended between two batches goes once, ended (the console would show it twice otherwise)."""
    backend = Backend(Settings(time_scale=0, access_log=False))
    journal = backend.journal
    feed = Feed(journal)

    def sent(chunk: bytes) -> list[dict[str, Any]]:
        event, data = chunk.split(b"\n\n")[0].split(b"\n")
        assert event == b"event: entries"
        return json.loads(data.removeprefix(b"data: "))

    async def scenario() -> list[list[dict[str, Any]]]:
        stream = feed.console_stream()
        await anext(stream)
        long = journal.open_stream("POST", "/run_sse", b"", 200, 0, [], 1.0, None, "s1")
        first = sent(await anext(stream))
        journal.complete(long, 0, b"data: {}\n\n", 2.0)
        journal.record("GET", "/after", b"", 200, 0, [], 2.5, None)
        short = journal.open_stream("POST", "/run_sse", b"", 200, 0, [], 3.0, None, "s2")
        journal.complete(short, 0, b"data: {}\n\n", 3.5)
        second = sent(await anext(stream))
        await stream.aclose()
        return [first, second]

    first, second = run_async(scenario())
    assert [(e["session"], e["open"]) for e in first] == [("s1", True)]
    assert [(e["path"], e["session"], e["open"]) for e in second] == [
        ("/after", None, False),
        ("/run_sse", "s2", False),
        ("/run_sse", "s1", False),
    ]
    backend.renders.close()
    backend.store.close()
