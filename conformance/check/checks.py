"""The project's own response checks, each bound to rule ids of the behaviour catalogue.

Every check reads one `Exchange` and returns `Outcome`s: a rule that held, or a rule that broke
with a one-line reason. The same functions serve the probes, the stateful walk and the SSE
reader, and are registered with schemathesis (`@schemathesis.check`) as `nemo_<name>`, so a
plain `case.call_and_validate()` or `schemathesis run` applies them too; there a broken rule is
raised as a `RuleViolation` that carries its rule id.

- `envelope`: the `{code, message, data}` envelope (B-ENV-06, U-02);
- `documented_codes`: only documented statuses and body codes, paired as U-01/U-03 say (B-ERR-01);
- `credits_balance`: `total = available + frozen`, never negative (B-CRED-02);
- `content_types`: JSON, an event stream or an MP4 where each belongs (B-ENV-06, B-SSE-04, U-09, U-14);
- `token_masking`: no answer echoes the caller's token or puts a user token in a URL (B-AUTH-22);
- `response_shape`: the answer validates against its component schema (per operation rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import schemathesis
from jsonschema.exceptions import ValidationError, best_match

from conformance.check.exchange import Exchange, mask_tokens
from conformance.schemathesis_adapter import Failure, Severity
from contracts.spec import component_validator, validator

#: Operations whose every JSON answer is the envelope (B-ENV-06); renders answer job shapes.
ENVELOPE_OPERATIONS = frozenset(
    {"anonymousToken", "claimToken", "createSession", "uploadFiles", "getCredits", "getState"}
)
#: Render answers that are the job alone, in shape A or B (the submit answer is both at once in A).
POLLED_OPERATIONS = frozenset({"getRender", "cancelRender"})
#: Business codes and the HTTP status each may come with under the mapped option (U-01).
BUSINESS_STATUS = {1001: 401, 1002: 404, 2001: 402, 4001: 415, 4002: 413}
#: Plain HTTP errors whose envelope repeats the status as `code` (U-03, U-14).
HTTP_ERROR_CODES = frozenset({400, 402, 404, 409, 429})
DOCUMENTED_STATUSES = frozenset({200, *BUSINESS_STATUS.values(), *HTTP_ERROR_CODES})
DOCUMENTED_CODES = frozenset({0, *BUSINESS_STATUS, *HTTP_ERROR_CODES})
#: The component a successful answer must match, and the rule that promises that shape.
SUCCESS_SHAPES: dict[str, tuple[str, str]] = {
    "anonymousToken": ("AnonymousTokenResponse", "B-AUTH-03"),
    "claimToken": ("ClaimTokenResponse", "B-AUTH-19"),
    "createSession": ("SessionResponse", "B-SESS-03"),
    "uploadFiles": ("UploadResponse", "B-UPL-04"),
    "getCredits": ("CreditsResponse", "B-CRED-01"),
    "getState": ("StateResponse", "B-STATE-02"),
    "submitRender": ("RenderSubmitAnswer", "B-REN-04"),
    "getRender": ("RenderJob", "B-REN-06"),
    "cancelRender": ("RenderJob", "B-REN-12"),
}
USER_TOKEN_PREFIX = "nmv_usr_"  # B-AUTH-04
MAX_REASON = 240


@dataclass(frozen=True, slots=True)
class Outcome:
    """One rule applied to one answer: it held (`failure` None) or it broke, and why."""

    rule_id: str
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def held(rule_id: str) -> Outcome:
    return Outcome(rule_id)


def broken(rule_id: str, reason: str) -> Outcome:
    return Outcome(rule_id, reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…")


ResponseCheck = Callable[[Exchange], list[Outcome]]


# ---------------------------------------------------------------------------- the checks


def envelope(ex: Exchange) -> list[Outcome]:
    """B-ENV-06: `{code: 0, data}` on success; U-02: errors carry `code`, `message`, `data` null or object."""
    if ex.operation is None:
        return []
    body = ex.json
    has_code = isinstance(body, dict) and "code" in body
    if ex.operation not in ENVELOPE_OPERATIONS and not has_code:
        return []
    if not isinstance(body, dict):
        what = "JSON but no object" if ex.is_json else (ex.media_type or "untyped")
        return [broken("B-ENV-06", f"HTTP {ex.status} answer is no JSON envelope ({what})")]
    code = ex.code
    if code is None:
        return [broken("B-ENV-06", f"the envelope has no integer `code`: {_keys(body)}")]
    if code == 0:
        if "data" not in body:
            return [broken("B-ENV-06", f"a success envelope without `data`: {_keys(body)}")]
        return [held("B-ENV-06")]
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        return [broken("U-02", f"error {code} carries no `message` text: {_keys(body)}")]
    if body.get("data") is not None and not isinstance(body.get("data"), dict):
        return [broken("U-02", f"error {code} has `data` of type {type(body['data']).__name__}")]
    return [held("U-02")]


def documented_codes(ex: Exchange) -> list[Outcome]:
    """B-ERR-01: documented statuses and codes only; U-01/U-03: how codes and statuses pair."""
    if ex.operation is None:
        return []
    out = []
    if ex.status not in DOCUMENTED_STATUSES:
        out.append(broken("B-ERR-01", f"HTTP {ex.status} is no documented answer"))
    else:
        out.append(held("B-ERR-01"))
    code = ex.code
    if code is None:
        if ex.status in HTTP_ERROR_CODES and not _adk_detail(ex):
            out.append(broken("U-03", f"HTTP {ex.status} without an envelope repeating the status"))
    elif code not in DOCUMENTED_CODES:
        out.append(broken("B-ERR-01", f"body code {code} is not documented"))
    elif code in BUSINESS_STATUS:
        if ex.status in (200, BUSINESS_STATUS[code]):
            out.append(held("U-01"))
        else:
            out.append(broken("U-01", f"body code {code} came with HTTP {ex.status}"))
    elif code in HTTP_ERROR_CODES:
        if ex.status == code:
            out.append(held("U-03"))
        else:
            out.append(broken("U-03", f"envelope code {code} came with HTTP {ex.status}"))
    elif code == 0 and ex.status != 200:
        out.append(broken("B-ENV-06", f"a success envelope with HTTP {ex.status}"))
    if ex.status == 429:
        retry_after = ex.headers.get("retry-after", "")
        if retry_after.strip().isdigit():
            out.append(held("U-03"))
        else:
            out.append(broken("U-03", f"HTTP 429 without a Retry-After in seconds ({retry_after!r})"))
    return out


def credits_balance(ex: Exchange) -> list[Outcome]:
    """B-CRED-02: `total = available + frozen`, and no figure is negative."""
    if ex.operation != "getCredits" or ex.code != 0:
        return []
    data = ex.json.get("data")
    if not isinstance(data, dict):
        return []
    available, frozen, total = (data.get(name) for name in ("available", "frozen", "total"))
    if isinstance(available, int) and isinstance(frozen, int) and isinstance(total, int):
        return [balance_outcome(available, frozen, total)]
    return []  # the shape check names the missing field (B-CRED-01)


def balance_outcome(available: int, frozen: int, total: int) -> Outcome:
    """B-CRED-02 for one balance."""
    if min(available, frozen, total) < 0:
        return broken(
            "B-CRED-02", f"a negative balance: available {available}, frozen {frozen}, total {total}"
        )
    if total != available + frozen:
        return broken("B-CRED-02", f"total {total} != available {available} + frozen {frozen}")
    return held("B-CRED-02")


def content_types(ex: Exchange) -> list[Outcome]:
    """B-ENV-06 JSON answers; B-SSE-04 an event stream, or U-09 a JSON refusal; U-14 an MP4 download."""
    if ex.operation is None:
        return []
    media = ex.media_type
    if ex.operation == "runSse" and ex.status == 200:
        if media == "text/event-stream":
            return [held("B-SSE-04")]
        if media == "application/json":
            if ex.code in BUSINESS_STATUS:
                return [held("U-09")]
            return [broken("U-09", f"a JSON answer with code {ex.code} instead of a stream")]
        return [broken("B-SSE-04", f"/run_sse answered {media or 'no content type'}, not text/event-stream")]
    if ex.operation == "downloadRender" and ex.status == 200:
        if media == "video/mp4" or (media == "application/json" and ex.code in BUSINESS_STATUS):
            return [held("U-14")]
        return [broken("U-14", f"the download came as {media or 'no content type'}, not video/mp4")]
    if media == "application/json":
        return [held("B-ENV-06")]
    return [
        broken("B-ENV-06", f"HTTP {ex.status} answered {media or 'no content type'}, not application/json")
    ]


def token_masking(ex: Exchange) -> list[Outcome]:
    """B-AUTH-22: no answer echoes the caller's token, and no URL in it carries a user token."""
    if ex.operation is None:
        return []
    token = ex.token
    if token and len(token) >= 8 and ex.operation != "anonymousToken":
        if token.encode() in ex.body:
            return [broken("B-AUTH-22", "the answer body echoes the caller's bearer token")]
        if any(token in value for value in ex.headers.values()):
            return [broken("B-AUTH-22", "a response header echoes the caller's bearer token")]
    if ex.is_json:
        for url in _urls(ex.json):
            if USER_TOKEN_PREFIX in url:
                return [broken("B-AUTH-22", f"a URL in the answer carries a user token: {mask_tokens(url)}")]
    return [held("B-AUTH-22")]


