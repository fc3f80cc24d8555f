"""The mock's web side: the workspace page a claim link opens, and the console under /_mock/ui.

- `GET /workspace/claim?ct=<claim token>`: the project as its owner sees it (timeline, chat turns
  with what each changed, renders with a playable video, credits), following the session live.
  A claim token opens its own project and nothing else (B-AUTH-20/21); any other link gets a
  refusal page (`mockserver.web.workspace`).
- `GET /_mock/ui`: the console, under the control API's guard (`mockserver.control`): the journal
  live, sessions with per-turn draft changes, the clock, faults, scenarios, reset
  (`mockserver.web.console`).

Server-rendered with Jinja2 (autoescape on) and a little plain JavaScript; templates and assets
ship inside this package (`templates/`, `static/`).
"""

from __future__ import annotations

from mockserver.web.routes import console_routes, workspace_routes

__all__ = ["console_routes", "workspace_routes"]
