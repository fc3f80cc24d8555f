"""The routes the web side adds to the app (mounted by `mockserver.app.create_app`)."""

from __future__ import annotations

from starlette.routing import Route

from mockserver.settings import Settings
from mockserver.web import console, workspace


def workspace_routes() -> list[Route]:
    """The product's web side: on whenever the mock runs."""
    return [
        Route("/workspace/claim", workspace.claim, methods=["GET"]),
        Route("/workspace/claim/events", workspace.claim_events, methods=["GET"]),
        Route("/workspace/assets/{name}", workspace.assets, methods=["GET"]),
    ]


def console_routes(settings: Settings) -> list[Route]:
    """The console: part of the control API, so off with it (`--no-control`)."""
    return console.routes(settings.control_token)
