"""Browser tests: Debian's `chromium` driven by Playwright, against the real mock on a loopback port.

Playwright's own browser download is not used (CI cannot reach it): the system's chromium is
launched by path. These tests are never skipped: without chromium they fail and say how to install
it (`.ci/run` does). One browser serves each module; screenshots are written to
`tmp/artifacts/web/` (or `$NEMO_TEST_ARTIFACTS/web/`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from web_browser import CHROMIUM_ARGS, chromium_path

from mockserver.settings import Settings
from mockserver.testing import LiveServer


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser per module: Playwright's sync API runs an event loop on this thread while it is
    open, which must not outlive the module (other tests start loops of their own)."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(time_scale=0, seed=7, access_log=False)) as live:
        yield live


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 900})
    made.set_default_timeout(10_000)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext, server: LiveServer) -> Iterator[Page]:
    server.reset()
    opened = context.new_page()
    try:
        yield opened
    finally:
        opened.close()
        server.wait_idle()
