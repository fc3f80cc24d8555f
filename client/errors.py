"""The client's error model: one exception per documented failure, each with a one-line remedy.

What an error means lives here (its class, code and message); what to do about it lives in the
remedy table (`client.remedies`): each class names its `kind`, and its `remedy` is that row's,
in the wording of the client's profile when a client made it (`error_from_response(remedies=...)`).

Business codes travel in the envelope `{"code": <n>, "message": ..., "data": null}` (B-ERR-01);
which HTTP status goes with them is undocumented (U-01), so a code is recognised whether it comes
with HTTP 200 or with a mapped status (401/404/402/415/413). Plain HTTP failures (400, 402, 429)
carry an envelope whose code equals the status (U-03), but a real backend may answer with HTML or
nothing at all, so `error_from_response` never trusts the body's shape.

No message ever carries a user token: anything that starts with `nmv_usr_` is masked (B-AUTH-22).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from contracts import wording

from .remedies import ErrorKind, RemedyTable, default_remedies

_TOKEN_RE = re.compile(re.escape(wording.USER_TOKEN_PREFIX) + r"[^\s\"'<>&,;]*")
_MAX_MESSAGE = 300


def mask_secrets(text: str) -> str:
    """`text` with every user token (`nmv_usr_…`) replaced by `nmv_usr_***` (B-AUTH-22)."""
    return _TOKEN_RE.sub(wording.USER_TOKEN_PREFIX + "***", text)


class ConfigError(Exception):
    """The environment or the config directory holds something the client cannot use."""


class NemoError(Exception):
    """A failed call: `code` is the business code or the HTTP status, `remedy` what to do next.

    Without a `remedy`, the remedy table's row for the class's `kind` gives it (`client.remedies`).
    """

    kind: ClassVar[ErrorKind] = ErrorKind.API
    default_code: ClassVar[int | None] = None
    default_message: ClassVar[str] = "The NemoVideo API answered with an error."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: int | None = None,
        http_status: int | None = None,
        remedy: str | None = None,
    ) -> None:
        self.message = mask_secrets(message or self.default_message)[:_MAX_MESSAGE]
        self.code = code if code is not None else self.default_code
        self.http_status = http_status
        self.remedy = mask_secrets(remedy or default_remedies().remedy(self.kind))
        super().__init__(self.message)

    def __str__(self) -> str:
        label = f"[{self.code}] " if self.code is not None else ""
        return f"{label}{self.message}"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, http_status={self.http_status!r}, message={self.message!r})"


class TokenInvalid(NemoError):
    """1001: the token is invalid, expired or revoked (B-AUTH-14, B-AUTH-21)."""

    kind = ErrorKind.TOKEN_INVALID
    default_code = 1001
    default_message = "The token is invalid or has expired."


class SessionNotFound(NemoError):
    """1002: the session does not exist or belongs to someone else (B-SESS-07, U-16)."""

    kind = ErrorKind.SESSION_NOT_FOUND
    default_code = 1002
    default_message = "Session not found."


class InsufficientCredits(NemoError):
    """2001: not enough credits for a generation or an edit (B-CRED-05)."""

    kind = ErrorKind.INSUFFICIENT_CREDITS
    default_code = 2001
    default_message = "Not enough credits."


class UnsupportedFile(NemoError):
    """4001: the file type is not accepted (B-UPL-07)."""

    kind = ErrorKind.UNSUPPORTED_FILE
    default_code = 4001
    default_message = "Unsupported file type."


class FileTooLarge(NemoError):
    """4002: the file is over the upload cap (B-UPL-07, B-UPL-08)."""

    kind = ErrorKind.FILE_TOO_LARGE
    default_code = 4002
    default_message = "The file is too large."


class BadRequest(NemoError):
    """HTTP 400 on an endpoint other than anonymous-token: the request was malformed."""

    kind = ErrorKind.BAD_REQUEST
    default_code = 400
    default_message = "The backend rejected the request."


class MissingClientId(BadRequest):
    """HTTP 400 at anonymous-token: `X-Client-Id` was missing or refused (B-AUTH-02, U-07)."""

    kind = ErrorKind.MISSING_CLIENT_ID
    default_message = "The anonymous-token call needs an X-Client-Id header."


class ExportBlocked(NemoError):
    """HTTP 402 on render: the plan does not allow export; not a credits issue (B-REN-16, B-ATTR-08)."""

    kind = ErrorKind.EXPORT_BLOCKED
    default_code = 402
    default_message = "Export is not available on this plan."


class RateLimited(NemoError):
    """HTTP 429: too many calls, e.g. one anonymous token per client per 7 days (B-AUTH-08, B-ERR-05)."""

    kind = ErrorKind.RATE_LIMITED
    default_code = 429
    default_message = "Rate limited."

    def __init__(
        self, message: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(NemoError):
    """HTTP 5xx, or an answer the client cannot make sense of (HTML, empty, wrong shape)."""

    kind = ErrorKind.SERVER_ERROR
    default_message = "The backend failed or sent an answer the client cannot read."


class TransportError(NemoError):
    """The backend could not be reached, or the connection broke."""

    kind = ErrorKind.TRANSPORT_ERROR
    default_message = "Could not reach the NemoVideo API."


class StreamTimeout(NemoError):
    """A `/run_sse` stream went silent for too long (B-SSE-16, B-CLI-07)."""

    kind = ErrorKind.STREAM_TIMEOUT
    default_message = "The event stream timed out."


#: Business codes (B-ERR-01) and plain HTTP codes (B-ERR-02) to their exception.
ERRORS_BY_CODE: dict[int, type[NemoError]] = {
    wording.TOKEN_INVALID: TokenInvalid,
    wording.SESSION_NOT_FOUND: SessionNotFound,
    wording.INSUFFICIENT_CREDITS: InsufficientCredits,
    wording.UNSUPPORTED_FILE: UnsupportedFile,
    wording.FILE_TOO_LARGE: FileTooLarge,
    402: ExportBlocked,
    429: RateLimited,
}

#: U-01's mapped mode, and the plain statuses, when the body names no code.
ERRORS_BY_STATUS: dict[int, type[NemoError]] = {
    401: TokenInvalid,
    402: ExportBlocked,
    413: FileTooLarge,
    415: UnsupportedFile,
    429: RateLimited,
}


def _as_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _message_of(body: Mapping[str, Any]) -> str | None:
    for key in ("message", "msg", "detail", "error", "errorMessage"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, Mapping):
            nested = _message_of(value)
            if nested:
                return nested
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), or None (U-03)."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def decode_json(body: bytes) -> Any:
    """The JSON value of `body`, or None when it is empty or not JSON (never raises)."""
    if not body or not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None


def error_from_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    operation: str | None = None,
    remedies: RemedyTable | None = None,
) -> NemoError | None:
    """The error an answer carries, or None when it is a success.

    A nonzero envelope `code` wins over the HTTP status, so `{"code":1001}` is a TokenInvalid with
    HTTP 200 and with HTTP 401 alike (B-ERR-04, U-01); `{"success": false}` (shape B) is an error
    too. Without a recognisable code the status decides. A 400 is MissingClientId only at
    `operation="anonymous_token"` (or when the operation is unknown); elsewhere a BadRequest.
    The error's remedy comes from `remedies` (a client's table, in its profile's wording).
    """
    parsed = decode_json(body)
    envelope: Mapping[str, Any] = parsed if isinstance(parsed, Mapping) else {}
    message = _message_of(envelope)
    code = _as_code(envelope.get("code"))
    table = remedies or default_remedies()
    answer = _Answer(status, message, retry_after_seconds(headers), operation, table)

    if code is not None and code != 0:
        cls = _class_for_code(code)
        if cls is not None:
            return answer.error(cls, code)
        if status >= 400:
            return answer.error(_class_for_status(status, message), code)
        return NemoError(message, code=code, http_status=status, remedy=table.remedy(NemoError.kind))
    if 200 <= status < 300:
        if envelope.get("success") is False:
            failed = message or "The backend reported a failure."
            return NemoError(failed, http_status=status, remedy=table.remedy(NemoError.kind))
        return None
    cls = _class_for_status(status, message)
    return answer.error(cls, cls.default_code if cls.default_code is not None else status)


def _class_for_code(code: int) -> type[NemoError] | None:
    if code in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[code]
    if code == 400:
        return BadRequest
    if 500 <= code < 600:
        return ServerError
    return None


def _class_for_status(status: int, message: str | None) -> type[NemoError]:
    if status in ERRORS_BY_STATUS:
        return ERRORS_BY_STATUS[status]
    if status == 400:
        return BadRequest
    if status == 404 and message and "session" in message.lower():
        # ADK answers a missing session with 404 {"detail": "Session not found: <sid>"} (B-ADK-07).
        return SessionNotFound
    if status >= 500 or status < 400:
        return ServerError
    return NemoError


class _Answer:
    """What an error is built from besides its class and code."""

    __slots__ = ("message", "operation", "remedies", "retry_after", "status")

    def __init__(
        self,
        status: int,
        message: str | None,
        retry_after: float | None,
        operation: str | None,
        remedies: RemedyTable,
    ) -> None:
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.operation = operation
        self.remedies = remedies

    def error(self, cls: type[NemoError], code: int) -> NemoError:
        if cls is BadRequest and self.operation in (None, "anonymous_token"):
            cls = MissingClientId
        remedy = self.remedies.remedy(cls.kind)
        if cls is RateLimited:
            return RateLimited(
                self.message, code=code, http_status=self.status, remedy=remedy, retry_after=self.retry_after
            )
        message = self.message
        if cls is NemoError and message is None:
            message = f"The backend answered HTTP {self.status}."
        return cls(message, code=code, http_status=self.status, remedy=remedy)
