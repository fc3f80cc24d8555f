"""The catalogue of planted bugs: each a mock that breaks one documented rule, and the rule ids that say so.

Every variant is the real mock with one change, and the mock's source is never edited. A bug that
shows on the wire is an ASGI wrapper (`conformance.planted.asgi`); one that lives in the backend's
state is a `Backend` subclass that uses its extension points only: the `sessions_factory`
argument, the `turn_planned` and `settle_turn` hooks, a public operation (`start_turn`,
`submit_render`, `authenticate`) overridden through `super()` or over public state (the
backend's `profile`, the accounts' `limits`). Credits a variant takes move through the ledger's own hold and
spend; only the overdraft writes the balance itself, since no ledger operation goes below zero.
`tests/conformance/test_planted_bugs.py` runs `nemo-contract check` against each and expects the
listed rule ids among its failures, and none of them against the unchanged mock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.types import ASGIApp, Scope

from conformance.planted.asgi import (
    CrashOnMalformedJson,
    HeaderRewrite,
    Headers,
    JsonRewrite,
    Match,
    RequestHeaders,
    RequestJson,
    StreamRewrite,
    bearer,
    set_header,
)
from mockserver.agent import Plan
from mockserver.api.requests import RenderRequest
from mockserver.backend import Backend
from mockserver.errors import ApiError, session_not_found
from mockserver.events import Apply
from mockserver.operations import Operation
from mockserver.settings import Settings
from mockserver.state.accounts import Account
from mockserver.state.ledger import Ledger
from mockserver.state.renders import RenderJob
from mockserver.state.sessions import Session, Sessions
from mockserver.testing import LiveServer, Wrapper

CREDITS = Match("GET", "/api/credits/balance/simple")
STATE = Match("GET", "/api/state/*")
RUN_SSE = Match("POST", "/run_sse")
SUBMIT = Match("POST", "/api/render/proxy/lambda")
POLL = Match("GET", "/api/render/proxy/lambda/{}")
DOWNLOAD = Match("GET", "/api/render/proxy/{}/download")
UPLOAD = Match("POST", "/api/upload-video/*")
ANONYMOUS_TOKEN = Match("POST", "/api/auth/anonymous-token")
EVERYTHING = Match(None, "/*")


@dataclass(frozen=True, slots=True)
class PlantedBug:
    """One broken mock: what is wrong, which rule ids must catch it, and how it is built."""

    name: str
    what: str
    catches: tuple[str, ...]
    backend_class: type[Backend] = Backend
    wrap: Wrapper | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def server(self, **settings: Any) -> LiveServer:
        """The variant as a live server (not started); `settings` over the variant's own."""
        merged = {"time_scale": 0.0, "seed": 7, "access_log": False, **self.settings, **settings}
        return LiveServer(Settings(**merged), backend_class=self.backend_class, wrap=self.wrap)


def json_rewrite(match: Match, edit: Callable[[Any, Scope], Any]) -> Wrapper:
    return lambda app, backend: JsonRewrite(app, match, edit)


def header_rewrite(match: Match, edit: Callable[[Headers], Headers]) -> Wrapper:
    return lambda app, backend: HeaderRewrite(app, match, edit)


def stream_rewrite(edit: Callable[[bytes], bytes], tail: bytes = b"") -> Wrapper:
    return lambda app, backend: StreamRewrite(app, RUN_SSE, edit, tail)


