"""The pytest plugin (entry point `pytest11`, name `nemo`): the mock and the reference client as fixtures.

- `nemo_settings`: the mock's `Settings` (time scale 0, seed 0); override it to change the mock;
  `@pytest.mark.nemo(profile=..., dialect=..., render_shape=..., error_status=..., scenario=...)`
  changes it for one test;
- `nemo_live`: the mock as a real uvicorn server on a free loopback port (`.url`, `.backend`). One
  server per distinct settings serves the whole session (per worker under pytest-xdist) and is
  reset before each test, so a test costs a reset, not a server start. `--nemo-server-per-test`
  starts one per test instead; `nemo_live_private` is always the test's own server;
- `nemo_journal`: the requests the mock saw: `requests(method=, path=, status=, code=)`,
  `assert_requested(method, path, times=, where=)`;
- `nemo_clock`: `now()`, `advance(seconds)` on the virtual clock;
- `nemo_faults`: `arm(...)`, `rules()`, `clear()`, and `with nemo_faults(...) as rule:` for one block;
- `nemo_scenario`: `nemo_scenario("name")` arms a shipped scenario's faults and accounts;
- `nemo_client`: a reference `client.Client` configured for `nemo_live`, its config dir in `tmp_path`;
- `nemo_async_http`: an `httpx.AsyncClient` on `nemo_live` for async tests (pytest-asyncio or anyio):
  it keeps no connection between requests, so it belongs to no event loop;
- `nemo_app`, `nemo_asgi_client`: the mock in process, over `httpx.ASGITransport`.

Modules load lazily, so the plugin costs nothing in test runs that use none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fnmatch
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from client import Client
    from mockserver.settings import Settings
    from mockserver.testing import LiveServer

#: The base URL the in-process client uses; no socket is opened for it.
IN_PROCESS_URL = "http://nemo-mock.test"
#: What `@pytest.mark.nemo(...)` may set.
MARKER_FIELDS = ("profile", "dialect", "render_shape", "error_status", "scenario")
_STARTED: list[str] = []  # URLs of the servers this session started (the terminal summary counts them)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--nemo-server-per-test",
        action="store_true",
        help="nemo: start a mock server for every test instead of sharing one per session",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nemo(profile=, dialect=, render_shape=, error_status=, scenario=): "
        "the mock's settings for this test",
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _STARTED:
        count = len(_STARTED)
        terminalreporter.write_line(f"nemo: {count} mock server{'s' if count != 1 else ''} started")


def _control_client(base_url: str, control_token: str | None) -> httpx.Client:
    """An HTTP client for /_mock calls, with the control token when the mock demands one."""
    headers = {"Authorization": f"Bearer {control_token}"} if control_token else {}
    return httpx.Client(base_url=base_url, timeout=10, headers=headers)


class FaultHelper:
    """Fault rules on a live mock: `arm(method="POST", path="/run_sse", sse="silent")`, `clear()`;
    `with helper(method=..., ...) as rule:` arms a rule for one block and clears the rules after it."""

    def __init__(self, base_url: str, control_token: str | None = None) -> None:
        self.http = _control_client(base_url, control_token)

    def arm(self, rule: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Arm one rule (a dict, keyword fields, or both); returns the rule as the mock stored it."""
        response = self.http.post("/_mock/faults", json={**(rule or {}), **fields})
        if response.status_code != 200:
            raise ValueError(f"the mock refused the fault rule: {response.text}")
        armed: dict[str, Any] = response.json()["rule"]
        return armed

    @contextlib.contextmanager
    def __call__(self, rule: dict[str, Any] | None = None, **fields: Any) -> Iterator[dict[str, Any]]:
        armed = self.arm(rule, **fields)
        try:
            yield armed
        finally:
            self.clear()

    def rules(self) -> list[dict[str, Any]]:
        """The rules still armed."""
        rules: list[dict[str, Any]] = self.http.get("/_mock/faults").json()["rules"]
        return rules

    def clear(self) -> None:
        self.http.delete("/_mock/faults")

    def close(self) -> None:
        self.http.close()


def _matches(
    entry: dict[str, Any],
    method: str | None,
    path: str | None,
    status: int | None,
    code: int | None,
    session: str | None = None,
) -> bool:
    return (
        (method is None or entry["method"] == method.upper())
        and (path is None or fnmatch.fnmatchcase(entry["path"], path))
        and (status is None or entry["status"] == status)
        and (code is None or entry["code"] == code)
        and (session is None or entry.get("session") == session)
    )


