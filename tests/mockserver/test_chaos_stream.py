"""Stream faults on the wire (issue 13, item 1): each `sse` fault, read byte for byte on a bare socket.

Each test runs the same turn twice from a reset mock, once clean and once under the fault, and
holds the faulted bytes to what the fault promises relative to the clean ones (B-SSE-04/05/06:
events are `data:` lines ended by a blank line; B-SSE-14: the turn runs on whatever the stream does).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mockserver.testing import LiveServer
from mockserver.wire import GARBAGE_BLOCK as GARBAGE
from tests.mockserver.chaoswire import Wire, run_turn
from tests.mockserver.conftest import anonymous

GENERATE = "make a 10 second video of a city at night"


def turn(mock: LiveServer, http: httpx.Client, rule: dict[str, Any] | None) -> tuple[Wire, dict[str, Any]]:
    """From a fresh mock: one anonymous user, one session, one generation turn; the wire and the state."""
    mock.reset()
    user = anonymous(http)
    session_id, _ = user.session()
    if rule is not None:
        assert http.post("/_mock/faults", json={"path": "/run_sse", **rule}).status_code == 200
    wire = run_turn(mock.url, user.token, session_id, GENERATE)
    mock.wait_idle()
    return wire, user.state(session_id)


@pytest.fixture
def clean(mock: LiveServer, http: httpx.Client) -> tuple[Wire, dict[str, Any]]:
    wire, state = turn(mock, http, None)
    assert wire.terminated and not wire.reset and len(wire.events()) > 5
    return wire, state


def test_the_same_turn_twice_gives_the_same_bytes(clean, mock: LiveServer, http: httpx.Client) -> None:
    """B-SSE-04: the baseline the other tests compare with is itself repeatable."""
    again, _ = turn(mock, http, None)
    assert again.body == clean[0].body


def test_truncate_cuts_inside_the_kth_event_then_closes(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`truncate:K`, B-SSE-14: K-1 whole events, part of the K-th with no blank line, a clean end, a close."""
    wire, state = turn(mock, http, {"sse": "truncate:3"})
    base = clean[0].body
    cut = b"".join(event + b"\n\n" for event in clean[0].events()[:2])
    third = clean[0].events()[2]
    assert wire.body.startswith(cut) and base.startswith(wire.body)
    tail = wire.body[len(cut) :]
    assert tail and third.startswith(tail) and len(tail) < len(third) and b"\n" not in tail
    assert wire.terminated  # the HTTP body ended cleanly: only the SSE event is cut
    assert b"\r\nconnection: close" in wire.head.lower()  # and the connection with it
    assert state["draft"] == clean[1]["draft"]  # the turn ran on without its listener


def test_reset_aborts_after_k_events(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`reset:K`, B-SSE-14: exactly K events, then the connection ends with no chunked terminator."""
    wire, state = turn(mock, http, {"sse": "reset:2"})
    assert wire.events() == clean[0].events()[:2]
    assert wire.body.endswith(b"\n\n")
    assert not wire.terminated and not wire.raw.endswith(b"0\r\n\r\n")
    assert state["draft"] == clean[1]["draft"]


def test_duplicate_sends_the_kth_event_twice(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`duplicate:K`: the K-th event comes twice in a row, everything else as in the clean run."""
    wire, _ = turn(mock, http, {"sse": "duplicate:2"})
    events = clean[0].events()
    assert wire.events() == [*events[:2], events[1], *events[2:]]
    assert wire.terminated


def test_garbage_inserts_an_invalid_block_after_k_events(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`garbage:K`: after K events a block with non-UTF-8 bytes and a line without a colon."""
    wire, _ = turn(mock, http, {"sse": "garbage:1"})
    events = clean[0].events()
    assert wire.events() == [*events[:1], GARBAGE.rstrip(b"\n"), *events[1:]]
    with pytest.raises(UnicodeDecodeError):
        GARBAGE.decode("utf-8")
    assert any(b":" not in line for line in GARBAGE.splitlines() if line)


def test_buffered_sends_all_at_the_end(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`buffered`: the same bytes as the clean run, held back and sent as one chunk after the work."""
    wire, _ = turn(mock, http, {"sse": "buffered"})
    assert wire.body == clean[0].body and wire.terminated
    _, _, chunked = wire.raw.partition(b"\r\n\r\n")
    size_line = chunked.split(b"\r\n", 1)[0]
    assert int(size_line, 16) == len(clean[0].body)  # one chunk holds it all


def test_slow_sends_the_same_bytes_in_small_pieces(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`slow:B`: the same bytes, in pieces of B/4 bytes, a quarter virtual second apart."""
    wire, _ = turn(mock, http, {"sse": "slow:40"})
    assert wire.body == clean[0].body and wire.terminated
    _, _, chunked = wire.raw.partition(b"\r\n\r\n")
    sizes = [int(line, 16) for line in chunked.split(b"\r\n")[::2] if line]
    assert max(sizes) == 10 and len(sizes) >= len(clean[0].body) // 10


def heartbeats(wire: Wire) -> int:
    return sum(1 for event in wire.events() if event in (b'data: {"type":"heartbeat"}', b"data:"))


def test_heartbeat_gap_silences_heartbeats(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`heartbeat_gap:S`, B-SSE-06: no heartbeat in the first S virtual seconds; every other event comes."""
    wire, state = turn(mock, http, {"sse": "heartbeat_gap:60"})
    others = [event for event in wire.events() if event not in (b'data: {"type":"heartbeat"}', b"data:")]
    clean_others = [e for e in clean[0].events() if e not in (b'data: {"type":"heartbeat"}', b"data:")]
    assert others == clean_others
    assert 0 < heartbeats(wire) < heartbeats(clean[0])
    assert state["draft"] == clean[1]["draft"]


def test_stall_goes_silent_after_k_events_then_goes_on(clean, mock: LiveServer, http: httpx.Client) -> None:
    """`stall:K:S`: K events, S virtual seconds without even a heartbeat, then the rest of the turn."""
    wire, _ = turn(mock, http, {"sse": "stall:2:120"})
    events = clean[0].events()
    assert wire.events()[:2] == events[:2]
    assert heartbeats(wire) < heartbeats(clean[0])
    others = [e for e in wire.events() if e not in (b'data: {"type":"heartbeat"}', b"data:")]
    assert others == [e for e in events if e not in (b'data: {"type":"heartbeat"}', b"data:")]
    assert wire.terminated


@pytest.mark.parametrize(
    ("value", "wording"),
    [
        ("truncate:0", "K events from 1"),
        ("reset:x", "reset:K"),
        ("stall:2", "stall:K:S"),
        ("stall:2:-1", "S virtual seconds"),
        ("stall:2:inf", "S virtual seconds"),
        ("slow:0", "B bytes per second"),
        ("heartbeat_gap:0", "S virtual seconds"),
        ("duplicate:1:2", "duplicate:K"),
        ("garbage:100001", "K events from 1"),
    ],
)
def test_bad_stream_faults_are_400_when_armed(http: httpx.Client, value: str, wording: str) -> None:
    """Faults are checked when armed: a bad K, S or B is a 400 naming the forms, and nothing is armed."""
    r = http.post("/_mock/faults", json={"path": "/run_sse", "sse": value})
    assert r.status_code == 400 and wording in r.text, r.text
    assert http.get("/_mock/faults").json()["rules"] == []
