"""A whole check run against a server without the control API, as against a real backend."""

from __future__ import annotations

import httpx
import pytest

from conformance.check.report import Report
from conformance.check.runner import ALL_PHASES, CheckOptions, run_check
from conformance.check.target import Target
from conformance.check.walker import POLL_INTERVAL_S, Account, RenderRef, SessionRef, Walker
from mockserver.settings import Settings
from mockserver.testing import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture
def backend_without_control() -> LiveServer:
    """The mock with `/_mock` switched off: the checker must treat it as a real backend."""
    return LiveServer(Settings(time_scale=0, seed=4, control=False, access_log=False))


def test_only_safe_calls_and_one_anonymous_token(backend_without_control: LiveServer) -> None:
    """B-AUTH-08/09: one anonymous token; B-CRED-08: only free calls, so nothing is spent; U-16 noted."""
    with backend_without_control as server:
        report = run_check(CheckOptions(base_url=server.url, max_examples=2, seed=8), sleep=None)
        journal = server.backend.journal.entries()
        ledgers = [account.ledger for account in server.backend.accounts.accounts.values()]
        renders = dict(server.backend.renders)
        stored = [
            info for session in server.backend.sessions.sessions.values() for info in session.video_infos
        ]
    assert report.ok, "\n".join(report.console_lines())
    issued = [e for e in journal if e["path"] == "/api/auth/anonymous-token" and e["status"] == 200]
    assert len(issued) == 1
    assert not [e for e in journal if e["path"].startswith("/_mock/") and e["path"] != "/_mock/health"]
    assert not renders and not stored  # refused probes only: no job, no kept file
    assert all(ledger.spent == 0 and ledger.frozen == 0 for ledger in ledgers)
    assert any("--allow-spend" in note for note in report.notes)
    assert any(note.startswith("U-16 not checked") for note in report.notes)
    assert {"B-SSE-03", "B-SSE-04", "B-SESS-07", "U-12", "B-CRED-02"} <= set(report.checked)


def test_allow_spend_sends_the_paid_steps(backend_without_control: LiveServer) -> None:
    """B-CRED-04: --allow-spend sends a generation; B-REN-13/15, B-SSE-06, B-STATE-05 are then checked."""
    with backend_without_control as server:
        options = CheckOptions(base_url=server.url, allow_spend=True, phases=("journey",), seed=8)
        report = run_check(options, sleep=None)
        spent = sum(account.ledger.spent for account in server.backend.accounts.accounts.values())
        renders = len(server.backend.renders)
    assert spent >= 100 and renders == 1
    rules = {"B-REN-09", "B-REN-13", "B-REN-15", "B-SSE-06", "B-STATE-05", "B-UPL-11"}
    assert rules <= set(report.checked) and not rules & set(report.breaches)


def test_polls_wait_the_documented_interval_without_a_clock_to_move() -> None:
    """B-REN-10: on a real backend the walker waits 30 s between polls; B-REN-09 status only forward."""
    statuses = iter(["processing", "processing", "completed", "completed"])

    def backend(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_mock/health":
            return httpx.Response(404, json={"code": 404, "message": "Not Found", "data": None})
        if request.url.path == "/api/credits/balance/simple":
            return httpx.Response(200, json={"code": 0, "data": {"available": 5, "frozen": 0, "total": 5}})
        status = next(statuses)
        job = {"id": "render_1", "status": status, "progress": 100 if status == "completed" else 50}
        if status == "completed":
            job["output"] = {"url": "https://static1.nemovideo.ai/render-result/render_1.mp4"}
        return httpx.Response(200, json=job)

    waits: list[float] = []
    report = Report()
    target = Target(
        "http://backend.test",
        report=report,
        token="nmv_usr_x",
        transport=httpx.MockTransport(backend),
        sleep=waits.append,
    )
    walker = Walker(target.detect(), report, "journey")
    render = RenderRef(SessionRef(Account("nmv_usr_x", exclusive=False), "1", "task_1"), "render_1")
    walker.finish(render)
    assert waits == [POLL_INTERVAL_S, POLL_INTERVAL_S]  # none after the job finished
    assert render.status == "completed" and report.ok, report.console_lines()
    assert {"B-REN-05", "B-REN-09", "B-REN-14"} <= set(report.checked)


def test_options_are_checked() -> None:
    """B-ERR-01: unknown phases and an empty budget are refused before any request."""
    with pytest.raises(ValueError, match="unknown phases"):
        CheckOptions(base_url="http://127.0.0.1:9", phases=("probes", "everything"))
    with pytest.raises(ValueError, match="at least 1"):
        CheckOptions(base_url="http://127.0.0.1:9", max_examples=0)
    assert ALL_PHASES[0] == "probes" and ALL_PHASES[-1] == "stateful"
