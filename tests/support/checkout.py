"""The checkout's own places, for tests: the repository root, the tests and the test fixtures.

The packages never read these. What they read at run time ships inside `contracts` (see
`contracts.resources`); `fixtures/` holds test material only (media samples, recorded streams,
documented commands and examples).
"""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
TESTS_DIR = PROJECT_DIR / "tests"
FIXTURES_DIR = PROJECT_DIR / "fixtures"
