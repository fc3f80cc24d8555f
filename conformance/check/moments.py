"""Probes at the moments between events, reached by moving the mock's clock (control API only).

A backend's promises about time are kept or broken at moments no ordinary request reaches: the
last minute of a token's 7 days and the first minute after (B-AUTH-05, U-08), the end of the
one-token-per-week window of a client id (B-AUTH-08), a claim token's stated lifetime (B-AUTH-20)
and the end of a render's 30 to 90 seconds (B-REN-11). With the control API these cost one clock
advance each; without it (a real backend) they would cost days of waiting, so they are left out.

Moving the clock past 7 days expires every token of the run, the check's own included: the
probes end by renewing the tokens the other phases use (`Target.renew_tokens`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from conformance.check.exchange import Exchange
from conformance.check.report import Report
from conformance.check.samples import GENERATION
from conformance.check.target import PAID_CREDITS, Target
from conformance.check.walker import Account, Walker, exportable, job_of

WEEK_S = 7 * 24 * 3600.0
#: How close to an expiry the probes look, on either side (virtual seconds).
MARGIN_S = 60.0
#: B-REN-11: a render takes 30 to 90 seconds.
RENDER_MIN_S = 30.0
RENDER_MAX_S = 90.0
FINISHED = ("completed", "failed")
ANONYMOUS_TOKEN = "/api/auth/anonymous-token"
CREDITS = "/api/credits/balance/simple"


class Moments:
    """Each method is one probe at a moment in virtual time; `run()` takes them in clock order."""

    def __init__(self, target: Target, report: Report) -> None:
        self.target = target
        self.report = report
        self.walk = Walker(target, report, "probes")

    def run(self) -> None:
        if not self.target.has_control:
            self.report.note(
                "B-AUTH-05, B-AUTH-08 (window end), B-AUTH-20 and B-REN-11 probes left out: "
                "moving time needs the /_mock control API"
            )
            return
        if self.target.token_given:
            self.report.note("expiry probes left out: moving the clock 7 days would expire the given --token")
            return
        try:
            self.render_end()
            self.token_expiry()
        finally:
            self.target.renew_tokens()

    def advance(self, seconds: float) -> None:
        """Move the mock's clock, at any time scale."""
        self.target.http.post("/_mock/clock/advance", json={"seconds": seconds})

    # ------------------------------------------------------------------ renders

    def render_end(self) -> None:
        """B-REN-11: a render is not done at once, and is done once 90 virtual seconds have passed."""
        account = Account(self.target.new_account("paid", PAID_CREDITS), exclusive=True)
        session = self.walk.create_session(account)
        if session is None:
            return
        self.walk.turn(session, GENERATION, "generation")
        self.walk.state(session)
        if not exportable(session.draft):
            return
        render = self.walk.submit_render(session)
        if render is None:
            return
        first = self._poll(account, render.render_id)
        if first is not None:
            status = first.get("status")
            reason = f"a render was {status!r} at once, before {RENDER_MIN_S:g} s"
            self.walk.expect("B-REN-11", status not in FINISHED, reason)
        self.advance(RENDER_MAX_S + 1)
        after = self._poll(account, render.render_id)
        if after is not None:
            status = after.get("status")
            reason = f"a render was still {status!r} {RENDER_MAX_S + 1:g} s after it was submitted"
            self.walk.expect("B-REN-11", status in FINISHED, reason)

    def _poll(self, account: Account, render_id: str) -> dict[str, Any] | None:
        ex = self.walk.call("GET", f"/api/render/proxy/lambda/{render_id}", "getRender", account)
        return job_of(ex)

    # ------------------------------------------------------------------ tokens

    def token_expiry(self) -> None:
        """One anonymous client across its token's 7 days.

        B-AUTH-08: a second token inside the window is refused; B-AUTH-20: a claim token states
        its 7 days; U-08: the token still works a minute before its stated expiry; B-AUTH-05: it
        fails with 1001 a minute after; B-AUTH-08 and U-08: the window over, the same client id
        gets a new token, for the same account.
        """
        client = {"X-Client-Id": f"nemo-contract-{uuid.uuid4().hex[:16]}"}
        first = self._token(client)
        if first is None:
            return
        token, expires_at = first
        account = Account(token, exclusive=True)
        session = self.walk.create_session(account)
        if session is not None:
            self.claim_lifetime(account, session.task_id, session.session_id)
        again = self.walk.call(
            "POST", ANONYMOUS_TOKEN, "anonymousToken", None, attribution=False, headers=client
        )
        window = again is not None and again.status == 429
        if expires_at is None:
            self.report.note(
                "B-AUTH-05 not probed: the anonymous token states no expiry (the v1.0-v1.7 reading)"
            )
            return
        now = self._clock()
        if now is None:
            return
        self.advance(max(0.0, expires_at - now - MARGIN_S))
        alive = self._credits(account)
        if alive is not None:
            reason = f"the token failed (code {alive.code}) a minute before its stated expiry"
            self.walk.expect("U-08", alive.code == 0, reason, alive)
        self.advance(2 * MARGIN_S)
        dead = self._credits(account)
        if dead is not None:
            reason = f"a token a minute past its 7 days got HTTP {dead.status}, code {dead.code}, not 1001"
            self.walk.expect("B-AUTH-05", dead.code == 1001, reason, dead)
        renewed = self.walk.call(
            "POST", ANONYMOUS_TOKEN, "anonymousToken", None, attribution=False, headers=client
        )
        if renewed is None:
            return
        data = self.walk.data(renewed)
        rule = "B-AUTH-08" if window else "U-08"
        reason = f"after the 7 days the same client id got HTTP {renewed.status}, code {renewed.code}"
        if self.walk.expect(rule, data is not None and isinstance(data.get("token"), str), reason, renewed):
            assert data is not None
            user_id = data.get("user_id")
            if account.user_id is not None and isinstance(user_id, str):
                reason = f"the renewed token is for {user_id}, the client's account is {account.user_id}"
                self.walk.expect("U-08", user_id == account.user_id, reason, renewed)

    def claim_lifetime(self, account: Account, task_id: str, session_id: str) -> None:
        """B-AUTH-20: a claim token lives 7 days, and says so (`expires_in`, B-AUTH-19)."""
        body = {"task_id": task_id, "session_id": session_id}
        ex = self.walk.call("POST", "/api/auth/claim-token", "claimToken", account, json=body)
        data = self.walk.data(ex)
        if data is None:
            return
        lifetime = data.get("expires_in")
        reason = f"a claim token says it lives {lifetime!r} s, not 7 days ({WEEK_S:g} s)"
        self.walk.expect("B-AUTH-20", lifetime == WEEK_S, reason, ex)

    def _token(self, client: dict[str, str]) -> tuple[str, float | None] | None:
        ex = self.walk.call(
            "POST", ANONYMOUS_TOKEN, "anonymousToken", None, attribution=False, headers=client
        )
        data = self.walk.data(ex)
        if data is None or not isinstance(data.get("token"), str):
            self.report.note(f"expiry probes not run: no anonymous token (HTTP {ex and ex.status})")
            return None
        return data["token"], _epoch(data.get("expires_at"))

    def _credits(self, account: Account) -> Exchange | None:
        return self.walk.call("GET", CREDITS, "getCredits", account)

    def _clock(self) -> float | None:
        response = self.target.http.get("/_mock/clock")
        try:
            body = response.json()
        except ValueError:
            return None
        now = body.get("now") if isinstance(body, dict) else None
        return _epoch(now)


def _epoch(value: Any) -> float | None:
    """Epoch seconds of a number or an ISO 8601 time (`2026-03-18T00:00:00Z`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None
