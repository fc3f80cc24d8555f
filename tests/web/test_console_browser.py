"""The console at /_mock/ui in a real browser: the journal live, filters, entry detail, sessions,
the clock, faults, scenarios and reset, each through the control API and its guard."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from web_api import anonymous, paid
from web_browser import artifacts_dir

from mockserver.faults import EFFECTS
from mockserver.operations import Operation
from mockserver.scenarios import scenario_names
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live

CREDITS = "/api/credits/balance/simple"
#: The console must show a request within one second of it being made (an event wait, not a sleep).
WITHIN_S = 1.0


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def console(page: Page, server: LiveServer) -> Page:
    page.goto(f"{server.url}/_mock/ui")
    expect(page.locator("#feed-status")).to_have_text("live")
    return page


def rows(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#journal-rows tr", has_text=text)


def test_a_request_shows_within_a_second(console: Page, http: httpx.Client) -> None:
    """The journal arrives live over the console's own SSE stream."""
    probe = uuid.uuid4().hex
    assert http.get(f"/api/nothing-here/{probe}").status_code == 404
    expect(rows(console, probe)).to_have_count(1, timeout=WITHIN_S * 1000)
    expect(rows(console, probe).locator("td").nth(3)).to_have_text("404")


def test_filters_and_entry_detail_with_masked_headers(console: Page, http: httpx.Client) -> None:
    """B-AUTH-22, B-AUTH-13: filter by path, status, business code and session; an entry's detail
    shows its headers with the token masked, never in clear."""
    caller = paid(http)
    session_id, _ = caller.session("filters")
    assert caller.get(f"/api/state/nemo_agent/me/{session_id}/latest").json()["code"] == 0
    stranger = http.get(CREDITS, headers={"Authorization": "Bearer nmv_usr_not_a_real_token"})
    assert stranger.json()["code"] == 1001
    assert caller.get(CREDITS).json()["code"] == 0
    expect(rows(console, CREDITS)).to_have_count(2, timeout=5000)

    console.fill("#filter-code", "1001")
    expect(console.locator("#journal-rows tr")).to_have_count(1)
    expect(console.locator("#journal-rows tr td").nth(2)).to_have_text(CREDITS)
    console.fill("#filter-code", "")
    console.fill("#filter-session", session_id)
    # The session's creation (its answer and journal entry name it) and its state read, newest first.
    expect(console.locator("#journal-rows tr")).to_have_count(2)
    expect(console.locator("#journal-rows tr td").nth(2)).to_contain_text(session_id)
    console.fill("#filter-session", "")
    console.fill("#filter-path", "/api/tasks/")
    expect(console.locator("#journal-rows tr")).to_have_count(1)
    console.fill("#filter-path", "")
    console.fill("#filter-status", "2xx")
    statuses = console.locator("#journal-rows tr td:nth-child(4)").all_inner_texts()
    assert statuses and all(status.startswith("2") for status in statuses)
    console.click("#filters-clear")

    # Open the successful credits call with the keyboard: its Authorization header is masked.
    opener = rows(console, CREDITS).first.locator("button.entry-open")
    opener.focus()
    console.keyboard.press("Enter")
    detail = console.locator("#entry-detail")
    expect(detail).to_be_visible()
    authorization = detail.locator("#entry-headers tr", has_text="authorization").locator("td")
    expect(authorization).to_have_text("Bearer nmv_usr_MASKED_" + authorization.inner_text()[22:])
    assert caller.token not in console.content()
    # Its answer's body is shown (the first 4 KiB, secrets masked); an empty request body is not.
    expect(detail.locator("#entry-bodies")).to_contain_text('"available": 10000')
    expect(detail.locator("#entry-bodies h5")).to_have_text(["response_body"])


def test_arming_a_fault_from_the_form_fails_the_next_request(console: Page, http: httpx.Client) -> None:
    """The faults form lists every effect `mockserver.faults` knows; the rule it arms takes the next
    matching request."""
    offered = console.locator("#fault-form input[name=effect]").evaluate_all("els => els.map(e => e.value)")
    assert offered == list(EFFECTS)
    caller = paid(http)
    console.fill("#fault-path", CREDITS)
    console.select_option("#fault-method", "GET")
    console.check("input[name=effect][value=respond]")
    console.fill("#fault-respond-status", "503")
    console.click("#fault-form button[type=submit]")
    expect(console.locator("#action-status")).to_have_text("Armed 1 fault rule.")
    expect(console.locator("#fault-list .fault-rule")).to_have_count(1)
    failed = caller.get(CREDITS)
    assert failed.status_code == 503 and failed.json()["code"] == 5000
    assert caller.get(CREDITS).status_code == 200  # times: 1
    console.click("#faults-clear")
    expect(console.locator("#action-status")).to_have_text("Faults cleared.")


