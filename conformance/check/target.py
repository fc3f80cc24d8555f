"""The server under check: its base URL, whether it has the mock's control API, and what we may spend.

Against a real backend (no `/_mock`), only safe and cheap calls are made unless `allow_spend`:
no generation or edit messages, no uploads, no renders, and at most one anonymous token (the
per-IP allowance is small, B-AUTH-09). The control API, when present, is used without ever
resetting the server: `/_mock/accounts` for paid accounts (so nothing real is spent),
`/_mock/clock/advance` to move turns and renders on when its time scale is above 0, and
`/_mock/faults` to force a text-less edit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.check.report import Report

#: What the checker sends as the skill it speaks for (B-ATTR-01, B-ATTR-07).
ATTRIBUTION = {"X-Skill-Source": "nemo-video", "X-Skill-Version": "1.9", "X-Skill-Platform": "unknown"}
USER_AGENT = "nemo-contract/0.1"
PAID_CREDITS = 1_000_000
#: B-SSE-16: the client's hard timeout on a turn; also how far the clock moves to finish one.
TURN_SECONDS = 900.0
DEFAULT_TIMEOUT_S = 30.0

#: Operations by what a call may cost on a real backend.
RATE_LIMITED = frozenset({"anonymousToken"})  # B-AUTH-08/09: few per IP and week
SPENDING = frozenset({"runSse", "submitRender"})  # credits (B-CRED-04) or real render work
ASSET_WRITES = frozenset({"uploadFiles"})  # stores (or fetches) files in the account


@dataclass(frozen=True, slots=True)
class ControlInfo:
    """What `GET /_mock/health` says about the mock."""

    dialect: str
    time_scale: float
    render_shape: str
    error_status: str
    profile: str
    #: `v19` (1 token per client id and week, X-Client-Id required) or `v44` (5 per IP and hour).
    rate_limits: str = "v19"


class TargetError(RuntimeError):
    """The target cannot be checked at all (unreachable, no token)."""


class Target:
    """One server under check, with the HTTP client every phase shares."""

    def __init__(
        self,
        base_url: str,
        *,
        report: Report,
        token: str | None = None,
        allow_spend: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.report = report
        self.allow_spend = allow_spend
        self.timeout_s = timeout_s
        self._given_token = token
        self._sleep = sleep
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            event_hooks={"request": [self._count]},
        )
        self.control: ControlInfo | None = None
        self._primary: str | None = None
        self._other: str | None = None
        self._anonymous_used = False

    def _count(self, request: httpx.Request) -> None:
        self.report.sent()

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ what the server is

    def detect(self) -> Target:
        """Look for the control API; raise TargetError when nothing answers at all."""
        try:
            response = self.http.get("/_mock/health")
        except httpx.HTTPError as exc:
            raise TargetError(f"cannot reach {self.base_url}: {exc}") from None
        body = _json(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("status") == "ok":
            self.control = ControlInfo(
                dialect=str(body.get("dialect") or "documented"),
                time_scale=float(body.get("time_scale") or 0.0),
                render_shape=str(body.get("render_shape") or "A"),
                error_status=str(body.get("error_status") or "body"),
                profile=str(body.get("profile") or ""),
                rate_limits=str(body.get("rate_limits") or "v19"),
            )
        return self

    @property
    def v44_limits(self) -> bool:
        """A mock serving api-ref v4.4's token limits (B-AUTH-10): no X-Client-Id rules apply."""
        return self.control is not None and self.control.rate_limits == "v44"

    @property
    def has_control(self) -> bool:
        return self.control is not None

    @property
    def token_given(self) -> bool:
        """The primary account came with --token, so others may use it too."""
        return bool(self._given_token)

    @property
    def instant(self) -> bool:
        """A mock at time scale 0: turns and renders finish without waiting."""
        return self.control is not None and self.control.time_scale == 0

    @property
    def may_spend(self) -> bool:
        """Generation, edits, uploads and renders are allowed (a mock's credits are made up)."""
        return self.allow_spend or self.control is not None

    @property
    def dialect(self) -> str | None:
        return self.control.dialect if self.control else None

    def fuzzable(self, operation_id: str) -> bool:
        """Whether generated requests may be sent to this operation at all."""
        if operation_id in RATE_LIMITED:
            return self.has_control  # the mock only; its negative cases issue no token
        if operation_id == "runSse":
            return self.instant  # a generated turn must not block for minutes
        if operation_id in SPENDING or operation_id in ASSET_WRITES:
            return self.may_spend
        return True

    # ------------------------------------------------------------------ accounts

    def headers(self, token: str | None = None, *, attribution: bool = True) -> dict[str, str]:
        """Authorization for `token` (default: the primary one) and the skill's headers."""
        headers = dict(ATTRIBUTION) if attribution else {}
        value = self.primary_token() if token is None else token
        if value:
            headers["Authorization"] = f"Bearer {value}"
        return headers

    def primary_token(self) -> str:
        """--token, else a paid mock account, else one anonymous token."""
        if self._primary is None:
            if self._given_token:
                self._primary = self._given_token
            elif self.has_control:
                self._primary = self.new_account("paid", PAID_CREDITS)
            else:
                self._primary = self._anonymous_token()
        return self._primary

    def other_token(self) -> str | None:
        """A second account for the cross-account rules (U-16), or None when none can be had."""
        if self._other is None:
            if self.has_control:
                self._other = self.new_account("paid", PAID_CREDITS)
            elif self._given_token and not self._anonymous_used:
                self._other = self._anonymous_token()
        return self._other

    def renew_tokens(self) -> None:
        """Forget the made-up accounts' tokens (a probe moved the clock past their expiry): the
        next call makes new ones. A --token given is kept."""
        if self.has_control and not self._given_token:
            self._primary = None
            self._other = None

    def new_account(self, tier: str, credits: int) -> str:
        """A made-up account on the mock (`POST /_mock/accounts`)."""
        if not self.has_control:
            raise TargetError("made-up accounts need the mock's control API")
        response = self.http.post("/_mock/accounts", json={"tier": tier, "credits": credits})
        body = _json(response)
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or not isinstance(body.get("token"), str)
        ):
            raise TargetError(f"/_mock/accounts answered HTTP {response.status_code}: {response.text[:200]}")
        return str(body["token"])

    def _anonymous_token(self) -> str:
        self._anonymous_used = True
        client_id = f"nemo-contract-{uuid.uuid4().hex[:16]}"
        response = self.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": client_id})
        body = _json(response)
        data = body.get("data") if isinstance(body, dict) else None
        if (
            response.status_code != 200
            or not isinstance(data, dict)
            or not isinstance(data.get("token"), str)
        ):
            raise TargetError(
                f"no anonymous token (HTTP {response.status_code}: {response.text[:200]}); pass --token"
            )
        return str(data["token"])

    # ------------------------------------------------------------------ time

    def advance(self, seconds: float) -> bool:
        """Move the mock's clock on when it runs in real time; False when there is nothing to move."""
        if self.control is None or self.control.time_scale == 0:
            return False
        self.http.post("/_mock/clock/advance", json={"seconds": seconds})
        return True

    def wait(self, seconds: float) -> None:
        """Let `seconds` of server time pass: advance the mock's clock, or (real backend) sleep."""
        if self.advance(seconds) or self.instant:
            return
        if self._sleep is not None:
            self._sleep(seconds)

    @contextmanager
    def fault(self, rule: dict[str, Any]) -> Iterator[bool]:
        """Arm a one-shot fault rule for the next matching request; yields False without control."""
        if not self.has_control:
            yield False
            return
        response = self.http.post("/_mock/faults", json={"times": 1, **rule})
        yield response.status_code == 200


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
