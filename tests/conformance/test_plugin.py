"""The pytest plugin `nemo` (entry point pytest11): its fixtures, and the documented user test as is."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from checkout import PROJECT_DIR
from conformance.plugin import FaultHelper

DOC = PROJECT_DIR / "docs" / "ci-contract-check.md"


def documented_example() -> str:
    """The python block of the plugin section of docs/ci-contract-check.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Testing your own code against the mock") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the plugin section has no python example"
    return match.group(1)


def test_the_documented_example_runs_as_a_user_test(tmp_path: Path) -> None:
    """B-SSE-09, U-17: the ten-line example passes under plain pytest, the plugin found by entry point."""
    example = documented_example()
    assert len([line for line in example.splitlines() if line.strip()]) <= 12
    (tmp_path / "test_example.py").write_text(example, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_mock_in_process(nemo_app, nemo_asgi_client: httpx.AsyncClient) -> None:
    """B-AUTH-03, B-CRED-03: over ASGITransport a new anonymous account has 100 credits."""

    async def first_steps() -> tuple[int, dict[str, int]]:
        issued = await nemo_asgi_client.post("/api/auth/anonymous-token", headers={"X-Client-Id": "plugin"})
        token = issued.json()["data"]["token"]
        balance = await nemo_asgi_client.get(
            "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        return issued.status_code, balance.json()["data"]

    status, balance = asyncio.run(first_steps())
    assert status == 200 and balance == {"available": 100, "frozen": 0, "total": 100}
    assert nemo_app.state.backend.settings.time_scale == 0


def test_the_live_mock_and_its_faults(nemo_live, nemo_faults: FaultHelper) -> None:
    """U-03: an armed fault answers once (429 with Retry-After), then the mock answers as before."""
    rule = nemo_faults.arm(
        method="POST",
        path="/api/auth/anonymous-token",
        respond={
            "status": 429,
            "json": {"code": 429, "message": "slow down"},
            "headers": {"Retry-After": "30"},
        },
    )
    assert rule["times"] == 1 and nemo_faults.rules() == [rule]
    first = httpx.post(f"{nemo_live.url}/api/auth/anonymous-token", headers={"X-Client-Id": "faults"})
    assert first.status_code == 429 and first.headers["retry-after"] == "30"
    again = httpx.post(f"{nemo_live.url}/api/auth/anonymous-token", headers={"X-Client-Id": "faults"})
    assert again.status_code == 200 and nemo_faults.rules() == []
    with pytest.raises(ValueError, match="refused the fault rule"):
        nemo_faults.arm(path="no-slash", sse="silent")


def test_the_reference_client_is_configured_for_the_live_mock(nemo_client, nemo_live, tmp_path: Path) -> None:
    """B-SESS-01, B-AUTH-12: the client gets its own token and keeps its client id under tmp_path."""
    session = nemo_client.create_session()
    assert session.session_id and nemo_client.credits().total == 100
    assert nemo_client.config.api_url == nemo_live.url
    assert (tmp_path / "nemovideo" / "client_id").is_file()