def _line(entry: dict[str, Any]) -> str:
    line = f"{entry['method']} {entry['path']} -> {entry['status']} code={entry['code']}"
    if entry.get("session"):
        line += f" session={entry['session']}"
    if entry.get("open"):
        line += " (stream still open)"
    return line


class JournalHelper:
    """What the mock saw, for assertions like WireMock's `verify` (control requests left out)."""

    def __init__(self, base_url: str, control_token: str | None = None) -> None:
        self.http = _control_client(base_url, control_token)

    def all(self) -> list[dict[str, Any]]:
        body = self.http.get("/_mock/journal").json()
        entries: list[dict[str, Any]] = body["entries"] if isinstance(body, dict) else body
        return [e for e in entries if not e["path"].startswith("/_mock")]

    def requests(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = None,
        code: int | None = None,
        session: str | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """The requests seen, oldest first; `path` may hold `*` wildcards. Each is a journal entry:
        `request_body` / `response_body` parsed when JSON (secrets masked), `session`, `stream`, `open`."""
        return [
            e
            for e in self.all()
            if _matches(e, method, path, status, code, session) and (where is None or where(e))
        ]

    def assert_requested(
        self,
        method: str,
        path: str,
        *,
        times: int | None = None,
        status: int | None = None,
        code: int | None = None,
        session: str | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """`method path` was requested (exactly `times` times if given); the matches are returned."""
        __tracebackhide__ = True  # a failure shows the user's line, not this one
        seen = self.all()
        found = [
            e
            for e in seen
            if _matches(e, method, path, status, code, session) and (where is None or where(e))
        ]
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = f"{method.upper()} {path}" + "".join(
            f" {name}={value}"
            for name, value in (("status", status), ("code", code), ("session", session))
            if value is not None
        )
        if where is not None:
            wanted += f" where {getattr(where, '__name__', 'a condition')}"
        expected = "at least once" if times is None else f"{times} time{'s' if times != 1 else ''}"
        listing = "\n".join(f"  {_line(e)}" for e in seen) or "  (nothing)"
        raise AssertionError(
            f"expected {wanted} {expected}, matched {len(found)}; "
            f"the mock saw {len(seen)} request(s):\n{listing}"
        )

    def close(self) -> None:
        self.http.close()


class ClockHelper:
    """The mock's virtual clock: `now()` in epoch seconds, `advance(seconds)`."""

    def __init__(self, base_url: str, control_token: str | None = None) -> None:
        self.http = _control_client(base_url, control_token)

    def now(self) -> float:
        now: float = self.http.get("/_mock/clock").json()["now"]
        return now

    def advance(self, seconds: float) -> float:
        """Move virtual time forward; returns the new `now()`."""
        response = self.http.post("/_mock/clock/advance", json={"seconds": seconds})
        if response.status_code != 200:
            raise ValueError(f"the mock refused to advance the clock: {response.text}")
        return self.now()

    def close(self) -> None:
        self.http.close()


def _marker_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("nemo")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.nemo takes keyword arguments only")
    unknown = sorted(set(marker.kwargs) - set(MARKER_FIELDS))
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.nemo: unknown setting {unknown[0]!r}; known: {', '.join(MARKER_FIELDS)}"
        )
    return dict(marker.kwargs)


@pytest.fixture
def nemo_settings(request: pytest.FixtureRequest) -> Settings:
    """The mock's settings; override this fixture in a conftest to serve another profile or dialect."""
    from contracts.profiles import load_profile
    from mockserver.settings import Settings

    settings = Settings(time_scale=0, seed=0, access_log=False)
    chosen = _marker_settings(request)
    chosen.pop("scenario", None)
    if "profile" in chosen:
        chosen["profile"] = load_profile(chosen["profile"])
    return dataclasses.replace(settings, **chosen) if chosen else settings


def _start(settings: Settings, scenario: str | None) -> LiveServer:
    from mockserver.scenarios import install, load_scenario
    from mockserver.testing import LiveServer

    server = LiveServer(settings)
    if scenario is not None:
        install(server.app, server.backend, load_scenario(scenario))
    server.start()
    _STARTED.append(server.url)
    return server


@pytest.fixture(scope="session")
def _nemo_servers() -> Iterator[dict[str, LiveServer]]:
    """The servers of this session (of this worker under xdist), one per distinct settings."""
    servers: dict[str, LiveServer] = {}
    yield servers
    for server in servers.values():
        server.stop()


def _reset(server: LiveServer) -> None:
    if not server.settings.control:  # no /_mock routes: reset the state directly
        server.reset()
        return
    # Through HTTP, so that a scenario's steps start over as well.
    with _control_client(server.url, server.settings.control_token) as http:
        http.post("/_mock/reset").raise_for_status()


@pytest.fixture
def nemo_live(
    request: pytest.FixtureRequest, nemo_settings: Settings, _nemo_servers: dict[str, LiveServer]
) -> Iterator[LiveServer]:
    """The mock served by uvicorn on 127.0.0.1:<free port>, reset for this test."""
    scenario = _marker_settings(request).get("scenario")
    if request.config.getoption("--nemo-server-per-test"):
        server = _start(nemo_settings, scenario)
        try:
            yield server
        finally:
            server.stop()
        return
    key = f"{nemo_settings!r}|{scenario}"
    shared = _nemo_servers.get(key)
    if shared is None:
        shared = _nemo_servers[key] = _start(nemo_settings, scenario)
    else:
        _reset(shared)
    yield shared


@pytest.fixture
def nemo_live_private(request: pytest.FixtureRequest, nemo_settings: Settings) -> Iterator[LiveServer]:
    """A server of this test's own, stopped after it (for tests that change what a reset keeps)."""
    server = _start(nemo_settings, _marker_settings(request).get("scenario"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nemo_journal(nemo_live: LiveServer) -> Iterator[JournalHelper]:
    helper = JournalHelper(nemo_live.url, nemo_live.settings.control_token)
    yield helper
    helper.close()


@pytest.fixture
def nemo_clock(nemo_live: LiveServer) -> Iterator[ClockHelper]:
    helper = ClockHelper(nemo_live.url, nemo_live.settings.control_token)
    yield helper
    helper.close()


@pytest.fixture
def nemo_scenario(nemo_live: LiveServer) -> Iterator[Callable[[str], dict[str, Any]]]:
    """`nemo_scenario("name")` arms a shipped scenario on `nemo_live` now, through
    `POST /_mock/scenarios/{name}`: its fault rules, accounts and steps (the reset before the next
    test ends them). A scenario that needs a restart raises `pytest.UsageError` saying so: use
    `@pytest.mark.nemo(scenario="name")` for those."""
    http = _control_client(nemo_live.url, nemo_live.settings.control_token)

    def apply(name: str) -> dict[str, Any]:
        answer = http.post(f"/_mock/scenarios/{name}")
        if answer.status_code != 200:
            raise pytest.UsageError(
                f"the mock cannot arm scenario {name!r} now ({answer.json().get('message')}); "
                f"use @pytest.mark.nemo(scenario={name!r})"
            )
        armed: dict[str, Any] = answer.json()
        return armed

    yield apply
    http.close()


@pytest.fixture
def nemo_client(nemo_live: LiveServer, tmp_path: Path) -> Iterator[Client]:
    """The reference client against `nemo_live`, at the mock's time scale, config dir in `tmp_path`."""
    from client import Client, ClientConfig

    config = ClientConfig(
        api_url=nemo_live.url,
        config_dir=tmp_path / "nemovideo",
        time_scale=nemo_live.settings.time_scale,
    )
    with Client(config) as client:
        yield client


@pytest.fixture
def nemo_faults(nemo_live: LiveServer) -> Iterator[FaultHelper]:
    """Arm fault rules on `nemo_live`; whatever is left armed is cleared afterwards."""
    helper = FaultHelper(nemo_live.url, nemo_live.settings.control_token)
    yield helper
    helper.clear()
    helper.close()


@pytest.fixture
def nemo_async_http(nemo_live: LiveServer) -> Iterator[httpx.AsyncClient]:
    """An `httpx.AsyncClient` on `nemo_live` for async tests under pytest-asyncio or anyio.

    It keeps no connection open between requests, so it is bound to no event loop: the test's loop
    uses it, and closing it afterwards has nothing to close.
    """
    client = httpx.AsyncClient(
        base_url=nemo_live.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
    )
    yield client
    asyncio.run(client.aclose())


@pytest.fixture
def nemo_app(nemo_settings: Settings) -> Iterator[Starlette]:
    """The mock's ASGI app in process; its state is `nemo_app.state.backend`."""
    from mockserver.app import create_app
    from mockserver.backend import Backend

    backend = Backend(nemo_settings)
    yield create_app(backend=backend)
    asyncio.run(backend.aclose())


@pytest.fixture
def nemo_asgi_client(nemo_app: Starlette) -> Iterator[httpx.AsyncClient]:
    """An `httpx.AsyncClient` that calls `nemo_app` directly (use it inside `asyncio.run`)."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=nemo_app), base_url=IN_PROCESS_URL)
    yield client
    asyncio.run(client.aclose())
