"""The mock's control API under /_mock (INTERFACE.md): not part of NemoVideo, off with --no-control."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver import __version__
from mockserver.api.common import backend_of, note_code, read_json
from mockserver.errors import bad_request
from mockserver.faults import FaultError


def reply(request: Request, body: object, status: int = 200) -> Response:
    note_code(request, None)
    return JSONResponse(body, status_code=status)


async def health(request: Request) -> Response:
    backend = backend_of(request)
    s = backend.settings
    return reply(
        request,
        {
            "status": "ok",
            "version": __version__,
            "profile": backend.profile.name,
            "dialect": s.dialect,
            "seed": s.seed,
            "time_scale": s.time_scale,
            "render_shape": s.render_shape,
            "error_status": s.error_status,
            "operations_running": len(backend.operations),
        },
    )


async def reset(request: Request) -> Response:
    backend_of(request).reset()
    return reply(request, {"status": "reset"})


async def clock(request: Request) -> Response:
    c = backend_of(request).clock
    return reply(request, {"now": c.now(), "time_scale": c.time_scale})


async def clock_advance(request: Request) -> Response:
    body = await read_json(request)
    seconds = body.get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0 or seconds > 10**9:
        raise bad_request("`seconds` is a non-negative number")
    c = backend_of(request).clock
    now = c.advance(float(seconds))
    return reply(request, {"now": now, "time_scale": c.time_scale})


async def create_account(request: Request) -> Response:
    body = await read_json(request)
    tier = body.get("tier", "free")
    credits = body.get("credits", 100)
    if not isinstance(tier, str):
        raise bad_request("`tier` is one of anonymous, free, paid")
    if not isinstance(credits, int) or isinstance(credits, bool) or not 0 <= credits <= 10**12:
        raise bad_request("`credits` is a non-negative integer")
    backend = backend_of(request)
    token, account = backend.accounts.create_account(tier, credits, backend.clock.now())
    return reply(
        request,
        {
            "token": token.value,
            "user_id": account.user_id,
            "tier": account.tier,
            "credits": account.ledger.available,
        },
    )


async def faults(request: Request) -> Response:
    backend = backend_of(request)
    if request.method == "DELETE":
        backend.faults.clear()
        return reply(request, {"status": "cleared"})
    if request.method == "GET":
        return reply(request, {"rules": [rule.describe() for rule in backend.faults.rules]})
    body = await read_json(request)
    try:
        rule = backend.faults.arm(body)
    except FaultError as exc:
        raise bad_request(f"Invalid fault rule: {exc}") from None
    return reply(request, {"id": rule.id, "rule": rule.describe()})


async def journal(request: Request) -> Response:
    return reply(request, {"entries": backend_of(request).journal.entries()})


async def revoke(request: Request) -> Response:
    """Revoke a token, as Settings -> API Tokens does on the web (B-AUTH-06)."""
    body = await read_json(request)
    token = body.get("token")
    if not isinstance(token, str) or not backend_of(request).accounts.revoke(token):
        raise bad_request("`token` must be a token this mock issued")
    return reply(request, {"status": "revoked"})


routes = [
    Route("/_mock/health", health, methods=["GET"]),
    Route("/_mock/reset", reset, methods=["POST"]),
    Route("/_mock/clock", clock, methods=["GET"]),
    Route("/_mock/clock/advance", clock_advance, methods=["POST"]),
    Route("/_mock/accounts", create_account, methods=["POST"]),
    Route("/_mock/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_mock/journal", journal, methods=["GET"]),
    Route("/_mock/tokens/revoke", revoke, methods=["POST"]),
]
