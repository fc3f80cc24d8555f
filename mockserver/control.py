"""The mock's control API under /_mock (INTERFACE.md): not part of NemoVideo, off with --no-control.

Whoever reaches it can reset the mock, mint credits and read the journal, so every call passes
`guard` first (`caller_refusal` says why not):

- with a control token (`--control-token`, `NEMO_MOCK_CONTROL_TOKEN`; required to bind to a
  non-loopback address) every call needs `Authorization: Bearer <token>`: else HTTP 401;
- without one, the call must name a loopback host (`Host: 127.0.0.1:PORT`, `localhost`, `[::1]`):
  a web page cannot reach the mock through a DNS name rebound to 127.0.0.1: else HTTP 403;
- a browser's cross-origin call (an `Origin` other than the server's own, or `Sec-Fetch-Site`
  cross-site or same-site) is refused: HTTP 403;
- a body must be JSON (`Content-Type: application/json`): a web form or `text/plain` POST, the
  kinds a page may send without asking, is HTTP 415.

Refusals are the usual envelope with `code` equal to the status (U-03) and change nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver import __version__
from mockserver.api.common import backend_of, declared_length, note_code, raw_header, read_json
from mockserver.errors import ApiError, bad_request
from mockserver.faults import FaultError
from mockserver.journal_query import JournalQuery, QueryError
from mockserver.scenarios import RuntimeSteps, ScenarioError, arm, load_scenario, scenario_names
from mockserver.settings import DIALECTS, ERROR_STATUS_MODES, RENDER_SHAPES

Handler = Callable[[Request], Awaitable[Response]]
MAX_ADVANCE_S = 10**9
MAX_CREDITS = 10**12
#: Settings `PATCH /_mock/settings` may change while the mock runs: each is read on every request.
#: The others need a restart (see README): the profile, seed and time scale are built into the
#: upload store, the agent's random streams and the clock when the server starts, and the routes
#: (`legacy_render_paths`) are fixed when the app is made.
RUNTIME_SETTINGS: dict[str, tuple[str, ...]] = {
    "dialect": DIALECTS,
    "render_shape": RENDER_SHAPES,
    "error_status": ERROR_STATUS_MODES,
}


def is_loopback_host(host: str) -> bool:
    """Whether a host name or address (no port) is this machine's loopback."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(authority: str) -> str:
    """The host of `host[:port]` or `[v6]:port`."""
    if authority.startswith("["):
        return authority.partition("]")[0] + "]"
    return authority.rpartition(":")[0] if authority.count(":") == 1 else authority


