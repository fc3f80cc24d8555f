"""The steps of a user's path through the API, each checked as it is taken.

token -> session -> messages (questions, a generation, edits) -> uploads -> state -> render ->
poll -> download. After every step the balance holds `total = available + frozen`, never negative
(B-CRED-02); a draft matches its schema (B-STATE-04) and is export-ready after a generation
(B-STATE-05); a render's status only moves forward (B-REN-09) and export leaves credits
unchanged (B-REN-15); another account's session is never readable (U-16). The deterministic
journey and the hypothesis machine (`conformance.check.stateful`) both walk with these steps.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from conformance.check.checks import Outcome, broken, check_exchange, held
from conformance.check.exchange import Exchange
from conformance.check.report import Report
from conformance.check.samples import tiny_png
from conformance.check.sse import Turn, run_request, stream_turn
from conformance.check.target import PAID_CREDITS, TURN_SECONDS, Target

TurnKind = Literal["question", "generation", "edit"]
ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}  # B-REN-09
FINISHED = frozenset({"completed", "failed"})
#: B-REN-10: the documented cadence; against the mock the clock is moved instead of waited for.
POLL_INTERVAL_S = 30.0
MAX_POLLS = 10
MP4_BRAND_BOX = b"ftyp"

Balance = tuple[int, int, int]  # available, frozen, total


@dataclass
class Account:
    """A caller: its token, its user id once seen, and the balance its next free step must keep."""

    token: str
    exclusive: bool  # nobody else uses it, so balances can be compared between steps
    user_id: str | None = None
    baseline: Balance | None = None


@dataclass
class SessionRef:
    account: Account
    session_id: str
    task_id: str
    generated: bool = False
    draft: Any = None
    uploads: list[str] = field(default_factory=list)


@dataclass
class RenderRef:
    session: SessionRef
    render_id: str
    status: str = "pending"
    progress: float = 0.0
    polls: int = 0

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def exportable(draft: Any) -> bool:
    """B-STATE-05: `t` exists and some track has a non-empty `sg`."""
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return isinstance(tracks, list) and any(
        isinstance(track, dict) and isinstance(track.get("sg"), list) and track["sg"] for track in tracks
    )


def job_of(ex: Exchange | None) -> dict[str, Any] | None:
    """The job in a render answer of either shape (B-REN-06/07), or None for a refusal."""
    if ex is None or ex.status != 200 or not isinstance(ex.json, dict) or ex.code not in (None, 0):
        return None
    body = ex.json
    job = body.get("data") if body.get("success") is True else body
    return job if isinstance(job, dict) and "status" in job else None


def documented_submit(body: Any) -> bool:
    """B-REN-04: the one documented submit answer, `{"success": true, "data": {id, status, progress}}`."""
    data = body.get("data") if isinstance(body, dict) and body.get("success") is True else None
    return isinstance(data, dict) and all(key in data for key in ("id", "status", "progress"))


def output_url(job: dict[str, Any]) -> Any:
    """`output.url` (shape A) or `outputUrl` (shape B)."""
    output = job.get("output")
    return output.get("url") if isinstance(output, dict) else job.get("outputUrl")


class Walker:
    """Takes checked steps against a target, recording every outcome in the report."""

    def __init__(self, target: Target, report: Report, phase: str) -> None:
        self.target = target
        self.report = report
        self.phase = phase

    # ------------------------------------------------------------------ plumbing

    def judge(self, outcomes: list[Outcome], ex: Exchange | None = None) -> bool:
        return self.report.record(outcomes, ex, self.phase)

    def expect(self, rule_id: str, ok: bool, reason: str, ex: Exchange | None = None) -> bool:
        """Record `rule_id` as held when `ok`, else as broken for `reason`."""
        self.judge([held(rule_id) if ok else broken(rule_id, reason)], ex)
        return ok

    def call(
        self,
        method: str,
        path: str,
        operation_id: str,
        account: Account | None,
        *,
        attribution: bool = True,
        **kwargs: Any,
    ) -> Exchange | None:
        """One request with the account's token; every response check is applied to the answer."""
        headers = self.target.headers(account.token if account else "", attribution=attribution)
        headers.update(kwargs.pop("headers", {}))
        try:
            response = self.target.http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            self.expect("B-ERR-01", False, f"{method} {path}: no answer ({type(exc).__name__}: {exc})")
            return None
        ex = Exchange.from_httpx(response, operation_id)
        self.judge(check_exchange(ex), ex)
        return ex

    @staticmethod
    def data(ex: Exchange | None) -> dict[str, Any] | None:
        """`data` of a success envelope."""
        if ex is None or ex.code != 0 or not isinstance(ex.json, dict):
            return None
        data = ex.json.get("data")
        return data if isinstance(data, dict) else None

    # ------------------------------------------------------------------ accounts and credits

    def account(self, fresh: bool = False) -> Account:
        """The primary account, or (with the control API) a fresh paid one per scenario."""
        if fresh and self.target.has_control:
            return Account(self.target.new_account("paid", PAID_CREDITS), exclusive=True)
        return Account(self.target.primary_token(), exclusive=not self.target.token_given)

    def balance(self, account: Account) -> Balance | None:
        """Read the balance (B-CRED-01/02 by the response checks); None when it cannot be read."""
        data = self.data(self.call("GET", "/api/credits/balance/simple", "getCredits", account))
        if data is None:
            return None
        available, frozen, total = (data.get(name) for name in ("available", "frozen", "total"))
        if isinstance(available, int) and isinstance(frozen, int) and isinstance(total, int):
            return available, frozen, total
        return None

    def settle(self, account: Account) -> None:
        """After a step that may spend: the balance becomes the baseline for free steps."""
        account.baseline = self.balance(account)

    def unchanged(self, account: Account, rule_id: str, what: str) -> None:
        """After a free step: the balance is still the baseline (only for accounts nobody else uses)."""
        now = self.balance(account)
        before = account.baseline
        account.baseline = now
        if not account.exclusive or before is None or now is None:
            return
        self.expect(
            rule_id,
            (now[0], now[2]) == (before[0], before[2]),
            f"{what} moved credits: available/total {before[0]}/{before[2]} -> {now[0]}/{now[2]}",
        )

    # ------------------------------------------------------------------ sessions and state

    def create_session(self, account: Account) -> SessionRef | None:
        body = {"task_name": "nemo-contract check", "language": "en"}
        ex = self.call("POST", "/api/tasks/me/with-session/nemo_agent", "createSession", account, json=body)
        data = self.data(ex)
        session_id = data.get("session_id") if data else None
        task_id = data.get("task_id") if data else None
        if not self.expect(
            "B-SESS-01",
            isinstance(session_id, str) and isinstance(task_id, str),
            f"create-session gave no session (code {ex and ex.code})",
            ex,
        ):
            return None
        assert isinstance(session_id, str) and isinstance(task_id, str) and data is not None
        if isinstance(data.get("user_id"), str):
            account.user_id = data["user_id"]
        return SessionRef(account, session_id, task_id)

    def state(self, session: SessionRef) -> dict[str, Any] | None:
        """Read the state: draft shape by the response checks; ids and export readiness here."""
        path = f"/api/state/nemo_agent/me/{session.session_id}/latest"
        ex = self.call("GET", path, "getState", session.account)
        data = self.data(ex)
        if not self.expect(
            "B-STATE-01", data is not None, f"the owner cannot read its session ({ex and ex.code})", ex
        ):
            return None
        assert data is not None
        user_id = data.get("user_id")
        if isinstance(user_id, str) and user_id:
            known = session.account.user_id
            self.expect(
                "B-STATE-08",
                known in (None, user_id),
                f"state names user {user_id}, the session's is {known}",
                ex,
            )
            session.account.user_id = user_id
        state = data.get("state") if isinstance(data.get("state"), dict) else {}
        assert isinstance(state, dict)
        draft = state.get("draft")
        if session.generated:
            self.expect(
                "B-STATE-05", exportable(draft), "after a generation the draft is not export-ready", ex
            )
        else:
            self.expect(
                "U-17", not exportable(draft), "an export-ready draft before anything was generated", ex
            )
        session.draft = draft
        return state

    # ------------------------------------------------------------------ messages

    def turn(
        self,
        session: SessionRef,
        text: str,
        kind: TurnKind,
        *,
        user_id: str | None = "me",
        changes: bool = False,
    ) -> Turn | None:
        """One message, read as a live stream; credits checked mid-turn and after it.

        `changes`: the edit cannot be a no-op, so even a text-less one must change the draft (B-SSE-09).
        """
        account = session.account
        before = self.state(session) if changes else None
        if account.baseline is None:
            self.settle(account)

        def on_open(response: httpx.Response) -> None:
            if response.status_code == 200 and "text/event-stream" in response.headers.get(
                "content-type", ""
            ):
                self._mid_turn(account, kind)
            self.target.advance(TURN_SECONDS)  # at time scale > 0 the turn then runs to its end at once

        body = run_request(session.session_id, text, user_id=user_id)
        try:
            turn = stream_turn(self.target, body, token=account.token, on_open=on_open)
        except httpx.HTTPError as exc:
            self.expect("B-SSE-08", False, f"/run_sse: no answer ({type(exc).__name__}: {exc})")
            return None
        self.judge(turn.outcomes, turn.exchange)
        if user_id != "me":
            form = "absent" if user_id is None else "the caller's id"
            reason = f"user_id {form} was refused (HTTP {turn.exchange.status}, code {turn.exchange.code})"
            self.expect("B-SSE-03", turn.streamed, reason, turn.exchange)
        self._after_turn(session, kind, turn, before)
        return turn

    def _mid_turn(self, account: Account, kind: TurnKind) -> None:
        figures = self.balance(account)  # B-CRED-02 while credits may be frozen
        if figures is None or kind == "question" or self.target.instant:
            return  # at time scale 0 the turn may be over already
        self.expect("B-SSE-15", figures[1] > 0, f"no credits frozen while a {kind} runs")

    def _after_turn(
        self, session: SessionRef, kind: TurnKind, turn: Turn, before: dict[str, Any] | None
    ) -> None:
        account = session.account
        if not turn.streamed:
            if turn.exchange.code == 2001:  # refused before any stream (U-09): nothing may move
                self.unchanged(account, "B-CRED-05", "a refused turn")
            return
        if kind == "question":
            self.unchanged(account, "B-CRED-08", "a question")
            return
        figures = self.balance(account)
        if account.exclusive and figures is not None and turn.closed:
            self.expect("U-10", figures[1] == 0, f"{figures[1]} credits still frozen after the {kind} ended")
        account.baseline = figures
        if kind == "generation" and turn.closed and turn.run_error is None:
            session.generated = True
        after = self.state(session)
        if after is None:
            return
        if turn.text_less and turn.closed and before is not None:
            reason = "a text-less edit left the draft unchanged"
            self.expect("B-SSE-09", after.get("draft") != before.get("draft"), reason, turn.exchange)
        if kind == "edit" and session.generated:
            reason = "after an edit the session lost its timeline"
            self.expect("B-SESS-08", exportable(after.get("draft")), reason, turn.exchange)

    # ------------------------------------------------------------------ uploads

    def upload(self, session: SessionRef) -> None:
        """A tiny PNG as multipart `files` (B-UPL-02): stored, typed, listed in the state."""
        name = f"still-{uuid.uuid4().hex[:8]}.png"
        path = f"/api/upload-video/nemo_agent/me/{session.session_id}"
        files = [("files", (name, tiny_png(), "image/png"))]
        ex = self.call("POST", path, "uploadFiles", session.account, files=files)
        data = self.data(ex)
        listed = data.get("files") if data else None
        entry = next(
            (f for f in listed or [] if isinstance(f, dict) and f.get("filename") == name),
            None,
        )
        if not self.expect(
            "B-UPL-04", entry is not None, f"a PNG upload was not stored (code {ex and ex.code})", ex
        ):
            return
        assert entry is not None and data is not None
        self.expect(
            "B-UPL-06",
            entry.get("file_type") == "image",
            f"a PNG came back as {entry.get('file_type')!r}",
            ex,
        )
        self.expect(
            "B-UPL-12", data.get("session_state_applied") is True, "session_state_applied is not true", ex
        )
        session.uploads.append(name)
        state = self.state(session)
        infos = state.get("video_infos") if state else None
        present = isinstance(infos, list) and any(
            isinstance(i, dict) and i.get("filename") == name for i in infos
        )
        self.expect("B-UPL-11", present, f"{name} is not in the state's video_infos", ex)
        self.unchanged(session.account, "B-CRED-08", "an upload")

    # ------------------------------------------------------------------ renders

    def submit_render(self, session: SessionRef) -> RenderRef | None:
        """Export the state's draft as it is (B-REN-01, B-REN-19); it costs nothing (B-REN-15)."""
        account = session.account
        if account.baseline is None:
            self.settle(account)
        render_id = f"render_{uuid.uuid4().hex}"
        body = {
            "id": render_id,
            "sessionId": session.session_id,
            "draft": session.draft,
            "output": {"format": "mp4", "quality": "high"},
        }
        ex = self.call("POST", "/api/render/proxy/lambda", "submitRender", account, json=body)
        job = job_of(ex)
        reason = f"an export-ready draft was not accepted (HTTP {ex and ex.status}, code {ex and ex.code})"
        if not self.expect("B-REN-01", job is not None, reason, ex):
            return None
        assert job is not None
        self.expect(
            "B-REN-03", job.get("id") == render_id, f"the job says id {job.get('id')!r}, not {render_id}", ex
        )
        new = job.get("status") in ("pending", "processing")
        self.expect("B-REN-04", new, f"a new job has status {job.get('status')!r}", ex)
        documented = ex is not None and documented_submit(ex.json)
        reason = "the submit answer lacks the documented `success: true` and `data` (api-ref v4.4)"
        self.expect("B-REN-04", documented, reason, ex)
        self.judge(self._shape(ex), ex)
        render = RenderRef(session, render_id)
        self._track(render, job, ex)
        self.unchanged(account, "B-REN-15", "an export")
        return render

    def duplicate_render(self, render: RenderRef) -> None:
        """B-REN-03, U-14: a used id is refused with HTTP 409."""
        session = render.session
        body = {"id": render.render_id, "sessionId": session.session_id, "draft": session.draft}
        ex = self.call("POST", "/api/render/proxy/lambda", "submitRender", session.account, json=body)
        if ex is not None:
            reason = f"a used render id got HTTP {ex.status} (code {ex.code}), not 409"
            self.expect("B-REN-03", ex.status == 409 and ex.code == 409, reason, ex)

    def poll(self, render: RenderRef) -> None:
        """B-REN-05/09: status only moves forward; a finished job stays as it is."""
        if render.polls and not render.finished:
            self.target.wait(POLL_INTERVAL_S)
        render.polls += 1
        path = f"/api/render/proxy/lambda/{render.render_id}"
        ex = self.call("GET", path, "getRender", render.session.account)
        job = job_of(ex)
        if not self.expect(
            "B-REN-05", job is not None, f"the owner cannot poll its render (HTTP {ex and ex.status})", ex
        ):
            return
        assert job is not None
        self.judge(self._shape(ex), ex)
        self._track(render, job, ex)
        if job.get("status") == "completed":
            url = output_url(job)
            good = isinstance(url, str) and "/render-result/" in url and url.endswith(".mp4")
            self.expect("B-REN-14", good, f"a finished render's URL is {url!r}", ex)
        self.unchanged(render.session.account, "B-REN-15", "polling an export")

    def finish(self, render: RenderRef) -> None:
        """Poll until the job ends (at most the documented 10 polls, B-REN-10), then once more."""
        while not render.finished and render.polls < MAX_POLLS:
            self.poll(render)
        self.poll(render)

    def download(self, render: RenderRef) -> None:
        """B-REN-13: the finished file as video/mp4; before completion HTTP 409 (U-14)."""
        account = render.session.account
        ex = self.call("GET", f"/api/render/proxy/{render.render_id}/download", "downloadRender", account)
        if ex is None:
            return
        if ex.status == 200 and ex.media_type == "video/mp4":
            self.expect("B-REN-13", ex.body[4:8] == MP4_BRAND_BOX, "the downloaded file is no MP4", ex)
            render.status = "completed"  # the server says so; later polls must agree (B-REN-09)
        elif ex.status == 409 and ex.code == 409:
            self.expect(
                "U-14", render.status != "completed", "a completed render answered 409 to its download", ex
            )
        elif render.status == "completed" or ex.status not in (200, 409):
            self.expect("B-REN-13", False, f"the download answered HTTP {ex.status} (code {ex.code})", ex)
        self.unchanged(account, "B-REN-15", "a download")

    def _shape(self, ex: Exchange | None) -> list[Outcome]:
        """With the control API the configured shape is known: A (B-REN-06) or B (B-REN-07)."""
        control = self.target.control
        if control is None or ex is None or not isinstance(ex.json, dict):
            return []
        # Shape A keeps `status` at the top level, also beside the submit answer's `data` (B-REN-04).
        shape_b = ex.json.get("success") is True and "status" not in ex.json
        if control.render_shape == "B":
            return [
                held("B-REN-07") if shape_b else broken("B-REN-07", "a shape A answer from a shape B server")
            ]
        return [broken("B-REN-06", "a shape B answer from a shape A server") if shape_b else held("B-REN-06")]

    def _track(self, render: RenderRef, job: dict[str, Any], ex: Exchange | None) -> None:
        status = job.get("status")
        progress = job.get("progress")
        if status not in ORDER:
            return  # the shape check names it
        if render.finished and status != render.status:
            self.expect("B-REN-09", False, f"a {render.status} render came back as {status}", ex)
        elif ORDER[status] < ORDER[render.status]:
            self.expect("B-REN-09", False, f"status went back from {render.status} to {status}", ex)
        elif isinstance(progress, int | float) and progress < render.progress and not render.finished:
            self.expect("B-REN-09", False, f"progress went back from {render.progress} to {progress}", ex)
        else:
            self.expect("B-REN-09", True, "", ex)
            if not render.finished:
                render.status = status
        if isinstance(progress, int | float) and not isinstance(progress, bool):
            render.progress = max(render.progress, float(progress))

    # ------------------------------------------------------------------ other accounts

    def foreign(self, session: SessionRef, render: RenderRef | None = None) -> None:
        """U-16: another account reads neither the session nor its renders."""
        other_token = self.target.other_token()
        if other_token is None:
            self.report.note(
                "U-16 not checked: a second account needs --token (plus one anonymous token) or /_mock"
            )
            return
        other = Account(other_token, exclusive=False)
        ex = self.call("GET", f"/api/state/nemo_agent/me/{session.session_id}/latest", "getState", other)
        if ex is not None:
            reason = f"another account read the session (HTTP {ex.status}, code {ex.code})"
            self.expect("U-16", ex.code == 1002, reason, ex)
        if render is not None:
            ex = self.call("GET", f"/api/render/proxy/lambda/{render.render_id}", "getRender", other)
            if ex is not None:
                reason = f"another account polled the render (HTTP {ex.status}, code {ex.code})"
                self.expect("U-16", job_of(ex) is None, reason, ex)
