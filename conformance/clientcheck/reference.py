"""The reference client as a `client-check` callable: `conformance.clientcheck.reference:skill_client`.

    python -m conformance.clientcheck --callable conformance.clientcheck.reference:skill_client

It runs `client.flows.Skill` for one message, configured from the environment the checker
gives (`ClientConfig.from_env`), so it continues the project of an earlier message in the same
`NEMO_CONFIG_DIR` as the `nemo-client` CLI does, keeping the anonymous token it obtained there
too (a second one within 7 days would be refused, B-AUTH-08). Waits go to a `FakeClock`: nothing
sleeps.
Videos are saved under `<NEMO_CONFIG_DIR>/downloads`. One httpx connection pool serves every
call (building one costs more than a whole run against a loopback world).
"""

from __future__ import annotations

import atexit
import functools
from collections.abc import Mapping
from pathlib import Path

import httpx

from client import DEFAULT_TIMEOUT, Client, ClientConfig, FakeClock
from client.cli import exit_code, load_cached_token, save_cached_token
from client.flows import Skill


@functools.cache
def _pool() -> httpx.Client:
    pool = httpx.Client(timeout=DEFAULT_TIMEOUT)
    atexit.register(pool.close)
    return pool


def skill_client(base_url: str, message: str, env: Mapping[str, str]) -> tuple[str, int]:
    """What the reference skill shows for `message`, and its CLI exit code."""
    config = ClientConfig.from_env({**env, "NEMO_API_URL": base_url})
    config_dir = config.config_dir
    assert config_dir is not None
    cached = load_cached_token(config_dir) if config.token is None else None
    with Client(config, clock=FakeClock(), http_client=_pool()) as client:
        if cached is not None:
            client.set_token(cached, "anonymous")
        outcome = Skill(client, downloads_dir=Path(config_dir) / "downloads").handle(message)
        if client.token_origin == "anonymous" and client.token != cached:
            save_cached_token(config_dir, client.token)
    return "\n".join(m.text for m in outcome.messages), exit_code(outcome)
