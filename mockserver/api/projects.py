"""Sessions, state and credits (B-SESS-*, B-STATE-*, B-CRED-01)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mockserver.api.common import authenticate, backend_of, note_session, ok, read_json
from mockserver.api.requests import SessionRequest


async def create_session(request: Request) -> Response:
    """POST /api/tasks/{user_id}/with-session/nemo_agent (B-SESS-01/03/05/06)."""
    backend = backend_of(request)
    account = authenticate(request)
    wanted = SessionRequest.from_body(await read_json(request, required=False))  # U-12 first
    backend.resolve_user(account, request.path_params["user_id"])
    session = backend.create_session(account, wanted.task_name, wanted.language)
    note_session(request, session.session_id)
    data = {"task_id": session.task_id, "session_id": session.session_id}
    if backend.settings.session_user_id:
        data["user_id"] = account.user_id
    return ok(request, data)


async def get_state(request: Request) -> Response:
    """GET /api/state/nemo_agent/{user_id}/{session_id}/latest (B-STATE-01/02, B-STATE-08)."""
    backend = backend_of(request)
    note_session(request, request.path_params["session_id"])
    account = authenticate(request)
    backend.resolve_user(account, request.path_params["user_id"])
    session = backend.sessions.owned(account, request.path_params["session_id"])
    return ok(
        request,
        {
            "session_id": session.session_id,
            "task_id": session.task_id,
            "task_name": session.task_name,
            "user_id": account.user_id,
            "state": session.state(),
        },
    )


async def get_credits(request: Request) -> Response:
    """GET /api/credits/balance/simple: available / frozen / total (B-CRED-01/02)."""
    ledger = authenticate(request).ledger
    return ok(request, {"available": ledger.available, "frozen": ledger.frozen, "total": ledger.total})
