"""What `nemo-contract check` may do to a server: control API detection, accounts, spending, time."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conformance.check.report import Report
from conformance.check.target import Target, TargetError


class FakeServer:
    """A transport answering like the mock (with or without /_mock) and recording every call."""

    def __init__(self, *, control: bool, time_scale: float = 0.0) -> None:
        self.control = control
        self.time_scale = time_scale
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path, dict(request.headers), request.content))
        path = request.url.path
        if path.startswith("/_mock/"):
            if not self.control:
                return httpx.Response(404, json={"code": 404, "message": "Not Found", "data": None})
            if path == "/_mock/health":
                body = {"status": "ok", "dialect": "adk", "time_scale": self.time_scale, "render_shape": "B"}
                return httpx.Response(200, json={**body, "error_status": "mapped", "profile": "nemo-video"})
            if path == "/_mock/accounts":
                tier = json.loads(request.content)["tier"]
                return httpx.Response(
                    200, json={"token": f"nmv_usr_{tier}{len(self.calls)}", "user_id": "user_1"}
                )
            return httpx.Response(200, json={"ok": True})
        if path == "/api/auth/anonymous-token":
            token = {"token": f"nmv_usr_anon{len(self.calls)}", "user_id": "anon_1", "expires_at": None}
            return httpx.Response(
                200, json={"code": 0, "message": "success", "data": {**token, "credits": 100}}
            )
        return httpx.Response(200, json={"code": 0, "data": {}})

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.calls]


def target_for(server: FakeServer, **kwargs: Any) -> Target:
    return Target(
        "http://backend.test/", report=Report(), transport=httpx.MockTransport(server), **kwargs
    ).detect()


def test_a_real_backend_gets_only_safe_calls_and_one_anonymous_token() -> None:
    """B-AUTH-08/09: one anonymous token at most; B-CRED-04: nothing that spends without --allow-spend."""
    server = FakeServer(control=False)
    target = target_for(server)
    assert not target.has_control and not target.may_spend and not target.instant
    assert [target.fuzzable(op) for op in ("getCredits", "createSession", "getState", "claimToken")] == [
        True
    ] * 4
    assert [target.fuzzable(op) for op in ("runSse", "submitRender", "uploadFiles", "anonymousToken")] == [
        False
    ] * 4
    first = target.primary_token()
    assert first.startswith("nmv_usr_anon") and target.primary_token() == first
    assert target.other_token() is None  # a second account would need a second anonymous token
    assert server.paths().count("/api/auth/anonymous-token") == 1
    assert target.headers()["Authorization"] == f"Bearer {first}"
    assert target.headers()["X-Skill-Source"] == "nemo-video"  # B-ATTR-07
    assert not target.advance(60)
    with target.fault({"path": "/run_sse", "sse": "silent"}) as armed:
        assert not armed
    assert target.report.requests_sent == len(server.calls)


def test_allow_spend_opens_spending_but_never_token_fuzzing() -> None:
    """B-AUTH-09: the anonymous-token call is never fuzzed on a real backend; B-SSE-10: nor are turns."""
    target = target_for(FakeServer(control=False), allow_spend=True)
    assert target.may_spend and target.fuzzable("submitRender") and target.fuzzable("uploadFiles")
    assert not target.fuzzable("anonymousToken") and not target.fuzzable("runSse")


def test_a_given_token_is_used_and_the_anonymous_one_becomes_the_other_account() -> None:
    """U-16: with --token, one anonymous token serves as the second account."""
    server = FakeServer(control=False)
    target = target_for(server, token="nmv_usr_given")
    assert target.primary_token() == "nmv_usr_given" and target.token_given
    other = target.other_token()
    assert other is not None and other.startswith("nmv_usr_anon")
    assert server.paths().count("/api/auth/anonymous-token") == 1


def test_the_control_api_is_used_without_ever_resetting() -> None:
    """U-01, B-REN-07, B-ADK-02: settings from /_mock/health; paid accounts; the clock moves at scale > 0."""
    server = FakeServer(control=True, time_scale=2.0)
    target = target_for(server)
    assert target.control is not None
    assert (target.dialect, target.control.render_shape, target.control.error_status) == (
        "adk",
        "B",
        "mapped",
    )
    assert target.may_spend and not target.instant and not target.fuzzable("runSse")
    assert target.primary_token().startswith("nmv_usr_paid")
    assert target.other_token() not in (None, target.primary_token())
    assert target.advance(900)
    with target.fault({"method": "POST", "path": "/run_sse", "sse": "silent"}) as armed:
        assert armed
    assert "/_mock/reset" not in server.paths()
    assert "/api/auth/anonymous-token" not in server.paths()
    fault = next(body for method, path, _, body in server.calls if path == "/_mock/faults")
    assert json.loads(fault) == {"times": 1, "method": "POST", "path": "/run_sse", "sse": "silent"}


def test_an_instant_mock_lets_turns_be_fuzzed() -> None:
    """U-09, B-SSE-10: at time scale 0 a generated turn ends at once, so /run_sse joins the fuzzing."""
    target = target_for(FakeServer(control=True, time_scale=0))
    assert target.instant and target.fuzzable("runSse") and target.fuzzable("anonymousToken")
    assert not target.advance(900)


def test_an_unreachable_server_cannot_be_checked() -> None:
    """B-ERR-01: no answer at all is a usage error, not a broken rule."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TargetError, match="cannot reach"):
        Target("http://nowhere.test", report=Report(), transport=httpx.MockTransport(refuse)).detect()
