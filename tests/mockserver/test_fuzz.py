"""Generated requests against every operation of the contract: never a 500, answers as the spec says.

A bounded schemathesis pass over contracts/openapi.yaml against a live mock (bad input everywhere:
wrong types, missing fields, odd ids). The deep, stateful runs belong to the contract suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from contracts.spec import load_openapi
from mockserver.settings import Settings
from mockserver.testing import LiveServer

schema = schemathesis.openapi.from_dict(load_openapi())


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[tuple[str, dict[str, str]]]:
    """A live mock and a paid account's headers (so generated bodies can reach every branch)."""
    with LiveServer(Settings(time_scale=0, seed=11, access_log=False)) as server:
        token = httpx.post(f"{server.url}/_mock/accounts", json={"tier": "paid", "credits": 10**9}).json()[
            "token"
        ]
        yield server.url, {"Authorization": f"Bearer {token}", "X-Skill-Source": "nemo-video"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_conforming_answers(case, fuzz_target) -> None:
    """B-ERR-01/02, U-01/02/03/12: any generated request gets a documented answer, never a 500."""
    base_url, headers = fuzz_target
    case.call_and_validate(
        base_url=base_url,
        headers={**headers, **(case.headers or {})},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
