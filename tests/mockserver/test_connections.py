"""Connections the mock closes by itself: heads that never end, idle keep-alives, oversized heads, and
more connections than it can hold (U-02, U-03: every refusal is the envelope)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest
from rawhttp import Answer, closed_by_server, connect, head, read_answer

from mockserver.server import ConnectionLimits, default_max_connections
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

LIMITS = ConnectionLimits(header_timeout_s=0.3, keep_alive_s=0.3, max_header_bytes=4096, max_connections=8)


@pytest.fixture(scope="module")
def strict() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, access_log=False), limits=LIMITS) as server:
        yield server


def refused(answer: Answer, status: int, words: str) -> None:
    assert answer.status == status and answer.headers["connection"] == "close"
    body = answer.json()
    assert body["code"] == status and body["data"] is None and words in body["message"], body


def test_a_head_that_never_ends_is_closed(strict: LiveServer) -> None:
    """Slow headers: 408 and close once the header timeout has passed, whether bytes trickle or not."""
    with connect(strict.url) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        refused(read_answer(sock), 408, "did not arrive")
        assert closed_by_server(sock)
    with connect(strict.url) as silent:  # connects and says nothing
        refused(read_answer(silent), 408, "did not arrive")
        assert closed_by_server(silent)


def test_an_idle_keep_alive_connection_is_closed(strict: LiveServer) -> None:
    with connect(strict.url) as sock:
        sock.sendall(head("GET", "/_mock/health", strict.url))
        assert read_answer(sock).status == 200
        assert closed_by_server(sock)  # after the keep-alive timeout, without a word


def test_a_kept_alive_connection_serves_the_next_request(strict: LiveServer) -> None:
    with connect(strict.url) as sock:
        for _ in range(3):
            sock.sendall(head("GET", "/_mock/health", strict.url))
            assert read_answer(sock).status == 200


@pytest.mark.parametrize("size", [5_000, 1_000_000])
def test_an_oversized_head_is_refused_while_it_arrives(strict: LiveServer, size: int) -> None:
    """A 1 MB header is never buffered whole: 431 once the head passes the limit, then close."""
    before = len(strict.backend.journal)
    with connect(strict.url) as sock:
        # The server may close while the rest is still on its way.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head("GET", "/_mock/health", strict.url, {"X-Big": "v" * size}))
        refused(read_answer(sock), 431, "over 4,096 bytes")
    assert len(strict.backend.journal) == before


def test_more_connections_than_the_cap_are_answered_503(strict: LiveServer) -> None:
    """The connection cap keeps descriptors free: the next one is 503 and closed; a freed slot serves."""
    held: list[socket.socket] = []
    try:
        for _ in range(LIMITS.connections):
            sock = connect(strict.url)
            sock.sendall(head("GET", "/_mock/health", strict.url))
            assert read_answer(sock).status == 200  # accepted and counted
            held.append(sock)
        with connect(strict.url) as extra:
            refused(read_answer(extra), 503, "Too many open connections")
        held.pop().close()
        with connect(strict.url) as again:
            again.sendall(head("GET", "/_mock/health", strict.url))
            answer = read_answer(again)
            # The freed slot may take a moment to be noticed; either answer is well-formed.
            assert answer.status in (200, 503)
    finally:
        for sock in held:
            sock.close()


def test_the_default_cap_leaves_descriptors_free() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert 16 <= default_max_connections() <= max(16, soft - 256)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"header_timeout_s": 0},
        {"keep_alive_s": float("nan")},
        {"max_header_bytes": 10},
        {"max_connections": 0},
    ],
)
def test_limits_are_validated(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ConnectionLimits(**kwargs)
