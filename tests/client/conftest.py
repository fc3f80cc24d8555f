"""Fixtures for the workflow, CLI and integration tests: a live mock and a skill bound to it.

The mock runs at time scale 0 on a real uvicorn (`LiveServer`), so streams, heartbeats and
disconnects are real. The client waits on `PacedClock`: a FakeClock whose every wait also lets
the mock finish the work it has in flight, which is what a wait of 30 virtual seconds means at
time scale 0 (the mock's own tests do the same with `wait_idle`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import Client, ClientConfig, FakeClock
from client.flows import Message, Skill
from contracts.profiles import Profile
from mockserver.settings import Settings
from mockserver.testing import LiveServer

WEB = "https://web.test"


class PacedClock(FakeClock):
    """A FakeClock whose waits let the mock's running turns finish first (time scale 0)."""

    __slots__ = ("server",)

    def __init__(self, server: LiveServer) -> None:
        super().__init__(start=1_773_187_200.0)
        self.server = server

    def sleep(self, seconds: float) -> None:
        self.server.wait_idle()
        super().sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self.server.wait_idle()
        await super().asleep(seconds)


@dataclass
class Harness:
    """A live mock, a Client on it, and a Skill that records every message."""

    server: LiveServer
    client: Client
    skill: Skill
    clock: PacedClock
    messages: list[Message] = field(default_factory=list)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, self.server.url + path, timeout=30, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def fault(self, **rule: Any) -> None:
        """Arm one fault rule (POST /_mock/faults)."""
        self.control("POST", "/_mock/faults", json=rule)

    def journal(self, path: str | None = None) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "/_mock/journal")["entries"]
        return [e for e in entries if path is None or e["path"] == path]

    def advance(self, seconds: float) -> None:
        self.control("POST", "/_mock/clock/advance", json={"seconds": seconds})


def paid_token(server: LiveServer, credits: int = 10_000) -> str:
    """A registered, paying account's token, made by the control API."""
    response = httpx.post(
        server.url + "/_mock/accounts", json={"tier": "paid", "credits": credits}, timeout=30
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def make_harness(
    server: LiveServer,
    tmp_path: Path,
    *,
    token: str | None = None,
    client_id: str = "itest-client-0001",
    http_client: httpx.Client | None = None,
    profile: Profile | None = None,
    **skill_kwargs: Any,
) -> Harness:
    config = ClientConfig(
        api_url=server.url,
        web_url=WEB,
        token=token,
        client_id=client_id,
        config_dir=tmp_path / "config",
        profile=profile,
    )
    clock = PacedClock(server)
    client = Client(config, clock=clock, http_client=http_client)
    harness = Harness(server, client, Skill(client), clock)
    harness.skill.on_message = harness.messages.append
    harness.skill.downloads_dir = tmp_path / "downloads"
    for key, value in skill_kwargs.items():
        setattr(harness.skill, key, value)
    return harness


@pytest.fixture(scope="session")
def live_mock() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, seed=11, access_log=False)) as server:
        yield server


@pytest.fixture
def mock(live_mock: LiveServer) -> Iterator[LiveServer]:
    live_mock.reset()
    yield live_mock
    live_mock.wait_idle()


@pytest.fixture
def harness(mock: LiveServer, tmp_path: Path) -> Iterator[Harness]:
    """An anonymous skill (no NEMO_TOKEN) on the shared live mock."""
    h = make_harness(mock, tmp_path)
    yield h
    h.client.close()


@pytest.fixture
def paid(mock: LiveServer, tmp_path: Path) -> Iterator[Harness]:
    """A skill with a paying account's NEMO_TOKEN, enough credits for every edit."""
    h = make_harness(mock, tmp_path, token=paid_token(mock))
    yield h
    h.client.close()


HarnessFactory = Callable[..., Harness]


@pytest.fixture
def harness_factory(tmp_path: Path) -> Iterator[HarnessFactory]:
    """`harness_factory(server, token=..., http_client=...)` -> a Harness, closed after the test."""
    made: list[Harness] = []

    def factory(server: LiveServer, **kwargs: Any) -> Harness:
        h = make_harness(server, tmp_path / f"h{len(made)}", **kwargs)
        made.append(h)
        return h

    yield factory
    for h in made:
        h.client.close()


@pytest.fixture
def new_paid_token() -> Callable[..., str]:
    """`new_paid_token(server, credits=10_000)` -> the NEMO_TOKEN of a new paying account."""
    return paid_token


@pytest.fixture
def paced_clock() -> Callable[[LiveServer], PacedClock]:
    """`paced_clock(server)` -> a FakeClock whose waits let that server finish its work."""
    return PacedClock