def _data(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------- wire edits


def _rename_available(body: Any, scope: Scope) -> Any:
    data = _data(body)
    if "available" in data:
        data["availableCredits"] = data.pop("available")
    return body


def _total_without_frozen(body: Any, scope: Scope) -> Any:
    data = _data(body)
    if data.get("frozen"):
        data["total"] = data["available"]
    return body


def _unknown_session_as_bad_token(body: Any, scope: Scope) -> Any:
    if isinstance(body, dict) and body.get("code") == 1002:
        body["code"] = 1001
    return body


def _cli_dialect_token_code(body: Any, scope: Scope) -> Any:
    if isinstance(body, dict) and body.get("code") == 1001:
        body["code"] = 1010  # the CLI gateway's code (B-ERR-06), not this API's
    return body


def _accept_unsupported(body: Any, scope: Scope) -> Any:
    if not isinstance(body, dict) or body.get("code") != 4001:
        return body
    entry = {
        "filename": "notes.txt",
        "file_type": "image",
        "cdn_url": "https://cdn.example.com/notes.txt",
        "duration": None,
        "width": 1,
        "height": 1,
        "fps": None,
        "hash": "0" * 32,
    }
    return {"code": 0, "message": "success", "data": {"files": [entry], "session_state_applied": True}}


def _submit_without_success(body: Any, scope: Scope) -> Any:
    """The shape A submit answer as v1.9 alone would have it: no documented `success` and `data`."""
    if isinstance(body, dict) and "status" in body:
        body.pop("success", None)
        body.pop("data", None)
    return body


def _drop_output_when_completed(body: Any, scope: Scope) -> Any:
    if isinstance(body, dict) and body.get("status") == "completed":
        body.pop("output", None)
    return body


def _token_in_output_url(body: Any, scope: Scope) -> Any:
    output = body.get("output") if isinstance(body, dict) else None
    if isinstance(output, dict) and isinstance(output.get("url"), str):
        output["url"] += f"?token={bearer(scope)}"
    return body


def _segments_without_duration(body: Any, scope: Scope) -> Any:
    draft = _data(body).get("state", {}).get("draft")
    for track in draft.get("t", []) if isinstance(draft, dict) else []:
        for segment in track.get("sg", []):
            segment.pop("d", None)
    return body


def _regressing_renders(app: ASGIApp, backend: Backend) -> ASGIApp:
    """A job reported completed once is reported processing on the next poll."""
    seen: set[str] = set()

    def edit(body: Any, scope: Scope) -> Any:
        if not isinstance(body, dict) or body.get("status") != "completed":
            return body
        if body.get("id") not in seen:
            seen.add(str(body.get("id")))
            return body
        return {**body, "status": "processing", "progress": 60, "output": None, "completedAt": None}

    return JsonRewrite(app, POLL, edit)


def _without_heartbeats(chunk: bytes) -> bytes:
    return b"" if chunk.strip() in (b'data: {"type":"heartbeat"}', b"data:") else chunk


def _with_event_ids(app: ASGIApp, backend: Backend) -> ASGIApp:
    count = 0

    def edit(chunk: bytes) -> bytes:
        nonlocal count
        if not chunk:
            return chunk
        count += 1
        return f"id: {count}\n".encode() + chunk

    return StreamRewrite(app, RUN_SSE, edit)


def _default_client_id(headers: Headers) -> Headers:
    if any(k.lower() == b"x-client-id" for k, _ in headers):
        return headers
    return [*headers, (b"x-client-id", b"planted-default-client")]


def _forgetful_renders(app: ASGIApp, backend: Backend) -> ASGIApp:
    """A used render id is accepted again: the mock gets a fresh id, the caller sees its own."""
    seen: set[str] = set()
    renamed = "planted.renamed_render"  # the scope note from the request to its answer

    def fresh_id(body: Any, scope: Scope) -> Any:
        render_id = body.get("id") if isinstance(body, dict) else None
        if isinstance(render_id, str):
            if render_id in seen:
                body["id"] = f"render_{uuid.uuid4().hex}"
                scope[renamed] = (body["id"], render_id)
            seen.add(render_id)
        return body

    def own_id(body: Any, scope: Scope) -> Any:
        if renamed not in scope or not isinstance(body, dict):
            return body
        fresh, own = scope[renamed]
        for job in (body, _data(body)):
            job.update({key: own for key, value in job.items() if value == fresh})  # id, taskId
        return body

    return RequestJson(JsonRewrite(app, SUBMIT, own_id), SUBMIT, fresh_id)


def charge(ledger: Ledger, what: str, amount: int, now: float) -> None:
    """Take up to `amount` credits for `what`, through the ledger's own hold and spend."""
    amount = min(amount, ledger.available)
    if amount > 0:
        ledger.freeze(what, amount, now)
        ledger.spend(what, now)


def _charged_exports(app: ASGIApp, backend: Backend) -> ASGIApp:
    """Each accepted export takes 10 credits from the caller."""

    def take_credits(body: Any, scope: Scope) -> Any:
        if not isinstance(body, dict):
            return body
        job = _data(body) or body  # shape B holds the job in `data`
        if job.get("status") in ("pending", "processing"):
            try:
                account = backend.authenticate(f"Bearer {bearer(scope)}")
            except ApiError:
                return body
            charge(account.ledger, f"export {job.get('id')}", 10, backend.clock.now())
        return body

    return JsonRewrite(app, SUBMIT, take_credits)


# ---------------------------------------------------------------------------- backend changes


class OpenSessions(Sessions):
    """Finds a session whoever asks."""

    def owned(self, account: Account, session_id: object) -> Session:
        session = self.sessions.get(session_id) if isinstance(session_id, str) else None
        if session is None:
            raise session_not_found(session_id)
        return session


class OpenSessionsBackend(Backend):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings, sessions_factory=OpenSessions)


