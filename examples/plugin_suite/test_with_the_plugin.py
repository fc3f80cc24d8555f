"""A user's test suite that drives the mock only through the `nemo` pytest plugin.

Run it with `python -m pytest examples/plugin_suite`; every test shares one mock server per set of
settings (reset before each test) unless `--nemo-server-per-test` is given.
"""

from __future__ import annotations

import json

import httpx
import pytest

TOKEN = "/api/auth/anonymous-token"


def new_token(url: str, client_id: str = "suite") -> str:
    issued = httpx.post(url + TOKEN, headers={"X-Client-Id": client_id})
    token: str = issued.json()["data"]["token"]
    return token


def test_a_new_account_has_100_credits(nemo_client) -> None:
    assert nemo_client.credits().available == 100


def test_the_journal_verifies_what_was_sent(nemo_live, nemo_journal) -> None:
    new_token(nemo_live.url, "verify-me")
    nemo_journal.assert_requested(
        "POST", TOKEN, times=1, where=lambda e: e["headers"]["x-client-id"] == "verify-me"
    )
    assert [e["status"] for e in nemo_journal.requests("POST", "/api/auth/*")] == [200]


def test_each_test_starts_from_a_reset_mock(nemo_journal) -> None:
    assert nemo_journal.requests() == []


def test_a_missing_request_lists_what_was_seen(nemo_live, nemo_journal) -> None:
    new_token(nemo_live.url)
    with pytest.raises(AssertionError) as failed:
        nemo_journal.assert_requested("POST", "/api/cli/session", times=1)
    assert f"POST {TOKEN} -> 200" in str(failed.value)


STARTS: list[float] = []  # the virtual time each clock test began at, in whatever order they run


@pytest.mark.parametrize("hours", [1, 2])
def test_the_clock_moves_and_starts_over_each_test(nemo_clock, hours: int) -> None:
    start = nemo_clock.now()
    STARTS.append(start)
    assert nemo_clock.advance(hours * 3600) == start + hours * 3600
    assert len(set(STARTS)) == 1, f"the reset did not take the clock back: {STARTS}"


def test_a_fault_for_one_block(nemo_live, nemo_faults) -> None:
    refusal = {"status": 429, "json": {"code": 429, "message": "slow down"}, "headers": {"Retry-After": "30"}}
    with nemo_faults(method="POST", path=TOKEN, times=5, respond=refusal):
        assert httpx.post(nemo_live.url + TOKEN, headers={"X-Client-Id": "a"}).status_code == 429
    assert nemo_faults.rules() == []
    assert httpx.post(nemo_live.url + TOKEN, headers={"X-Client-Id": "a"}).status_code == 200


def test_a_scenario_armed_during_the_test(nemo_live, nemo_scenario, nemo_journal) -> None:
    nemo_scenario("rate-limited-token-call")
    first = httpx.post(nemo_live.url + TOKEN, headers={"X-Client-Id": "s"})
    assert first.status_code == 429 and first.headers["retry-after"] == "30"
    nemo_journal.assert_requested("POST", TOKEN, status=429, times=1)


def test_the_journal_keeps_bodies_and_sessions(nemo_live, nemo_journal) -> None:
    auth = {"Authorization": f"Bearer {new_token(nemo_live.url)}"}
    created = httpx.post(
        nemo_live.url + "/api/tasks/me/with-session/nemo_agent", json={"task_name": "holiday"}, headers=auth
    )
    session = created.json()["data"]["session_id"]
    (entry,) = nemo_journal.assert_requested(
        "POST",
        "/api/tasks/*",
        session=session,
        where=lambda e: e["request_body"] == {"task_name": "holiday"},
    )
    assert entry["response_body"]["data"]["session_id"] == session
    issued = nemo_journal.requests("POST", TOKEN)[0]["response_body"]["data"]["token"]
    assert issued.startswith("nmv_usr_MASKED_")  # secrets in bodies are masked too


def turn(url: str, auth: dict[str, str], session: str, text: str) -> list[dict]:
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session,
        "new_message": {"parts": [{"text": text}]},
    }
    answer = httpx.post(url + "/run_sse", headers=auth, json=body, timeout=30)
    return [json.loads(line[5:]) for line in answer.text.splitlines() if line.startswith("data: {")]


def test_a_scenario_with_steps_armed_during_the_test(nemo_live, nemo_scenario, nemo_journal) -> None:
    assert nemo_scenario("silent-edit")["steps"] == 1  # after one /run_sse, the next is silent
    auth = {"Authorization": f"Bearer {new_token(nemo_live.url, 'scenario-silent-edit')}"}
    created = httpx.post(nemo_live.url + "/api/tasks/me/with-session/nemo_agent", json={}, headers=auth)
    session = created.json()["data"]["session_id"]
    first = turn(nemo_live.url, auth, session, "make a video of a city at night")
    second = turn(nemo_live.url, auth, session, "add a title 'Night City'")
    assert any(event["type"] == "text" for event in first)
    assert not any(event["type"] == "text" for event in second)  # the silent edit (B-SSE-09)
    nemo_journal.assert_requested("POST", "/run_sse", times=2, session=session)


@pytest.mark.nemo(scenario="token-expiry-mid-session")
def test_a_scenario_with_steps_by_marker(nemo_live) -> None:
    assert nemo_live.backend.settings.seed == 0
    assert httpx.get(nemo_live.url + "/_mock/health").status_code == 200


@pytest.mark.nemo(error_status="mapped")
def test_mapped_error_statuses_by_marker(nemo_live) -> None:
    answer = httpx.get(
        nemo_live.url + "/api/credits/balance/simple", headers={"Authorization": "Bearer nope"}
    )
    assert answer.status_code == 401


@pytest.mark.nemo(error_status="mapped")
def test_the_marked_server_is_shared_too(nemo_live, nemo_journal) -> None:
    assert nemo_journal.requests() == []
    assert nemo_live.backend.settings.error_status == "mapped"


def test_without_the_marker_errors_answer_200(nemo_live) -> None:
    answer = httpx.get(
        nemo_live.url + "/api/credits/balance/simple", headers={"Authorization": "Bearer nope"}
    )
    assert answer.status_code == 200 and answer.json()["code"] != 0


@pytest.mark.nemo(render_shape="B", dialect="adk")
def test_the_v44_shapes_by_marker(nemo_live) -> None:
    assert (nemo_live.backend.settings.render_shape, nemo_live.backend.settings.dialect) == ("B", "adk")


@pytest.mark.anyio
async def test_async_under_anyio(nemo_async_http, nemo_journal) -> None:
    issued = await nemo_async_http.post(TOKEN, headers={"X-Client-Id": "async"})
    assert issued.json()["code"] == 0
    nemo_journal.assert_requested("POST", TOKEN, times=1)


@pytest.mark.anyio
async def test_async_again_on_a_fresh_loop(nemo_async_http) -> None:
    answer = await nemo_async_http.get("/_mock/health")
    assert answer.json()["status"] == "ok"


def test_a_private_server(nemo_live_private, nemo_live) -> None:
    assert nemo_live_private.url != nemo_live.url


@pytest.mark.asyncio
async def test_async_under_pytest_asyncio(nemo_async_http, nemo_journal) -> None:
    issued = await nemo_async_http.post(TOKEN, headers={"X-Client-Id": "asyncio"})
    assert issued.json()["code"] == 0
    nemo_journal.assert_requested(
        "POST", TOKEN, times=1, where=lambda e: e["headers"]["x-client-id"] == "asyncio"
    )
