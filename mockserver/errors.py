"""Errors the emulated API answers with, carrying the documented codes (B-ERR-01/02).

Business codes (1001, 1002, 2001, 4001, 4002) travel in the body envelope. Which HTTP status goes
with them is undocumented (U-01): HTTP 200 by default, or a mapped status under
`--error-status mapped`. Plain HTTP errors (400, 402, 404, 409, 429) carry an envelope whose
`code` equals the status (U-03).
"""

from __future__ import annotations

from typing import Any

# The codes are one fact shared with the client: re-exported from their home (contracts.wording).
from contracts.wording import BUSINESS_CODES as BUSINESS_CODES
from contracts.wording import FILE_TOO_LARGE as FILE_TOO_LARGE
from contracts.wording import INSUFFICIENT_CREDITS as INSUFFICIENT_CREDITS
from contracts.wording import MAPPED_STATUS as MAPPED_STATUS
from contracts.wording import SESSION_NOT_FOUND as SESSION_NOT_FOUND
from contracts.wording import TOKEN_INVALID as TOKEN_INVALID
from contracts.wording import UNSUPPORTED_FILE as UNSUPPORTED_FILE


class ApiError(Exception):
    """An answer other than success: a business code, or an HTTP status with an envelope body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # None: a business code whose HTTP status the server's error mode decides.
        self.status = status
        self.data = data
        self.headers = headers or {}

    def http_status(self, mapped: bool) -> int:
        if self.status is not None:
            return self.status
        return MAPPED_STATUS.get(self.code, 200) if mapped else 200

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.data}


def token_invalid(message: str = "Unauthorized: token invalid or expired") -> ApiError:
    return ApiError(TOKEN_INVALID, message)


def session_not_found(session_id: object) -> ApiError:
    return ApiError(SESSION_NOT_FOUND, f"Session not found: {session_id}")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, status=400)


def not_found(message: str) -> ApiError:
    return ApiError(404, message, status=404)


def conflict(message: str) -> ApiError:
    return ApiError(409, message, status=409)


def rate_limited(message: str, retry_after_s: int = 30) -> ApiError:
    return ApiError(429, message, status=429, headers={"Retry-After": str(retry_after_s)})