class StubbornSilentEditBackend(Backend):
    """A text-less edit streams its tool events but leaves the draft as it was."""

    def turn_planned(self, plan: Plan, sse_fault: str | None) -> Plan:
        if sse_fault == "silent" or plan.silent:
            return replace(plan, steps=tuple(s for s in plan.steps if not isinstance(s, Apply)))
        return plan


class OverdraftBackend(Backend):
    """Never answers 2001: a turn without credits runs anyway and the balance goes negative."""

    def start_turn(self, account: Account, session: Session, text: str, sse_fault: str | None) -> Operation:
        ledger = account.ledger
        lent = max(0, max(self.profile.generation_cost, self.profile.edit_cost) - ledger.available)
        ledger.available += lent
        try:
            return super().start_turn(account, session, text, sse_fault)
        finally:
            ledger.available -= lent


class ChargedQuestionBackend(Backend):
    """Charges 5 credits for a question, which is free (B-CRED-08)."""

    def start_turn(self, account: Account, session: Session, text: str, sse_fault: str | None) -> Operation:
        op = super().start_turn(account, session, text, sse_fault)
        if op.cost == 0 and account.ledger.available >= 5:
            charge(account.ledger, f"{op.op_id} question", 5, self.clock.now())
        return op


class StuckHoldBackend(Backend):
    """A finished turn never spends its hold: the credits stay frozen (U-10)."""

    def settle_turn(self, op: Operation) -> None:
        if op.failed is not None:  # a failed turn still gives its credits back
            super().settle_turn(op)


class ImmortalTokensBackend(Backend):
    """Judges a token's expiry at the moment the clock started, so no token ever expires."""

    def authenticate(self, authorization: str | None) -> Account:
        return self.accounts.authenticate(authorization, self.clock.start)


class UncappedUploadsBackend(Backend):
    """Advertises its profile's upload cap (the settings' profile) but enforces none."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.profile = replace(self.profile, upload_cap_bytes=None)


class EndlessRendersBackend(Backend):
    """Every render job stays `processing` for good, as a `stall` fault would keep it."""

    def submit_render(
        self, account: Account, request: RenderRequest, headers_present: bool, render_fault: str | None
    ) -> RenderJob:
        return super().submit_render(account, request, headers_present, render_fault or "stall")


class LockedClientBackend(Backend):
    """A client id's one-token-per-week window never ends: after its token expires it gets none."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._lock_window()

    def reset(self) -> None:
        super().reset()
        self._lock_window()

    def _lock_window(self) -> None:
        self.accounts.limits = replace(self.accounts.limits, window_s=100 * 365 * 24 * 3600.0)


def _claim_for_a_day(body: Any, scope: Scope) -> Any:
    data = _data(body)
    if "expires_in" in data:
        data["expires_in"] = 86400
    return body


# ---------------------------------------------------------------------------- the catalogue

