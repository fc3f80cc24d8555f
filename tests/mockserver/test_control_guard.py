"""Nobody else drives the mock: the control API refuses cross-origin and non-JSON calls, needs a
token off loopback, and validates every value it is given (U-02, U-03)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest

from mockserver.clock import DEFAULT_START
from mockserver.faults import FaultError, Faults
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

TOKEN = "s3cret-control-token"


def assert_refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status and body["data"] is None and words in body["message"], body


def test_interface_calls_work_unchanged_on_loopback(http: httpx.Client) -> None:
    """INTERFACE.md's control calls, as curl and httpx send them, need nothing new on loopback."""
    assert http.get("/_mock/health").json()["status"] == "ok"
    assert http.post("/_mock/reset").status_code == 200  # no body, no content type
    assert http.post("/_mock/clock/advance", json={"seconds": 5}).json()["now"] == DEFAULT_START + 5
    assert "token" in http.post("/_mock/accounts", json={"tier": "paid", "credits": 3}).json()
    assert http.post("/_mock/faults", json={"path": "/x", "sse": "silent"}).status_code == 200
    assert http.delete("/_mock/faults").status_code == 200
    assert http.get("/_mock/journal").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:1"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other-site", "null", "other-port", "sec-fetch"],
)
def test_cross_origin_calls_are_refused(
    http: httpx.Client, mock: LiveServer, headers: dict[str, str]
) -> None:
    """A web page on another origin cannot reset, mint credits, arm faults or read the journal: 403."""
    assert_refused(http.post("/_mock/reset", headers=headers), 403, "refused")
    assert_refused(http.post("/_mock/accounts", json={"credits": 10**9}, headers=headers), 403, "refused")
    assert_refused(
        http.post("/_mock/faults", json={"path": "/*", "respond": {"status": 503}}, headers=headers),
        403,
        "refused",
    )
    assert_refused(http.get("/_mock/journal", headers=headers), 403, "refused")
    assert mock.backend.accounts.accounts == {} and mock.backend.faults.rules == []


def test_same_origin_is_fine(http: httpx.Client, mock: LiveServer) -> None:
    origin = mock.url
    assert (
        http.post("/_mock/clock/advance", json={"seconds": 1}, headers={"Origin": origin}).status_code == 200
    )


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"tier": "paid", "credits": 1000000}', "text/plain"),
        (b"tier=paid&credits=1000000", "application/x-www-form-urlencoded"),
        (b'{"tier": "paid", "credits": 1000000}', None),
    ],
    ids=["text-plain", "form", "none"],
)
def test_bodies_must_be_json(
    http: httpx.Client, mock: LiveServer, content: bytes, content_type: str | None
) -> None:
    """The bodies a page may POST without asking (forms, text/plain) are 415 and change nothing."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = http.build_request("POST", "/_mock/accounts", content=content, headers=headers)
    assert "content-type" in request.headers or content_type is None
    assert_refused(http.send(request), 415, "application/json")
    assert mock.backend.accounts.accounts == {}


def test_a_rebound_host_name_is_refused(http: httpx.Client) -> None:
    """DNS rebinding: a page's own name resolved to 127.0.0.1 is not a loopback Host: 403."""
    assert_refused(http.post("/_mock/reset", headers={"Host": "evil.example:8080"}), 403, "loopback")
    for host in ("localhost:1", "127.0.0.1", "[::1]:80", "app.localhost"):
        assert http.get("/_mock/health", headers={"Host": host}).status_code == 200


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, access_log=False, control_token=TOKEN)) as server:
        yield server


def test_with_a_token_every_control_call_needs_it(guarded: LiveServer) -> None:
    """--control-token: 401 without the bearer token, 200 with it; the API itself is unaffected."""
    with httpx.Client(base_url=guarded.url) as http:
        for method, path in (("GET", "/_mock/health"), ("POST", "/_mock/reset"), ("GET", "/_mock/journal")):
            assert_refused(http.request(method, path), 401, "control-token")
            assert_refused(
                http.request(method, path, headers={"Authorization": "Bearer wrong-token"}),
                401,
                "control-token",
            )
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert http.get("/_mock/health", headers=auth).status_code == 200
        assert http.post("/_mock/clock/advance", json={"seconds": 1}, headers=auth).status_code == 200
        assert http.get("/_mock/journal", headers={**auth, "Host": "mock.internal"}).status_code == 200
        assert http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "t"}).json()["code"] == 0
        journal = http.get("/_mock/journal", headers=auth).json()["entries"]
        assert TOKEN not in str(journal)


