"""The pytest plugin (entry point `pytest11`, name `nemo`): the mock and the reference client as fixtures.

- `nemo_settings`: the mock's `Settings` (time scale 0, seed 0); override it to change the mock;
- `nemo_app`: the mock in process, the ASGI app (its `Backend` is `nemo_app.state.backend`);
- `nemo_asgi_client`: an `httpx.AsyncClient` over `ASGITransport(nemo_app)` (buffered: no live streams);
- `nemo_live`: the mock as a real uvicorn server on a free loopback port (`.url`, `.backend`);
- `nemo_client`: a reference `client.Client` configured for `nemo_live`, its config dir in `tmp_path`;
- `nemo_faults`: arm and clear fault rules through `/_mock/faults` (cleared after the test).

Modules load lazily, so the plugin costs nothing in test runs that use none of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
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


class FaultHelper:
    """Fault rules on a live mock: `arm(method="POST", path="/run_sse", sse="silent")`, `clear()`."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def arm(self, rule: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Arm one rule (a dict, keyword fields, or both); returns the rule as the mock stored it."""
        response = self.http.post("/_mock/faults", json={**(rule or {}), **fields})
        if response.status_code != 200:
            raise ValueError(f"the mock refused the fault rule: {response.text}")
        armed: dict[str, Any] = response.json()["rule"]
        return armed

    def rules(self) -> list[dict[str, Any]]:
        """The rules still armed."""
        rules: list[dict[str, Any]] = self.http.get("/_mock/faults").json()["rules"]
        return rules

    def clear(self) -> None:
        self.http.delete("/_mock/faults")

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def nemo_settings() -> Settings:
    """The mock's settings; override this fixture in a conftest to serve another profile or dialect."""
    from mockserver.settings import Settings

    return Settings(time_scale=0, seed=0, access_log=False)


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


@pytest.fixture
def nemo_live(nemo_settings: Settings) -> Iterator[LiveServer]:
    """The mock served by uvicorn on 127.0.0.1:<free port> for the test."""
    from mockserver.testing import LiveServer

    with LiveServer(nemo_settings) as server:
        yield server


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
    helper = FaultHelper(nemo_live.url)
    yield helper
    helper.clear()
    helper.close()