CATALOGUE: tuple[PlantedBug, ...] = (
    PlantedBug(
        "credits-field-renamed",
        "the balance calls `available` `availableCredits`",
        ("B-CRED-01",),
        wrap=json_rewrite(CREDITS, _rename_available),
    ),
    PlantedBug(
        "unknown-session-wrong-code",
        "an unknown session answers 1001 instead of 1002",
        ("B-SESS-07",),
        wrap=json_rewrite(STATE, _unknown_session_as_bad_token),
    ),
    PlantedBug(
        "total-ignores-frozen",
        "while credits are frozen the balance's total leaves them out",
        ("B-CRED-02",),
        wrap=json_rewrite(CREDITS, _total_without_frozen),
        settings={"time_scale": 1.0},
    ),
    PlantedBug(
        "heartbeats-missing",
        "streams carry no heartbeat in either form",
        ("B-SSE-06",),
        wrap=stream_rewrite(_without_heartbeats),
    ),
    PlantedBug(
        "render-goes-back",
        "a completed render is reported processing on the next poll",
        ("B-REN-09",),
        wrap=_regressing_renders,
    ),
    PlantedBug(
        "sse-wrong-content-type",
        "/run_sse answers text/plain",
        ("B-SSE-04",),
        wrap=header_rewrite(RUN_SSE, set_header("content-type", "text/plain; charset=utf-8")),
    ),
    PlantedBug(
        "malformed-json-500",
        "a body that is no JSON crashes the server with HTTP 500",
        ("U-12",),
        wrap=lambda app, backend: CrashOnMalformedJson(app),
    ),
    PlantedBug(
        "unsupported-format-accepted",
        "a .txt upload is stored instead of refused with 4001",
        ("B-UPL-07",),
        wrap=json_rewrite(UPLOAD, _accept_unsupported),
    ),
    PlantedBug(
        "foreign-session-readable",
        "any account can read any session",
        ("U-16",),
        backend_class=OpenSessionsBackend,
    ),
    PlantedBug(
        "silent-edit-changes-nothing",
        "a text-less edit leaves the draft unchanged",
        ("B-SSE-09",),
        backend_class=StubbornSilentEditBackend,
    ),
    PlantedBug(
        "done-event",
        "streams end with a `done` event",
        ("B-SSE-08",),
        wrap=stream_rewrite(lambda chunk: chunk, tail=b'data: {"type":"done"}\n\n'),
    ),
    PlantedBug(
        "event-ids",
        "stream events carry `id:` fields",
        ("B-SSE-04",),
        wrap=_with_event_ids,
    ),
    PlantedBug(
        "missing-client-id-accepted",
        "an anonymous token is issued without X-Client-Id",
        ("B-AUTH-02",),
        wrap=lambda app, backend: RequestHeaders(app, ANONYMOUS_TOKEN, _default_client_id),
    ),
    PlantedBug(
        "retry-after-missing",
        "HTTP 429 comes without Retry-After",
        ("U-03",),
        wrap=header_rewrite(ANONYMOUS_TOKEN, set_header("retry-after", None)),
    ),
    PlantedBug(
        "duplicate-render-accepted",
        "a used render id is accepted again",
        ("B-REN-03",),
        wrap=_forgetful_renders,
    ),
    PlantedBug(
        "export-charges-credits",
        "an export takes 10 credits",
        ("B-REN-15",),
        wrap=_charged_exports,
    ),
    PlantedBug(
        "no-2001-overdraft",
        "a generation without credits runs anyway and the balance goes negative",
        ("B-CRED-05", "B-CRED-02"),
        backend_class=OverdraftBackend,
    ),
    PlantedBug(
        "submit-without-success",
        "the shape A submit answer has no `success: true`, so an API-reference reader sees a refusal",
        ("B-REN-04",),
        wrap=json_rewrite(SUBMIT, _submit_without_success),
    ),
    PlantedBug(
        "completed-without-output",
        "a completed render has no `output`",
        ("B-REN-06",),
        wrap=json_rewrite(POLL, _drop_output_when_completed),
    ),
    PlantedBug(
        "segment-without-duration",
        "the state's draft segments lose `d`",
        ("B-STATE-04",),
        wrap=json_rewrite(STATE, _segments_without_duration),
    ),
    PlantedBug(
        "token-in-output-url",
        "the render URL carries the caller's token",
        ("B-AUTH-22",),
        wrap=json_rewrite(POLL, _token_in_output_url),
    ),
    PlantedBug(
        "undocumented-token-code",
        "a bad token answers the CLI gateway's code 1010",
        ("B-ERR-01",),
        wrap=json_rewrite(EVERYTHING, _cli_dialect_token_code),
    ),
    PlantedBug(
        "download-wrong-type",
        "the render download is application/octet-stream",
        ("U-14",),
        wrap=header_rewrite(DOWNLOAD, set_header("content-type", "application/octet-stream")),
    ),
    PlantedBug(
        "question-charged",
        "a question costs 5 credits",
        ("B-CRED-08",),
        backend_class=ChargedQuestionBackend,
    ),
    PlantedBug(
        "hold-never-spent",
        "a finished turn leaves its credits frozen",
        ("U-10",),
        backend_class=StuckHoldBackend,
    ),
    PlantedBug(
        "expired-tokens-accepted",
        "a token still works after its 7 days",
        ("B-AUTH-05",),
        backend_class=ImmortalTokensBackend,
    ),
    PlantedBug(
        "over-cap-upload-accepted",
        "the upload cap it advertises is not enforced",
        ("B-UPL-08",),
        backend_class=UncappedUploadsBackend,
    ),
    PlantedBug(
        "render-never-ends",
        "a render is still processing long after 90 seconds",
        ("B-REN-11",),
        backend_class=EndlessRendersBackend,
    ),
    PlantedBug(
        "client-locked-out",
        "a client id gets no new token once its first has expired",
        ("B-AUTH-08",),
        backend_class=LockedClientBackend,
    ),
    PlantedBug(
        "claim-lives-a-day",
        "a claim token says it lives one day",
        ("B-AUTH-20",),
        wrap=json_rewrite(Match("POST", "/api/auth/claim-token"), _claim_for_a_day),
    ),
)


def planted(name: str) -> PlantedBug:
    """One variant by name."""
    for bug in CATALOGUE:
        if bug.name == name:
            return bug
    raise KeyError(f"no planted bug {name!r}; have {', '.join(bug.name for bug in CATALOGUE)}")
