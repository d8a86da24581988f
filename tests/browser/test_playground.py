"""The Microsoft 365 Agents Playground in Chromium against `serve --simulate --playground`, on
each bot SDK: install in a team channel, an incident card in its thread, Approve, the card
edited to the fixed state, and a question answered in the personal chat, all in its UI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import loopback_only, update_screenshot
from tests.localhost.process import ROOT, Served, demo_rp_limit_alert, serve_with_playground

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
VM = "erp-app-03"
INCIDENT = "Restore point collection limit reached"
APPROVE = "Clean up, put the lock back"
DOCS_SCREENSHOT = ROOT / "docs" / "playground.png"


@pytest.fixture
def playground(chromium, sdk: str, tmp_path: Path) -> Iterator[tuple[Page, Served]]:
    """The Playground's web client, open, with the local host behind it on BOT_SDK=`sdk`."""
    with serve_with_playground(tmp_path, sdk) as (served, url):
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        loopback_only(context)
        page = context.new_page()
        page.goto(url + "/")
        expect(page.get_by_text("Connected.")).to_be_visible(timeout=15_000)
        yield page, served
        context.close()


def _install_in_the_channel(page: Page) -> None:
    page.get_by_text("remediation", exact=True).click()
    page.get_by_text("Mock an Activity").click()
    page.get_by_text("Install application", exact=True).click()
    page.get_by_role("button", name="Send activity").click()
    expect(page.get_by_text("installationUpdate 200").last).to_be_visible()


def _ask(page: Page, question: str) -> None:
    page.get_by_text("Personal Chat").click()
    page.get_by_role("textbox").first.click()
    page.keyboard.type(question)
    page.keyboard.press("Enter")


def test_approve_in_a_channel_thread_then_ask_why_the_vm_failed(playground, tmp_path: Path):
    page, served = playground
    _install_in_the_channel(page)

    posted = requests.post(served.base + "/api/alerts", json=demo_rp_limit_alert(VM), timeout=10)
    assert posted.status_code == 202, posted.text
    card = page.locator(".ac-adaptiveCard", has_text=INCIDENT).filter(has_text=VM)
    expect(card).to_have_count(1, timeout=20_000)
    page.screenshot(path=tmp_path / "1-incident.png")

    card.get_by_role("button", name=APPROVE).click()
    # The click's answer replaces the card; the bot then edits the message until the run ends.
    expect(card).to_contain_text("Approved by Dev Operator", timeout=15_000)
    expect(card).to_contain_text("RESOLVED", timeout=30_000)
    expect(card.get_by_role("button", name=APPROVE)).to_have_count(0)
    page.screenshot(path=tmp_path / "2-succeeded.png")
    if update_screenshot():  # the whole card, its title at the top
        page.set_viewport_size({"width": 1400, "height": 1350})
        card.evaluate("card => card.scrollIntoView({block: 'start'})")
        page.screenshot(path=DOCS_SCREENSHOT)

    _ask(page, f"why did VM {VM} fail")
    answer = page.locator(".ac-adaptiveCard", has_text=f"Why {VM} failed")
    expect(answer).to_have_count(1, timeout=15_000)
    expect(answer).to_contain_text("What was done")
    expect(answer).to_contain_text("Fixed")
    page.screenshot(path=tmp_path / "3-chat.png")
    # The cards use nothing the Playground reports as unsupported (e.g. full-width cards).
    expect(page.get_by_text("is not supported yet")).to_have_count(0)
