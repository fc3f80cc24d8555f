"""The response checks of `nemo-contract check`, on answers built by hand, and their schemathesis form."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

from conformance.check.checks import (
    SCHEMATHESIS_CHECKS,
    RuleViolation,
    check_exchange,
    content_types,
    credits_balance,
    documented_codes,
    envelope,
    response_shape,
    token_masking,
)
from conformance.check.exchange import Exchange
from contracts.spec import load_openapi

TOKEN = "nmv_usr_" + "7c1e4b2a9f3d48e6a0b5c2d1" * 2
JSON = "application/json"


def answer(
    operation: str | None,
    body: Any,
    *,
    status: int = 200,
    media: str = JSON,
    headers: dict[str, str] | None = None,
    path: str = "/api/credits/balance/simple",
) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(
        operation=operation,
        method="GET",
        url=f"http://127.0.0.1:8080{path}",
        request_headers={"authorization": f"Bearer {TOKEN}"},
        request_body=None,
        status=status,
        headers={"content-type": media, **(headers or {})},
        body=raw,
    )


def failures(outcomes: list[Any]) -> dict[str, str]:
    return {o.rule_id: o.failure for o in outcomes if o.failure is not None}


CREDITS_OK = {"code": 0, "message": "success", "data": {"available": 60, "frozen": 40, "total": 100}}


def test_a_documented_balance_breaks_nothing() -> None:
    """B-CRED-01/02, B-ENV-06, B-ERR-01, B-AUTH-22: the example answer holds every rule."""
    outcomes = check_exchange(answer("getCredits", CREDITS_OK))
    assert failures(outcomes) == {}
    assert {"B-CRED-01", "B-CRED-02", "B-ENV-06", "B-ERR-01", "B-AUTH-22"} <= {o.rule_id for o in outcomes}


@pytest.mark.parametrize(
    ("figures", "reason"),
    [
        ({"available": 60, "frozen": 40, "total": 60}, "total 60 != available 60 + frozen 40"),
        ({"available": -10, "frozen": 10, "total": 0}, "a negative balance"),
    ],
)
def test_the_credits_invariant(figures: dict[str, int], reason: str) -> None:
    """B-CRED-02: total = available + frozen, and nothing is negative."""
    got = failures(credits_balance(answer("getCredits", {"code": 0, "data": figures})))
    assert reason in got["B-CRED-02"]


def test_the_envelope() -> None:
    """B-ENV-06: `code` 0 with `data`; U-02: errors carry a message and `data` null or an object."""
    assert "B-ENV-06" in failures(envelope(answer("getCredits", {"code": 0, "message": "success"})))
    assert "B-ENV-06" in failures(envelope(answer("getCredits", {"available": 1})))
    assert "B-ENV-06" in failures(envelope(answer("getCredits", b"<html>", media="text/html")))
    assert "U-02" in failures(envelope(answer("getCredits", {"code": 1001, "data": None})))
    assert "U-02" in failures(envelope(answer("getCredits", {"code": 1001, "message": "x", "data": [1]})))
    assert (
        failures(envelope(answer("getCredits", {"code": 1001, "message": "Unauthorized", "data": None})))
        == {}
    )


@pytest.mark.parametrize(
    ("status", "body", "headers", "rule_id"),
    [
        (500, {"code": 500, "message": "boom", "data": None}, {}, "B-ERR-01"),
        (200, {"code": 1003, "message": "odd", "data": None}, {}, "B-ERR-01"),
        (401, {"code": 1002, "message": "Session not found", "data": None}, {}, "U-01"),
        (404, {"code": 400, "message": "bad", "data": None}, {}, "U-03"),
        (429, {"code": 429, "message": "slow down", "data": None}, {}, "U-03"),
        (400, {"detail": "bad"}, {}, "U-03"),
        (201, {"code": 0, "message": "success", "data": {}}, {}, "B-ERR-01"),
    ],
)
def test_only_documented_codes(status: int, body: Any, headers: dict[str, str], rule_id: str) -> None:
    """B-ERR-01: documented statuses and codes; U-01/U-03: business codes with 200 or their mapped status,
    HTTP errors repeating their status, 429 with Retry-After."""
    assert rule_id in failures(documented_codes(answer("getCredits", body, status=status, headers=headers)))


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (200, {"code": 1002, "message": "Session not found", "data": None}, {}),
        (404, {"code": 1002, "message": "Session not found", "data": None}, {}),
        (402, {"code": 2001, "message": "Insufficient credits", "data": None}, {}),
        (429, {"code": 429, "message": "slow down", "data": None}, {"retry-after": "30"}),
        (409, {"code": 409, "message": "used", "data": None}, {}),
    ],
)
def test_documented_pairs_hold(status: int, body: Any, headers: dict[str, str]) -> None:
    """U-01, U-03, U-14: the pairs the twin's decisions and the mapped option allow."""
    assert failures(documented_codes(answer("getState", body, status=status, headers=headers))) == {}


