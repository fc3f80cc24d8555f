"""The control API under /_mock, exactly as INTERFACE.md names it."""

from __future__ import annotations

import httpx
import pytest

from mockserver.clock import DEFAULT_START
from mockserver.settings import Settings
from mockserver.testing import LiveServer


def test_health(http: httpx.Client) -> None:
    r = http.get("/_mock/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.json()["profile"] == "nemo-video" and r.json()["dialect"] == "documented"


def test_clock_and_advance(http: httpx.Client) -> None:
    assert http.get("/_mock/clock").json() == {"now": DEFAULT_START, "time_scale": 0.0}
    r = http.post("/_mock/clock/advance", json={"seconds": 90})
    assert r.json()["now"] == DEFAULT_START + 90
    for bad in ({"seconds": -1}, {"seconds": "5"}, {}, {"seconds": True}):
        assert http.post("/_mock/clock/advance", json=bad).status_code == 400


def test_accounts(http: httpx.Client) -> None:
    """POST /_mock/accounts {"tier", "credits"} -> {"token"} usable on the API (B-AUTH-18)."""
    r = http.post("/_mock/accounts", json={"tier": "free", "credits": 7})
    token = r.json()["token"]
    credits = http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}).json()
    assert credits["data"] == {"available": 7, "frozen": 0, "total": 7}
    for bad in ({"tier": "gold"}, {"credits": -1}, {"credits": "many"}, {"tier": 3}):
        assert http.post("/_mock/accounts", json=bad).status_code == 400


def test_reset_clears_everything(http: httpx.Client, mock: LiveServer) -> None:
    token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "r"}).json()["data"]["token"]
    http.post("/_mock/faults", json={"path": "/x", "sse": "silent"})
    http.post("/_mock/clock/advance", json={"seconds": 10})
    assert http.post("/_mock/reset").json() == {"status": "reset"}
    # The journal holds only the reset call itself, recorded after it cleared the rest.
    assert [e["path"] for e in http.get("/_mock/journal").json()["entries"]] == ["/_mock/reset"]
    assert (
        http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}).json()["code"]
        == 1001
    )
    assert mock.backend.faults.rules == []
    assert http.get("/_mock/clock").json()["now"] == DEFAULT_START


def test_fault_respond_changes_nothing(http: httpx.Client, mock: LiveServer) -> None:
    """A `respond` fault answers instead of the handler: a 429 on the token call leaves no token behind."""
    r = http.post(
        "/_mock/faults",
        json={
            "method": "POST",
            "path": "/api/auth/anonymous-token",
            "times": 1,
            "respond": {"status": 429, "json": {"code": 429, "message": "slow down"}},
        },
    )
    assert r.json()["id"]
    first = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "f"})
    assert first.status_code == 429 and first.json() == {"code": 429, "message": "slow down"}
    assert mock.backend.accounts.tokens == {}
    assert http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "f"}).status_code == 200
    journal = http.get("/_mock/journal").json()["entries"]
    assert [(e["status"], e["code"]) for e in journal if e["path"] == "/api/auth/anonymous-token"] == [
        (429, 429),
        (200, 0),
    ]


def test_fault_delay_is_virtual(http: httpx.Client) -> None:
    """`delay_ms` waits on the virtual clock: at scale 0 no real wait, but virtual time passes."""
    http.post("/_mock/faults", json={"path": "/api/credits/*", "delay_ms": 30000})
    t0 = http.get("/_mock/clock").json()["now"]
    http.get("/api/credits/balance/simple")
    assert http.get("/_mock/clock").json()["now"] - t0 == pytest.approx(30, abs=0.01)


def test_fault_list_and_clear(http: httpx.Client) -> None:
    http.post("/_mock/faults", json={"path": "/run_sse", "sse": "drop:2"})
    assert http.get("/_mock/faults").json()["rules"][0]["sse"] == "drop:2"
    assert http.delete("/_mock/faults").json() == {"status": "cleared"}
    assert http.get("/_mock/faults").json()["rules"] == []
    assert http.post("/_mock/faults", json={"path": "/run_sse", "sse": "nope"}).status_code == 400


def test_no_control() -> None:
    """--no-control: /_mock is not served; the API still is."""
    with (
        LiveServer(Settings(time_scale=0, control=False, access_log=False)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert http.get("/_mock/health").status_code == 404
        assert http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "n"}).status_code == 200


def test_index_and_openapi(http: httpx.Client) -> None:
    """The mock says what it is at / and serves its contract at /openapi.json."""
    page = http.get("/")
    assert page.status_code == 200 and "nemo-video" in page.text and "/_mock" in page.text
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/run_sse" in spec["paths"]
