"""Where the browser tests find chromium and put their screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from checkout import PROJECT_DIR

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
DEBIAN_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    found = shutil.which("chromium") or (DEBIAN_CHROMIUM if Path(DEBIAN_CHROMIUM).is_file() else None)
    if found is None:
        pytest.fail(
            "The browser tests need Debian's chromium: `apt-get install chromium` (.ci/run installs it). "
            "Playwright's own browser download is not used.",
            pytrace=False,
        )
    return found


def artifacts_dir() -> Path:
    root = Path(os.environ.get("NEMO_TEST_ARTIFACTS") or PROJECT_DIR / "tmp" / "artifacts")
    directory = root / "web"
    directory.mkdir(parents=True, exist_ok=True)
    return directory