# ------------------------------------------------------------------ values


@pytest.mark.parametrize(
    "body",
    [
        {"seconds": 1e10},
        {"seconds": -0.5},
        {"seconds": None},
        {"seconds": [1]},
    ],
)
def test_clock_advance_validates(http: httpx.Client, body: dict) -> None:
    assert_refused(http.post("/_mock/clock/advance", json=body), 400, "seconds")
    assert http.get("/_mock/clock").json()["now"] == DEFAULT_START


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"path": "/x", "delay_ms": 1e308}, "delay_ms"),
        ({"path": "/x", "delay_ms": 86_400_001}, "delay_ms"),
        ({"path": "/x", "respond": {"status": 101}}, "final HTTP status"),
        ({"path": "/x", "respond": {"status": 100, "json": {}}}, "final HTTP status"),
        ({"path": "/x", "respond": {"status": 204, "json": {"a": 1}}}, "no body"),
        ({"path": "/x", "respond": {"status": 304, "json": "x"}}, "no body"),
        ({"path": "/x", "respond": {"status": 200, "headers": {"X-A": "a\r\nSet-Cookie: x=1"}}}, "CR, LF"),
        ({"path": "/x", "respond": {"status": 200, "headers": {"X-A": "a\nb"}}}, "CR, LF"),
        ({"path": "/x", "respond": {"status": 200, "headers": {"Bad Name": "a"}}}, "header name"),
        ({"path": "/x", "respond": {"status": 200, "headers": {"Content-Length": "5"}}}, "set by the server"),
        ({"path": "/x", "respond": {"status": 200, "headers": {"X-A": "\u2603"}}}, "Latin-1"),
        ({"path": "/x", "respond": {"status": 200, "headers": {"X-A": {"b": 1}}}}, "string or a number"),
        ({"path": "/x", "respond": {"status": 200, "body": "x"}}, "unknown key"),
        ({"path": "/x", "sse": "silent", "note": "x"}, "unknown key"),
        ({"path": "/x\n", "sse": "silent"}, "`path`"),
        ({"path": "/x", "render": ["fail"]}, "`render`"),
        ({"path": "/x", "times": 10**10, "sse": "silent"}, "`times`"),
    ],
)
def test_fault_rules_are_validated(http: httpx.Client, mock: LiveServer, rule: dict, words: str) -> None:
    """Faults: finite, in range, statuses with bodies only where HTTP allows them, no CR/LF in headers."""
    assert_refused(http.post("/_mock/faults", json=rule), 400, words)
    assert mock.backend.faults.rules == []
    assert http.get("/_mock/faults").json() == {"rules": []}


def test_a_refused_rule_changes_no_rule_ids() -> None:
    faults = Faults()
    with pytest.raises(FaultError):
        faults.arm({"path": "/x", "delay_ms": math.inf})
    assert faults.arm({"path": "/x", "sse": "silent"}).id == "fault_1"


@pytest.mark.parametrize("status", [204, 205, 304])
def test_bodiless_statuses_answer_without_a_body(http: httpx.Client, status: int) -> None:
    """A `respond` fault with 204/205/304 sends a well-formed answer the client can read past."""
    http.post("/_mock/faults", json={"path": "/api/credits/*", "respond": {"status": status}})
    r = http.get("/api/credits/balance/simple")
    assert r.status_code == status and r.content == b""
    assert http.get("/_mock/health").status_code == 200  # the connection is still in step


def test_respond_headers_are_sent(http: httpx.Client) -> None:
    http.post(
        "/_mock/faults",
        json={
            "path": "/api/credits/*",
            "respond": {"status": 429, "headers": {"Retry-After": 30}, "json": {}},
        },
    )
    r = http.get("/api/credits/balance/simple")
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