def test_content_types() -> None:
    """B-SSE-04 a stream or U-09 a JSON refusal on /run_sse; U-14 an MP4 download; B-ENV-06 JSON elsewhere."""
    assert failures(content_types(answer("runSse", b"data: {}\n\n", media="text/event-stream"))) == {}
    refusal = {"code": 2001, "message": "Insufficient credits", "data": None}
    assert failures(content_types(answer("runSse", refusal))) == {}
    assert "U-09" in failures(content_types(answer("runSse", {"code": 0, "data": {}})))
    assert "B-SSE-04" in failures(content_types(answer("runSse", b"data: {}\n\n", media="text/plain")))
    assert (
        failures(content_types(answer("downloadRender", b"\x00\x00\x00 ftypisom", media="video/mp4"))) == {}
    )
    assert "U-14" in failures(
        content_types(answer("downloadRender", b"...", media="application/octet-stream"))
    )
    assert "B-ENV-06" in failures(content_types(answer("getCredits", CREDITS_OK, media="text/plain")))


def test_token_masking() -> None:
    """B-AUTH-22: no answer echoes the caller's token; no URL in an answer carries a user token."""
    echo = {"code": 1001, "message": f"token {TOKEN} expired", "data": None}
    assert "echoes" in failures(token_masking(answer("getCredits", echo)))["B-AUTH-22"]
    leak = {"id": "r1", "status": "completed", "output": {"url": "https://x/r1.mp4?token=nmv_usr_abc"}}
    got = failures(token_masking(answer("getRender", leak)))["B-AUTH-22"]
    assert "token=nmv_usr_***" in got and "nmv_usr_abc" not in got
    issued = {"code": 0, "data": {"token": TOKEN, "user_id": "anon_1", "expires_at": None, "credits": 100}}
    assert failures(token_masking(answer("anonymousToken", issued))) == {}


def test_shapes_per_operation() -> None:
    """B-CRED-01 a renamed field; B-REN-06 a completed job without output; B-STATE-04 a bad draft."""
    renamed = {"code": 0, "data": {"availableCredits": 1, "frozen": 0, "total": 1}}
    assert "available" in failures(response_shape(answer("getCredits", renamed)))["B-CRED-01"]
    job = {"id": "r1", "status": "completed", "progress": 100}
    assert "B-REN-06" in failures(response_shape(answer("getRender", job)))
    shape_b = {"success": True, "data": {"id": "r1", "status": "completed", "progress": 100}}
    assert "B-REN-07" in failures(response_shape(answer("getRender", shape_b)))
    bad_draft = {
        "t": [{"tt": 0, "sg": [{"id": "s", "st": 0, "m": {}}]}],
        "d": 1,
        "m": {"width": 1, "height": 1},
    }
    state = {
        "code": 0,
        "data": {
            "session_id": "1",
            "task_id": "t",
            "user_id": "u",
            "state": {
                "draft": bad_draft,
                "video_infos": [],
                "canvas_config": None,
                "video_analyses": [],
                "generated_media": [],
            },
        },
    }
    got = failures(response_shape(answer("getState", state)))
    assert list(got) == ["B-STATE-04"] and "draft" in got["B-STATE-04"]


def test_the_checks_are_registered_with_schemathesis() -> None:
    """B-CRED-02 through schemathesis: `case.validate_response` raises a RuleViolation with the rule id."""
    assert [c.__name__ for c in SCHEMATHESIS_CHECKS][:2] == ["nemo_envelope", "nemo_documented_codes"]
    operation = schemathesis.openapi.from_dict(load_openapi())["/api/credits/balance/simple"]["GET"]
    case = operation.Case()
    request = case.as_transport_kwargs(base_url="http://127.0.0.1:8080")
    import requests

    prepared = requests.Request(request["method"], request["url"], headers=request.get("headers")).prepare()
    body = json.dumps({"code": 0, "data": {"available": 1, "frozen": 1, "total": 5}}).encode()
    response = Response(200, {"content-type": [JSON]}, body, prepared, 0.01, True)
    with pytest.raises(FailureGroup) as raised:
        case.validate_response(response, checks=list(SCHEMATHESIS_CHECKS))
    violations = [e for e in raised.value.exceptions if isinstance(e, RuleViolation)]
    assert [v.rule_id for v in violations] == ["B-CRED-02"]