def caller_refusal(request: Request) -> ApiError | None:
    """Why this caller may not use the control API, or None."""
    settings = backend_of(request).settings
    host = raw_header(request, b"host") or ""
    token = settings.control_token
    if token is not None:
        scheme, _, given = (raw_header(request, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return ApiError(
                401,
                "The control API needs Authorization: Bearer <token> (nemo-mock serve --control-token)",
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="nemo-mock control"'},
            )
    elif not is_loopback_host(_host_name(host)):
        return ApiError(
            403,
            f"The control API answers loopback hosts only without a control token; Host was {host[:100]!r}",
            status=403,
        )
    origin = raw_header(request, b"origin")
    if origin is not None and origin.rstrip("/").lower() != f"{request.url.scheme}://{host}".lower():
        return ApiError(
            403, f"Cross-origin calls to the control API are refused (Origin {origin[:100]})", status=403
        )
    if (raw_header(request, b"sec-fetch-site") or "").lower() in ("cross-site", "same-site"):
        return ApiError(403, "Cross-site calls to the control API are refused", status=403)
    if _has_body(request):
        media_type = (raw_header(request, b"content-type") or "").partition(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            return ApiError(
                415,
                "The control API takes JSON bodies only: send Content-Type: application/json",
                status=415,
            )
    return None


def _has_body(request: Request) -> bool:
    length = declared_length(request)
    return bool(length) or raw_header(request, b"transfer-encoding") is not None


def guard(handler: Handler) -> Handler:
    """`handler`, run only for a caller `caller_refusal` lets through."""

    async def guarded(request: Request) -> Response:
        refusal = caller_refusal(request)
        if refusal is not None:
            raise refusal
        return await handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


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
            "rate_limits": s.rate_limits,
            "operations_running": len(backend.operations),
        },
    )


def _runtime(request: Request) -> dict[str, object]:
    """What this app's control calls changed since start: settings' start values, armed scenarios."""
    state = request.app.state
    if not hasattr(state, "nemo_runtime"):
        state.nemo_runtime = {"started_with": {}, "armed": []}
    runtime: dict[str, object] = state.nemo_runtime
    return runtime


async def reset(request: Request) -> Response:
    backend = backend_of(request)
    backend.reset()
    runtime = _runtime(request)
    started_with: dict[str, object] = runtime["started_with"]  # type: ignore[assignment]
    for name, value in started_with.items():  # settings flipped at run time go back too
        setattr(backend.settings, name, value)
    started_with.clear()
    runtime["armed"] = []
    for follower in runtime.pop("steps", []):  # type: ignore[attr-defined]
        follower.stop()  # steps armed at run time end with a reset (those of --scenario start over)
    return reply(request, {"status": "reset"})


async def clock(request: Request) -> Response:
    c = backend_of(request).clock
    return reply(request, {"now": c.now(), "time_scale": c.time_scale})


async def clock_advance(request: Request) -> Response:
    body = await read_json(request)
    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise bad_request(f"`seconds` is a number from 0 to {MAX_ADVANCE_S:g}")
    if not 0 <= seconds <= MAX_ADVANCE_S:
        raise bad_request(f"`seconds` is a number from 0 to {MAX_ADVANCE_S:g}")
    c = backend_of(request).clock
    now = c.advance(float(seconds))
    return reply(request, {"now": now, "time_scale": c.time_scale})


async def create_account(request: Request) -> Response:
    body = await read_json(request)
    tier = body.get("tier", "free")
    credits = body.get("credits", 100)
    if not isinstance(tier, str):
        raise bad_request("`tier` is one of anonymous, free, paid")
    if not isinstance(credits, int) or isinstance(credits, bool) or not 0 <= credits <= MAX_CREDITS:
        raise bad_request(f"`credits` is an integer from 0 to {MAX_CREDITS:g}")
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
    backend = backend_of(request)
    if not backend.settings.journal:
        raise ApiError(
            409,
            "The journal is off (nemo-mock serve --journal off, a load mode): no request was kept. "
            "Serve with --journal on to read requests back.",
            status=409,
        )
    if request.method == "DELETE":
        backend.journal.clear()
        return reply(request, {"status": "cleared"})
    try:
        query = JournalQuery.parse(request.query_params, [k for k, _ in request.query_params.multi_items()])
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    return reply(request, query.select(backend.journal.entries()))


async def scenarios(request: Request) -> Response:
    runtime = _runtime(request)
    return reply(request, {"scenarios": scenario_names(), "armed": runtime["armed"]})


async def arm_scenario(request: Request) -> Response:
    """Arm a shipped scenario's fault rules and accounts now, as `--scenario` does at start-up."""
    name = request.path_params["name"]
    if name not in scenario_names():
        raise bad_request(f"no shipped scenario {name!r}; GET /_mock/scenarios lists them")
    try:
        scenario = load_scenario(name)
    except ScenarioError as exc:
        raise bad_request(str(exc)) from None
    backend = backend_of(request)
    if scenario.steps and not backend.settings.journal:
        raise ApiError(
            409,
            f"scenario {name!r} acts after given requests (steps), which are followed through the "
            f"request journal, and this server runs with --journal off: nemo-mock serve --scenario {name}",
            status=409,
        )
    fixed = sorted(set(scenario.options) - set(RUNTIME_SETTINGS))
    if fixed:
        raise bad_request(
            f"scenario {name!r} sets {fixed[0]}, which needs a restart: nemo-mock serve --scenario {name}"
        )
    _flip(request, {k: v for k, v in scenario.options.items() if k in RUNTIME_SETTINGS})
    arm(backend, scenario)
    runtime = _runtime(request)
    armed: list[str] = runtime["armed"]  # type: ignore[assignment]
    armed.append(name)
    if scenario.steps:
        followers: list[RuntimeSteps] = runtime.setdefault("steps", [])  # type: ignore[assignment]
        followers.append(RuntimeSteps(backend, scenario))
    answer = {
        "status": "armed",
        "scenario": name,
        "faults": len(scenario.faults),
        "steps": len(scenario.steps),
    }
    return reply(request, answer)


def _current(request: Request) -> dict[str, object]:
    settings = backend_of(request).settings
    return {name: getattr(settings, name) for name in RUNTIME_SETTINGS}


def _flip(request: Request, changes: dict[str, object]) -> None:
    settings = backend_of(request).settings
    started_with: dict[str, object] = _runtime(request)["started_with"]  # type: ignore[assignment]
    for name, value in changes.items():
        started_with.setdefault(name, getattr(settings, name))
        setattr(settings, name, value)


async def runtime_settings(request: Request) -> Response:
    """`GET` the settings that may change at run time; `PATCH` some of them (all or nothing)."""
    if request.method == "PATCH":
        body = await read_json(request)
        unknown = sorted(set(body) - set(RUNTIME_SETTINGS))
        if unknown:
            raise bad_request(
                f"`{unknown[0]}` cannot change at run time; these can: {', '.join(RUNTIME_SETTINGS)}"
            )
        for name, value in body.items():
            if value not in RUNTIME_SETTINGS[name]:
                raise bad_request(f"`{name}` is one of {', '.join(RUNTIME_SETTINGS[name])}, got {value!r}")
        _flip(request, dict(body))
    return reply(request, {"settings": _current(request), "runtime": list(RUNTIME_SETTINGS)})


async def revoke(request: Request) -> Response:
    """Revoke a token, as Settings -> API Tokens does on the web (B-AUTH-06)."""
    body = await read_json(request)
    token = body.get("token")
    if not isinstance(token, str) or not backend_of(request).accounts.revoke(token):
        raise bad_request("`token` must be a token this mock issued")
    return reply(request, {"status": "revoked"})


routes = [
    Route("/_mock/health", guard(health), methods=["GET"]),
    Route("/_mock/reset", guard(reset), methods=["POST"]),
    Route("/_mock/clock", guard(clock), methods=["GET"]),
    Route("/_mock/clock/advance", guard(clock_advance), methods=["POST"]),
    Route("/_mock/accounts", guard(create_account), methods=["POST"]),
    Route("/_mock/faults", guard(faults), methods=["GET", "POST", "DELETE"]),
    Route("/_mock/journal", guard(journal), methods=["GET", "DELETE"]),
    Route("/_mock/scenarios", guard(scenarios), methods=["GET"]),
    Route("/_mock/scenarios/{name}", guard(arm_scenario), methods=["POST"]),
    Route("/_mock/settings", guard(runtime_settings), methods=["GET", "PATCH"]),
    Route("/_mock/tokens/revoke", guard(revoke), methods=["POST"]),
]
