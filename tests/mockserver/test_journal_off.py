"""`nemo-mock serve --journal off`: a load mode that keeps no journal and says so when asked."""

from __future__ import annotations

import httpx

from mockserver.cli import build_parser, explicit_settings
from mockserver.testing import live_server

ONE_503 = {"method": "GET", "path": "/api/credits/*", "times": 1, "respond": {"status": 503, "json": {}}}


def test_journal_off_keeps_nothing_and_the_journal_call_says_why() -> None:
    """The API answers as usual; GET /_mock/journal is a clear 409, never an empty list that
    a test would read as "no request was made"."""
    with live_server(journal=False) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post("/_mock/accounts", json={"tier": "paid", "credits": 50}).json()["token"]
        balance = http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"})
        assert balance.status_code == 200 and balance.json()["data"]["available"] == 50
        answer = http.get("/_mock/journal")
        assert answer.status_code == 409
        assert "--journal off" in answer.json()["message"]
        assert len(server.backend.journal) == 0


def test_faults_still_fire_with_the_journal_off() -> None:
    with live_server(journal=False) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/_mock/faults", json=ONE_503).status_code == 200
        assert http.get("/api/credits/balance/simple").status_code == 503
        assert http.get("/api/credits/balance/simple").status_code != 503


def test_the_flag_sets_the_setting() -> None:
    parser = build_parser()
    assert explicit_settings(parser.parse_args(["serve", "--journal", "off"]))["journal"] is False
    assert explicit_settings(parser.parse_args(["serve"]))["journal"] is True
