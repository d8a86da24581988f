"""Debian's Chromium through Playwright, and a fresh `serve --simulate` per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localhost.process import QUIET, Served, serve_simulated

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright passes --no-sandbox by default (chromium_sandbox=False), which root needs;
        # nothing else is required on this closed network.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """Debian's Chromium, or a skip that says why it cannot start."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        except Error as exc:
            pytest.skip(f"Chromium cannot start from {CHROMIUM}: {str(exc).splitlines()[0]}")
        yield browser
        browser.close()


def loopback_only(context) -> None:
    """Abort every request that would leave the machine (e.g. web fonts from a CDN)."""
    local = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "ws://localhost")
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(local) else route.abort(),
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve_simulated(tmp_path, env=QUIET) as served:
        yield served


@pytest.fixture
def page(browser, served: Served):
    """The dev page, live; the test fails on any script error or console error."""
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.goto(served.base + "/dev/")
    page.locator("#state[data-state=live]").wait_for()
    yield page
    context.close()
    assert not problems, problems


def update_screenshot() -> bool:
    """UPDATE_SCREENSHOT=1 rewrites docs/dev-chat.png (CI leaves it alone)."""
    return os.environ.get("UPDATE_SCREENSHOT") == "1"
