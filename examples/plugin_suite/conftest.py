"""The sample suite runs its async tests on asyncio through anyio's pytest plugin (shipped with anyio)."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
