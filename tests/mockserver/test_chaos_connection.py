"""Connection and HTTP faults on any route (issue 13, item 2), read on a bare socket, and when rules fire
(item 3): `times`, `after`, `probability`, `window`, `match`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mockserver.breakage import MALFORMED_CHUNK
from mockserver.faults import Faults
from mockserver.testing import LiveServer
from tests.mockserver.chaoswire import exchange

BALANCE = "/api/credits/balance/simple"
TOKEN = "/api/auth/anonymous-token"


def arm(http: httpx.Client, rule: dict[str, Any]) -> None:
    r = http.post("/_mock/faults", json=rule)
    assert r.status_code == 200, r.text


def token_call(mock: LiveServer) -> bytes | None:
    return exchange(mock.url, "POST", TOKEN, {"X-Client-Id": "wire-1", "Connection": "close"})


def journal_statuses(http: httpx.Client) -> list[int]:
    return [
        entry["status"] for entry in http.get("/_mock/journal").json()["entries"] if entry["path"] == TOKEN
    ]


def test_empty_response_closes_before_a_byte(http: httpx.Client, mock: LiveServer) -> None:
    """`connection: empty_response`: zero bytes, then EOF; journalled as 444; nothing was created."""
    arm(http, {"path": TOKEN, "connection": "empty_response"})
    assert token_call(mock) == b""
    assert journal_statuses(http) == [444]
    assert token_call(mock).startswith(b"HTTP/1.1 200 ")  # times: 1, the next call is served


def test_malformed_chunk(http: httpx.Client, mock: LiveServer) -> None:
    """`connection: malformed_chunk`: a 200 chunked head, a chunk size that is not hex, EOF."""
    arm(http, {"path": TOKEN, "connection": "malformed_chunk"})
    assert token_call(mock) == MALFORMED_CHUNK
    arm(http, {"path": TOKEN, "connection": "malformed_chunk"})
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(TOKEN, headers={"X-Client-Id": "wire-1"})


def test_random_data_then_close_is_seeded(http: httpx.Client, mock: LiveServer) -> None:
    """`connection: random_data_then_close`: 16-256 random bytes, then EOF; seeded."""
    arm(http, {"path": TOKEN, "connection": "random_data_then_close"})
    first = token_call(mock)
    assert first is not None and 16 <= len(first) <= 256 and not first.startswith(b"HTTP/")
    mock.reset()
    arm(http, {"path": TOKEN, "connection": "random_data_then_close"})
    assert token_call(mock) == first


def test_connection_reset(http: httpx.Client, mock: LiveServer) -> None:
    """`connection: connection_reset`: a TCP reset, no answer; httpx reports a connect/read error."""
    arm(http, {"path": TOKEN, "connection": "connection_reset"})
    assert token_call(mock) is None
    arm(http, {"path": TOKEN, "connection": "connection_reset"})
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.post(TOKEN, headers={"X-Client-Id": "wire-2"})


def test_status_flapping_cycles(http: httpx.Client, mock: LiveServer) -> None:
    """`statuses` with `cycle`: 503, served, 503, served ...; a 503 changes nothing (no token made)."""
    arm(http, {"path": TOKEN, "statuses": [503, 200], "cycle": True, "times": None})
    got = [http.post(TOKEN, headers={"X-Client-Id": f"f-{i}"}) for i in range(4)]
    assert [r.status_code for r in got] == [503, 200, 503, 200]
    assert got[0].json() == {"code": 503, "message": "HTTP 503 from a fault rule (status flapping)"}
    assert "token" in got[1].json()["data"]


def test_status_flapping_without_cycle_ends(http: httpx.Client, mock: LiveServer) -> None:
    arm(http, {"path": TOKEN, "statuses": [500, 502], "times": None})
    codes = [http.post(TOKEN, headers={"X-Client-Id": f"g-{i}"}).status_code for i in range(3)]
    assert codes == [500, 502, 200]


def test_latency_is_lognormal_on_the_virtual_clock(http: httpx.Client, mock: LiveServer) -> None:
    """`latency`: each answer comes a seeded log-normal wait later, in virtual time (no real wait)."""
    arm(http, {"path": BALANCE, "latency": {"median_ms": 2000, "sigma": 0.5}, "times": None})
    waits = []
    for _ in range(20):
        before = http.get("/_mock/clock").json()["now"]
        assert http.get(BALANCE).status_code < 500  # the handler's own answer, late
        waits.append(http.get("/_mock/clock").json()["now"] - before)
    assert all(w > 0 for w in waits) and len({round(w, 6) for w in waits}) == 20
    waits.sort()
    assert 0.8 < waits[10] < 5.0  # the median near 2 s


def test_after_times_and_match(http: httpx.Client, mock: LiveServer) -> None:
    """`after` skips N matches, `times` counts firings, `match.headers` narrows to one client."""
    rule = {"path": BALANCE, "after": 1, "times": 2, "match": {"headers": {"X-Client-Id": "victim"}}}
    arm(http, {**rule, "respond": {"status": 418, "json": {"code": 418}}})
    arm(http, {"path": BALANCE, "times": None, "respond": {"status": 299}})
    codes = [http.get(BALANCE, headers={"X-Client-Id": "victim"}).status_code for _ in range(4)]
    assert codes == [299, 418, 418, 299]
    assert http.get(BALANCE, headers={"X-Client-Id": "other"}).status_code == 299


def test_match_on_a_json_body_field(http: httpx.Client, mock: LiveServer) -> None:
    """`match.json`: only the request whose body has that field value (the middleware reads it)."""
    arm(http, {"path": "/echo", "times": None, "match": {"json": {"session_id": "s-1"}}, "statuses": [503]})
    assert http.post("/echo", json={"session_id": "s-2"}).status_code != 503
    assert http.post("/echo", json={"session_id": "s-1"}).status_code == 503
    assert http.post("/echo", content=b"not json").status_code != 503


def test_window_and_probability_decide_in_faults_py() -> None:
    """`window` on virtual seconds since the start; `probability`: same seed, same firings."""
    faults = Faults(seed=3)
    faults.clock_start = 1000.0
    faults.arm({"path": "/x", "times": None, "window": {"from_s": 10, "until_s": 20}, "delay_ms": 1})
    assert faults.fire(("delay_ms",), "GET", "/x", now=1005.0) is None
    assert faults.fire(("delay_ms",), "GET", "/x", now=1010.0) is not None
    assert faults.fire(("delay_ms",), "GET", "/x", now=1020.0) is None

    def pattern(seed: int) -> list[bool]:
        f = Faults(seed=seed)
        f.arm({"path": "/y", "times": None, "probability": 0.5, "delay_ms": 1})
        return [f.fire(("delay_ms",), "GET", "/y") is not None for _ in range(64)]

    assert pattern(1) == pattern(1)
    assert 10 < sum(pattern(1)) < 54
    assert pattern(1) != pattern(2)


@pytest.mark.parametrize(
    "rule",
    [
        {"connection": "half_open"},
        {"latency": {"median_ms": 0}},
        {"latency": {"median_ms": 10, "sigma": -1}},
        {"latency": {"distribution": "pareto", "median_ms": 10}},
        {"statuses": []},
        {"statuses": [99]},
        {"statuses": [503], "cycle": "yes"},
        {"delay_ms": 1, "cycle": True},
        {"delay_ms": 1, "after": -1},
        {"delay_ms": 1, "probability": 0},
        {"delay_ms": 1, "probability": 1.5},
        {"delay_ms": 1, "window": {"from_s": 5, "until_s": 5}},
        {"delay_ms": 1, "window": {"at": 5}},
        {"delay_ms": 1, "match": {"query": {}}},
        {"delay_ms": 1, "match": {"headers": {"X-A": 1}}},
    ],
)
def test_bad_rules_are_400_and_arm_nothing(http: httpx.Client, rule: dict[str, Any]) -> None:
    r = http.post("/_mock/faults", json={"path": "/x", **rule})
    assert r.status_code == 400, r.text
    assert http.get("/_mock/faults").json()["rules"] == []


def test_every_rule_accepted_before_is_still_accepted(http: httpx.Client) -> None:
    """`/_mock/faults` keeps accepting the rules INTERFACE.md listed (drop:0 included)."""
    for rule in (
        {"path": "/run_sse", "sse": "drop:0"},
        {"path": "/run_sse", "sse": "drop:12345678901"},
        {"path": "/run_sse", "sse": "heartbeats_only"},
        {"path": "/x", "delay_ms": 0},
        {"path": "/x", "respond": {"status": 204}},
        {"path": "/api/render/*", "render": "stall", "times": None},
    ):
        r = http.post("/_mock/faults", json=rule)
        assert r.status_code == 200, (rule, r.text)
    assert len(http.get("/_mock/faults").json()["rules"]) == 6
    assert json.loads(json.dumps(http.get("/_mock/faults").json()))["rules"][0]["sse"] == "drop:0"