def response_shape(ex: Exchange) -> list[Outcome]:
    """The answer matches its component in openapi.yaml; a draft in a state against draft.schema.json."""
    if ex.operation is None or not ex.is_json or ex.status >= 500:
        return []
    body = ex.json
    code = ex.code
    if code is not None and code != 0:
        return _validate("ErrorEnvelope", body, "U-02")
    shape = SUCCESS_SHAPES.get(ex.operation)
    if shape is None or ex.status != 200:
        return []
    component, rule_id = shape
    if ex.operation in POLLED_OPERATIONS and isinstance(body, dict) and "success" in body:
        rule_id = "B-REN-07"  # shape B; every submit answer carries `success` (B-REN-04)
    if ex.operation == "getState":
        return _state_shape(body)
    return _validate(component, body, rule_id)


def _state_shape(body: Any) -> list[Outcome]:
    """B-STATE-02 for the state answer; its draft on its own against the draft schema (B-STATE-04)."""
    errors = list(component_validator("StateResponse").iter_errors(body))
    outer = [e for e in errors if list(e.absolute_path)[:3] != ["data", "state", "draft"]]
    out = [_outcome_of("B-STATE-02", outer)]
    draft = body.get("data", {}).get("state", {}).get("draft") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        out.append(draft_outcome(draft))
    return out


