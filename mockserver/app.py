"""The app factory: routes of the emulated API, the control API and the pages, over one Backend."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver import control, pages
from mockserver.api import auth, cdn, projects, renders, sse, uploads
from mockserver.api.common import JsonAnswer, error_response, note_answer
from mockserver.backend import Backend
from mockserver.errors import ApiError
from mockserver.middleware import RequestChores
from mockserver.settings import Settings
from mockserver.web import console_routes, workspace_routes

USER = "{user_id}"


def api_routes(settings: Settings) -> list[Route]:
    # Starlette tries routes in order: the calls a polling client makes most come first.
    routes = [
        Route("/api/credits/balance/simple", projects.get_credits, methods=["GET"]),
        Route(f"/api/state/nemo_agent/{USER}/{{session_id}}/latest", projects.get_state, methods=["GET"]),
        Route("/api/render/proxy/lambda/{render_id}", renders.poll, methods=["GET"]),
        Route("/run_sse", sse.run_sse, methods=["POST"]),
        Route("/api/auth/anonymous-token", auth.anonymous_token, methods=["POST"]),
        Route(f"/api/tasks/{USER}/with-session/nemo_agent", projects.create_session, methods=["POST"]),
        Route("/api/auth/claim-token", auth.claim_token, methods=["POST"]),
        Route(f"/api/upload-video/nemo_agent/{USER}/{{session_id}}", uploads.upload, methods=["POST"]),
        Route("/api/render/proxy/lambda", renders.submit, methods=["POST"]),
        Route("/api/render/proxy/lambda/{render_id}/cancel", renders.cancel, methods=["POST"]),
        Route("/api/render/proxy/{render_id}/download", renders.download, methods=["GET"]),
        Route("/cdn/{path:path}", cdn.serve, methods=["GET"]),
        Route("/openapi.json", pages.openapi, methods=["GET"]),
        Route("/", pages.index, methods=["GET"]),
    ]
    if settings.legacy_render_paths:  # B-REN-17
        routes += [
            Route("/api/render/proxy/draft", renders.legacy_submit, methods=["POST"]),
            Route("/api/render/proxy/{render_id}", renders.poll, methods=["GET"]),
        ]
    return routes


async def on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods still answer with the envelope, never a bare page."""
    assert isinstance(exc, HTTPException)
    body = {"code": exc.status_code, "message": exc.detail, "data": None}
    return note_answer(request, exc.status_code, JsonAnswer(body, exc.status_code, exc.headers))


class MockApp(Starlette):
    """The mock's app. Its backend is a plain attribute (`api.common.backend_of`): every handler
    reads it, and `app.state.backend`, the same object, costs a Python-level lookup each time."""

    backend: Backend


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> MockApp:
    backend = backend or Backend(settings)
    settings = backend.settings

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await backend.aclose()

    routes = api_routes(settings) + workspace_routes()
    if settings.control:
        routes += control.routes + console_routes(settings)
    app = MockApp(
        routes=routes,
        middleware=[Middleware(RequestChores, backend=backend)],
        exception_handlers={ApiError: on_api_error, HTTPException: on_http_error},
        lifespan=lifespan,
    )
    app.backend = backend
    app.state.backend = backend
    return app