def test_advancing_the_clock_from_the_page_expires_a_token(console: Page, http: httpx.Client) -> None:
    """B-AUTH-05, B-AUTH-14: an anonymous token lives 7 days on the virtual clock; past that the next
    call with it fails with 1001 (token expired)."""
    caller = anonymous(http, "clock-client")
    assert caller.get(CREDITS).json()["code"] == 0
    before = float(console.locator("#clock-now").get_attribute("data-now") or 0)
    console.click("button.advance[data-seconds='604800']")
    expect(console.locator("#action-status")).to_have_text("Clock advanced by 604800 s.")
    after = float(console.locator("#clock-now").get_attribute("data-now") or 0)
    assert after - before == pytest.approx(604800, abs=1)
    answer = caller.get(CREDITS).json()
    assert answer["code"] == 1001 and "expired" in answer["message"]


def test_sessions_show_turns_and_what_a_silent_edit_changed(
    console: Page, http: httpx.Client, server: LiveServer
) -> None:
    """B-SSE-09: a silent turn sends no text; the console shows what it changed in the draft."""
    caller = paid(http)
    session_id, _ = caller.session("sessions view")
    caller.chat(session_id, "make a video about the sea")
    assert http.post("/_mock/faults", json={"method": "POST", "path": "/run_sse", "sse": "silent"}).is_success
    caller.chat(session_id, "remove the music")
    server.wait_idle()
    console.click("#sessions-refresh")
    session = console.locator(f'details.session[data-session-id="{session_id}"]')
    expect(session.locator(".turn")).to_have_count(2)
    silent = session.locator('.turn[data-turn="2"]')
    expect(silent.locator(".badge-silent")).to_have_text("silent edit")
    expect(silent.locator(".said.none")).to_have_text("The agent sent no text for this turn.")
    expect(silent.locator(".changes li").first).to_contain_text("removed BGM")
    console.screenshot(path=str(artifacts_dir() / "console.png"), full_page=True)


def test_scenarios_listed_and_reset_empties_everything(console: Page, http: httpx.Client) -> None:
    listed = console.locator("li.scenario").evaluate_all("els => els.map(e => e.dataset.scenario)")
    assert sorted(listed) == sorted(scenario_names())
    caller = paid(http)
    caller.session("to be reset")
    console.click("#sessions-refresh")
    expect(console.locator("details.session")).to_have_count(1)
    console.click("#reset-button")
    expect(console.locator("#action-status")).to_have_text("The mock was reset.")
    expect(console.locator("#sessions-list")).to_have_text("No sessions yet.")
    assert http.get("/_mock/faults").json()["rules"] == []
    assert caller.get(CREDITS).json()["code"] == 1001  # the reset forgot the token


def test_scenario_button_arms_its_faults(console: Page, http: httpx.Client) -> None:
    button = console.locator("li.scenario button.scenario-arm").first
    expect(button).to_be_visible()
    count = len(json.loads(button.get_attribute("data-faults") or "[]"))
    button.click()
    expect(console.locator("#action-status")).to_contain_text(f"Armed {count} fault rule")
    assert len(http.get("/_mock/faults").json()["rules"]) == count


def test_a_stream_shows_while_it_runs_and_completes_in_place(
    console: Page, http: httpx.Client, server: LiveServer
) -> None:
    """A /run_sse stream is in the journal from its first byte: one row marked streaming, which
    the same row loses when the stream ends (the journal completes the entry, never adds one)."""
    caller = paid(http)
    session_id, _ = caller.session("streaming")
    reached = threading.Event()
    go: list[asyncio.Event] = []

    async def gate(op: Operation) -> None:
        if op.emitted >= 1 and not go:
            go.append(asyncio.Event())
            reached.set()
            await go[0].wait()

    server.backend.turn_gate = gate
    chatting = threading.Thread(target=caller.chat, args=(session_id, "add a title 'Live'"))
    try:
        chatting.start()
        assert reached.wait(10)
        streaming = rows(console, "/run_sse")
        expect(streaming).to_have_count(1, timeout=WITHIN_S * 1000)
        expect(streaming.locator("td").nth(3)).to_have_text("200 (streaming)")
        server.call(go[0].set)
        chatting.join(10)
        expect(streaming.locator("td").nth(3)).to_have_text("200")
        expect(streaming).to_have_count(1)
    finally:
        server.backend.turn_gate = None
        if go:
            server.call(go[0].set)
        chatting.join(10)
