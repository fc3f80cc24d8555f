"""`GET /workspace/claim?ct=<claim token>`: the project a claim link opens (B-CLI-19, B-AUTH-20).

A claim token opens its own project, read-only, and nothing else (B-AUTH-20/21). Every other link
gets an HTML refusal page saying why, with the status a browser and a test can check:

- no `ct`, or the old `token=` form (B-AUTH-22; B-LINK-01/02 list the old and token-less forms): 400;
- a user token (`nmv_usr_…`) where the claim token goes: 400 (user tokens never go in links);
- a token this mock never issued, or whose project is gone (a reset): 404;
- a revoked or expired claim token (7 days, B-AUTH-20): 410;
- a link naming another project (`task=` or `session=` other than the token's): 403.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from contracts.wording import CLAIM_TOKEN_PREFIX, USER_TOKEN_PREFIX
from mockserver.api.common import backend_of, note_code
from mockserver.backend import Backend
from mockserver.state.accounts import Token
from mockserver.state.sessions import Session
from mockserver.web import views
from mockserver.web.feed import KEEPALIVE_S, feed_of, sse
from mockserver.web.pages import asset_response, page, when

#: A page checks what it shows at least this often (a turn can end with nobody requesting anything).
RECHECK_S = 1.0
ASK_AGAIN = "Ask the assistant for the project link again: it makes a fresh one."


class Refusal(Exception):
    def __init__(self, status: int, heading: str, reason: str, remedy: str = ASK_AGAIN) -> None:
        super().__init__(reason)
        self.status, self.heading, self.reason, self.remedy = status, heading, reason, remedy


def claimed(request: Request) -> tuple[Backend, Token, Session]:
    """The claim token of the link and the project it opens, or the `Refusal` saying why not."""
    backend = backend_of(request)
    params = request.query_params
    ct = params.get("ct", "").strip()
    if not ct:
        if "token" in params:
            raise Refusal(
                400,
                "This link is in an old form",
                "Project links carry a claim token as ct=…; the old token= form is no longer accepted.",
            )
        raise Refusal(400, "This link has no claim token", "A project link ends in ?ct=<claim token>.")
    if USER_TOKEN_PREFIX in ct.lower():
        raise Refusal(
            400,
            "This link holds a sign-in token",
            "A user token never goes into a link: whoever has it can act as you. This page does not use it.",
            "Keep that token private, and ask the assistant for the project link (it uses a claim token).",
        )
    token = backend.accounts.tokens.get(ct)
    if token is None or token.kind != "claim" or not ct.startswith(CLAIM_TOKEN_PREFIX):
        raise Refusal(404, "Unknown project link", "This mock never issued this claim token.")
    if token.revoked or not token.live(backend.clock.now()):
        raise Refusal(
            410, "This project link has expired", "Claim links work for 7 days after they are made."
        )
    for name, own in (("task", token.task_id), ("session", token.session_id)):
        asked = params.get(name)
        if asked is not None and asked != own:
            raise Refusal(
                403,
                "This link opens another project",
                "A claim token opens only the project it was made for.",
                "Open the link exactly as the assistant gave it.",
            )
    session = backend.sessions.sessions.get(token.session_id or "")
    if session is None or session.owner != token.user_id:
        raise Refusal(404, "This project is gone", "The project this link opened no longer exists.")
    return backend, token, session


def refusal_page(request: Request, refusal: Refusal) -> Response:
    context = {
        "heading": refusal.heading,
        "reason": refusal.reason,
        "remedy": refusal.remedy,
        "status": refusal.status,
    }
    return page(request, "refusal.html", context, status=refusal.status)


async def claim(request: Request) -> Response:
    try:
        backend, _, session = claimed(request)
    except Refusal as refusal:
        return refusal_page(request, refusal)
    account = backend.accounts.accounts.get(session.owner)
    context = {
        "title": views.title_of(session),
        "session": session,
        "timeline": views.timeline(session.draft),
        "turns": views.turns(session),
        "renders": views.renders(backend, session.session_id),
        "ledger": account.ledger if account else None,
        "opened": when(backend.clock.now()),
        "events_url": request.url.replace(path="/workspace/claim/events").path + "?" + request.url.query,
    }
    return page(request, "workspace.html", context)


async def claim_events(request: Request) -> Response:
    """SSE: `changed` whenever what the page shows changed; the page then reloads its parts."""
    try:
        backend, _, session = claimed(request)
    except Refusal as refusal:
        return refusal_page(request, refusal)
    note_code(request, None)
    feed = feed_of(request.app.state, backend)

    async def events() -> AsyncIterator[bytes]:
        news = asyncio.Event()
        stop = feed.watch(news.set)
        last = views.fingerprint(backend, session)
        idle = 0.0
        try:
            yield b": open\n\n"
            while not feed.closed:
                try:
                    await asyncio.wait_for(news.wait(), RECHECK_S)
                except TimeoutError:
                    idle += RECHECK_S
                news.clear()
                if feed.closed:
                    return
                now = views.fingerprint(backend, session)
                if now != last:
                    last, idle = now, 0.0
                    yield sse("changed", {"at": backend.clock.now()})
                elif idle >= KEEPALIVE_S:
                    idle = 0.0
                    yield b": keep-alive\n\n"
        finally:
            stop()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def assets(request: Request) -> Response:
    note_code(request, None)
    name = request.path_params["name"]
    return asset_response(name if name != "console.js" else "")  # the console's script is guarded