def draft_outcome(draft: Any) -> Outcome:
    """B-STATE-04 (U-17: null before the first generation)."""
    if draft is None:
        return held("B-STATE-04")
    return _outcome_of("B-STATE-04", list(validator("draft").iter_errors(draft)), prefix="draft")


def _validate(component: str, body: Any, rule_id: str) -> list[Outcome]:
    return [_outcome_of(rule_id, list(component_validator(component).iter_errors(body)))]


def _outcome_of(rule_id: str, errors: list[ValidationError], prefix: str = "") -> Outcome:
    if not errors:
        return held(rule_id)
    error = best_match(errors)
    where = ".".join(str(p) for p in [*filter(None, [prefix]), *error.absolute_path]) or "the body"
    return broken(rule_id, f"at {where}: {error.message}")


RESPONSE_CHECKS: tuple[ResponseCheck, ...] = (
    envelope,
    documented_codes,
    content_types,
    response_shape,
    credits_balance,
    token_masking,
)


def check_exchange(ex: Exchange) -> list[Outcome]:
    """Every response check on one answer."""
    return [outcome for check in RESPONSE_CHECKS for outcome in check(ex)]


# ---------------------------------------------------------------------------- helpers


def _keys(body: dict[str, Any]) -> str:
    return "keys " + ", ".join(sorted(map(str, body))) if body else "an empty object"


def _adk_detail(ex: Exchange) -> bool:
    """B-ADK-07: ADK's own `{"detail": ...}` 404 for an unknown session on /run_sse."""
    body = ex.json
    return ex.operation == "runSse" and ex.status == 404 and isinstance(body, dict) and "detail" in body


def _urls(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls(item)


# ---------------------------------------------------------------------------- schemathesis


class RuleViolation(Failure):
    """A broken catalogue rule, raised into schemathesis' failure reporting."""

    code: ClassVar[str] = "ST901"
    kind_title: ClassVar[str] = "NemoVideo contract rule broken"

    __slots__ = ("rule_id",)

    def __init__(self, *, rule_id: str, operation: str | None, message: str) -> None:
        super().__init__(
            operation=operation, title=f"{rule_id} broken", message=message, severity=Severity.HIGH
        )
        self.rule_id = rule_id

    @property
    def _unique_key(self) -> str:
        return f"{self.rule_id}|{self.message}"


def _register(check: ResponseCheck) -> Callable[..., None]:
    def schemathesis_check(ctx: Any, response: Any, case: Any) -> None:
        operation_id = case.operation.definition.raw.get("operationId")
        ex = Exchange.from_schemathesis(response, operation_id)
        failures = [o for o in check(ex) if not o.ok]
        if failures:
            first = failures[0]
            raise RuleViolation(
                rule_id=first.rule_id, operation=case.operation.label, message=first.failure or ""
            )

    schemathesis_check.__name__ = f"nemo_{check.__name__}"
    schemathesis_check.__doc__ = check.__doc__
    schemathesis.check(schemathesis_check)
    return schemathesis_check


#: The checks as schemathesis knows them, in `RESPONSE_CHECKS` order.
SCHEMATHESIS_CHECKS: tuple[Callable[..., None], ...] = tuple(_register(check) for check in RESPONSE_CHECKS)
