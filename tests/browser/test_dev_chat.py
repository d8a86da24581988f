"""The dev chat page in Chromium: incident cards in the channel, clicks, and chat answers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import update_screenshot
from tests.localhost.process import ROOT, Served, demo_rp_limit_alert

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]
VM = "erp-app-03"
DOCS_SCREENSHOT = ROOT / "docs" / "dev-chat.png"


def _post_alert(served: Served) -> None:
    response = requests.post(served.base + "/api/alerts", json=demo_rp_limit_alert(VM), timeout=10)
    assert response.status_code == 202, response.text


def _sim_state(served: Served) -> dict:
    sim = requests.get(served.base + "/dev/api/simulator", timeout=10).json()
    state = requests.get(sim["base_url"] + "/_sim/state", verify=sim["ca_path"], timeout=10)
    state.raise_for_status()
    return state.json()


def _incident_thread(page: Page):
    thread = page.locator(".thread", has_text=VM)
    expect(thread).to_have_count(1, timeout=15_000)
    return thread


def test_approve_the_fix_then_ask_why_the_vm_failed(page: Page, served: Served, tmp_path: Path):
    _post_alert(served)
    thread = _incident_thread(page)
    expect(thread).to_contain_text("Restore point collection limit reached")
    page.screenshot(path=tmp_path / "1-incident.png")

    thread.get_by_role("button", name="Approve fix").click()
    # The bot edits the same message in place until the run ends.
    expect(thread).to_contain_text("Approved by Dev Operator", timeout=10_000)
    expect(thread).to_contain_text("fix succeeded", timeout=30_000)
    expect(thread.get_by_role("button", name="Approve fix")).to_have_count(0)
    expect(page.locator(".thread")).to_have_count(1)
    page.screenshot(path=tmp_path / "2-succeeded.png")

    page.locator("#chat-input").fill(f"why did VM {VM} fail")
    page.locator("#chat-input").press("Enter")
    answer = page.locator("#chat-log .message.bot").last
    expect(answer).to_contain_text(f"Why {VM} failed", timeout=15_000)
    expect(answer).to_contain_text("Cause")
    expect(answer).to_contain_text("What was done")
    expect(answer).to_contain_text("succeeded")
    page.locator(".posts").evaluate("posts => { posts.scrollTop = 0; }")
    page.screenshot(path=tmp_path / "3-chat.png")
    if update_screenshot():
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=DOCS_SCREENSHOT)


def test_reject_changes_nothing_in_azure(page: Page, served: Served, tmp_path: Path):
    before = _sim_state(served)
    _post_alert(served)
    thread = _incident_thread(page)

    page.context.route("https://learn.microsoft.com/**", lambda route: route.fulfill(body="docs"))
    with page.expect_popup() as popup:  # Action.OpenUrl opens a new tab
        thread.get_by_role("link", name="Documentation").click()
    assert popup.value.url.startswith("https://learn.microsoft.com/")
    thread.get_by_role("button", name="Details").click()  # Action.ShowCard, by the renderer
    expect(thread).to_contain_text("Raw error messages")

    thread.get_by_role("button", name="Reject").click()
    expect(thread).to_contain_text("Rejected by Dev Operator", timeout=10_000)
    expect(thread.get_by_role("button", name="Approve fix")).to_have_count(0)
    page.screenshot(path=tmp_path / "rejected.png")

    time.sleep(1)  # a fix run, if one were wrongly queued, would have started by now
    after = _sim_state(served)
    for kind in ("locks", "restore_point_collections"):
        assert after[kind] == before[kind], kind
