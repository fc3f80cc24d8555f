"""Anonymous tokens and claim tokens (B-AUTH-01..22)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from mockserver.api.common import authenticate, backend_of, note_session, ok, read_json
from mockserver.api.requests import ClaimRequest


async def anonymous_token(request: Request) -> Response:
    """POST /api/auth/anonymous-token: no body, X-Client-Id required (B-AUTH-01/02/03/08/09)."""
    backend = backend_of(request)
    ip = request.client.host if request.client else "unknown"
    token, account = backend.accounts.issue_anonymous(
        request.headers.get("x-client-id"), ip, backend.clock.now()
    )
    expires_at = None
    if token.expires_at is not None:
        expires_at = datetime.fromtimestamp(token.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ok(
        request,
        {
            "token": token.value,
            "user_id": account.user_id,
            "expires_at": expires_at,
            "credits": account.ledger.available,
        },
    )


async def claim_token(request: Request) -> Response:
    """POST /api/auth/claim-token: a `clm_` token for the browser link (B-AUTH-19/20, B-CLI-19)."""
    account = authenticate(request)
    claim = ClaimRequest.from_body(await read_json(request))
    note_session(request, claim.session_id)
    value = backend_of(request).claim_token(account, claim.task_id, claim.session_id)
    return ok(request, {"claim_token": value, "expires_in": 604800})
