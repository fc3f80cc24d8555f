"""`GET /_mock/ui`: the console. Every part of it passes the control API's guard (`mockserver.control`).

The page is a shell; its data comes from guarded endpoints: the live journal
(`/_mock/ui/events`, SSE: a snapshot, then batches of new entries, `mockserver.web.feed`), the
sessions with their turns (`/_mock/ui/sessions`, an HTML fragment) and the control API itself for
the clock, faults and reset. With a control token set, the shell is served to anyone (it holds no
data) and asks for the token, which its script then sends as `Authorization: Bearer`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockserver.api.common import backend_of, note_code
from mockserver.control import guard
from mockserver.faults import EFFECTS, METHODS, RENDER_EFFECTS, SSE_EFFECTS
from mockserver.scenarios import all_scenarios
from mockserver.web import views
from mockserver.web.feed import feed_of
from mockserver.web.pages import asset_response, page

#: The clock's one-click advances (label, seconds); 7 days is a token's life (B-AUTH-20, B-AUTH-05).
ADVANCES = (("1 s", 1), ("1 min", 60), ("1 h", 3600), ("1 day", 86400), ("7 days", 7 * 86400))
#: The `sse` effect's values besides the fixed ones: `drop:K` ends the stream after K events.
SSE_DROP = "drop:K"


def effects() -> list[dict[str, Any]]:
    """Every fault effect `mockserver.faults` knows, with the choices it takes (if a fixed set)."""
    choices: dict[str, tuple[str, ...]] = {"sse": (*SSE_EFFECTS, SSE_DROP), "render": RENDER_EFFECTS}
    return [{"name": name, "choices": choices.get(name, ())} for name in EFFECTS]


def scenarios() -> list[dict[str, Any]]:
    return [
        {
            "name": scenario.name,
            "description": scenario.description,
            "rules": list(scenario.rules),
            "reaction": scenario.reaction,
            "faults": list(scenario.faults),
            "steps": list(scenario.steps),
        }
        for scenario in all_scenarios()
    ]


async def shell(request: Request) -> Response:
    context = {
        "needs_token": backend_of(request).settings.control_token is not None,
        "advances": ADVANCES,
        "methods": METHODS,
        "effects": effects(),
        "scenarios": scenarios(),
    }
    return page(request, "console.html", context)


async def events(request: Request) -> Response:
    note_code(request, None)
    feed = feed_of(request.app.state, backend_of(request))
    return StreamingResponse(
        feed.console_stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def sessions(request: Request) -> Response:
    backend = backend_of(request)
    items = [
        {
            "session": session,
            "title": views.title_of(session),
            "turns": views.turns(session),
            "renders": views.renders(backend, session.session_id),
        }
        for session in backend.sessions.sessions.values()
    ]
    return page(request, "sessions.html", {"sessions": items})


async def script(request: Request) -> Response:
    note_code(request, None)
    return asset_response("console.js")


def routes(control_token: str | None) -> list[Route]:
    # With a token the shell cannot be guarded (a browser's navigation sends no bearer); it holds no data.
    shell_handler = shell if control_token is not None else guard(shell)
    return [
        Route("/_mock/ui", shell_handler, methods=["GET"]),
        Route("/_mock/ui/console.js", guard(script), methods=["GET"]),
        Route("/_mock/ui/events", guard(events), methods=["GET"]),
        Route("/_mock/ui/sessions", guard(sessions), methods=["GET"]),
    ]
