"""The dev chat page in Chromium, driven as an on-call person would: incident cards in the
channel whose state, colour and buttons follow the fixes, clicks, and chat answers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import update_screenshot
from tests.localhost.process import ROOT, Served, demo_french_alert, demo_rp_limit_alert

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]
VM = "erp-app-03"
APPROVE = "Clean up, put the lock back"
DOCS = ROOT / "docs"
# What a settled card may still offer: its folded sections and the overflow menu of links.
FOLDS = {"Timeline", "Details", "..."}  # "..." opens the overflow menu


def _post(served: Served, payload: dict[str, Any]) -> None:
    response = requests.post(served.base + "/api/alerts", json=payload, timeout=10)
    assert response.status_code == 202, response.text


def _sim_state(served: Served) -> dict:
    sim = requests.get(served.base + "/dev/api/simulator", timeout=10).json()
    state = requests.get(sim["base_url"] + "/_sim/state", verify=sim["ca_path"], timeout=10)
    state.raise_for_status()
    return state.json()


def _thread(page: Page, vm: str = VM) -> Locator:
    thread = page.locator(".thread", has_text=vm)
    expect(thread).to_have_count(1, timeout=15_000)
    return thread


def _card_json(served: Served, vm: str) -> dict[str, Any]:
    threads = requests.get(served.base + "/dev/api/threads", timeout=10).json()["threads"]
    [thread] = [t for t in threads if vm in str(t["activities"][0])]
    return thread["activities"][0]["attachments"][0]["content"]


def _button_names(thread: Locator) -> set[str]:
    return {name.strip() for name in thread.get_by_role("button").all_inner_texts()}


def _ask(page: Page, question: str) -> Locator:
    before = page.locator("#chat-log .message.bot").count()
    page.locator("#chat-input").fill(question)
    page.locator("#chat-input").press("Enter")
    answer = page.locator("#chat-log .message.bot").nth(before)
    expect(answer).to_be_visible(timeout=15_000)
    return answer


def _screenshot(page: Page, thread: Locator, name: str, tmp_path: Path) -> None:
    """The whole thread, into tmp_path always and into docs/ (the README's) with
    UPDATE_SCREENSHOT=1: the page grows to hold it, the changes bar is hidden meanwhile."""
    viewport = page.viewport_size
    box = thread.bounding_box() or {"height": 0}
    page.set_viewport_size({"width": viewport["width"], "height": int(box["height"]) + 200})
    page.locator("#changed").evaluate("bar => { bar.style.visibility = 'hidden'; }")
    thread.scroll_into_view_if_needed()
    thread.screenshot(path=tmp_path / name)
    if update_screenshot():
        thread.screenshot(path=DOCS / name)
    page.locator("#changed").evaluate("bar => { bar.style.visibility = ''; }")
    page.set_viewport_size(viewport)


def test_approve_turns_the_card_green_resolved_with_no_buttons(
    page: Page, served: Served, tmp_path: Path
):
    _post(served, demo_rp_limit_alert(VM))
    thread = _thread(page)
    expect(thread).to_contain_text("OPEN")
    expect(thread).to_contain_text("The lock on the AzureBackupRG_* group is the cause")
    _screenshot(page, thread, "card-open.png", tmp_path)

    thread.get_by_role("button", name=APPROVE).click()
    expect(thread).to_contain_text("Approved by Dev Operator", timeout=10_000)
    expect(thread).to_contain_text("RESOLVED", timeout=30_000)
    expect(thread).to_contain_text(f"Fixed: Azure shows the fix worked for {VM}.")
    assert _card_json(served, VM)["body"][0]["style"] == "good"
    assert _button_names(thread) <= FOLDS  # nothing left to decide or act on
    thread.get_by_role("button", name="Timeline").click()  # the folded steps, by the renderer
    expect(thread).to_contain_text("Put the locks back: restored 1 lock(s)")
    expect(page.locator(".thread")).to_have_count(1)
    _screenshot(page, thread, "card-resolved.png", tmp_path)

    answer = _ask(page, f"why did VM {VM} fail")
    expect(answer).to_contain_text(f"Why {VM} failed")
    expect(answer).to_contain_text("What was done")
    expect(answer).to_contain_text("Lift the locks")
    if update_screenshot():
        page.locator(".posts").evaluate("posts => { posts.scrollTop = 0; }")
        page.screenshot(path=DOCS / "dev-chat.png")


def test_a_fix_for_a_vm_the_estate_does_not_have_fails_with_its_reason_and_a_retry(
    page: Page, served: Served, tmp_path: Path
):
    _post(served, demo_rp_limit_alert("hr-app-07"))
    thread = _thread(page, "hr-app-07")
    thread.get_by_role("button", name=APPROVE).click()
    expect(thread).to_contain_text("FAILED", timeout=30_000)
    expect(thread).to_contain_text("Fix failed for hr-app-07: VM hr-app-07 was not found")
    expect(thread.get_by_role("button", name="Retry fix")).to_be_visible()
    assert _card_json(served, "hr-app-07")["body"][0]["style"] == "attention"
    thread.get_by_role("button", name="Details").click()
    expect(thread).to_contain_text("Error: 404 ResourceNotFound")
    expect(thread).to_contain_text("Request id: ")
    _screenshot(page, thread, "card-failed.png", tmp_path)

    thread.get_by_role("button", name="Retry fix").click()  # fails again, and says so again
    expect(thread).to_contain_text("FAILED", timeout=30_000)
    expect(thread.get_by_role("button", name="Retry fix")).to_be_visible(timeout=30_000)


def test_a_vm_joining_a_settled_incident_gets_its_own_approval(
    page: Page, served: Served, tmp_path: Path
):
    before = _sim_state(served)
    _post(served, demo_rp_limit_alert(VM))
    thread = _thread(page)
    thread.get_by_role("button", name="Reject").click()
    expect(thread).to_contain_text("Rejected by Dev Operator", timeout=10_000)
    expect(thread.get_by_role("button", name=APPROVE)).to_have_count(0)

    _post(served, demo_rp_limit_alert("erp-app-04"))
    expect(thread).to_contain_text("Decision needed for erp-app-04", timeout=15_000)
    expect(thread).to_contain_text("erp-app-03 (fix rejected), erp-app-04 (waiting for approval)")
    expect(thread.get_by_role("button", name=APPROVE)).to_have_count(1)
    expect(page.locator(".thread")).to_have_count(1)
    _screenshot(page, thread, "card-joined.png", tmp_path)
    time.sleep(1)  # a fix, if one were wrongly queued for the rejected VM, would have run
    after = _sim_state(served)
    for kind in ("locks", "restore_point_collections"):
        assert after[kind] == before[kind], kind


def test_a_french_alert_gets_a_french_card_on_top_of_the_channel(
    page: Page, served: Served, tmp_path: Path
):
    _post(served, demo_rp_limit_alert(VM))
    _thread(page)
    _post(served, demo_french_alert("erp-app-04"))
    thread = _thread(page, "erp-app-04")
    expect(thread).to_contain_text("Première détection", timeout=15_000)
    # the catalogue's French title
    expect(thread).to_contain_text("L'agent de machine virtuelle ne communique pas")
    for english in ("First seen", "Nobody", "Waiting", "Last signal", "Timeline", "Details"):
        expect(thread).not_to_contain_text(english)
    expect(page.locator(".thread").first).to_contain_text("erp-app-04")  # newest first
    expect(page.locator("#changed")).to_contain_text("post")
    _screenshot(page, thread, "card-french.png", tmp_path)


def test_a_typo_in_a_question_gets_a_did_you_mean(page: Page, served: Served):
    _post(served, demo_rp_limit_alert(VM))
    _thread(page)
    answer = _ask(page, "whyy did vm erp-ap-03 fail")
    expect(answer).to_contain_text("No incident recorded for erp-ap-03.")
    expect(answer).to_contain_text("Did you mean erp-app-03?")
    expect(_ask(page, "statsu")).to_contain_text("Open incidents: 1")
    expect(_ask(page, "what is wrong with erp-app-03")).to_contain_text(
        "Restore point collection limit reached"
    )


def test_the_overflow_menu_holds_the_links(page: Page, served: Served):
    page.context.route("https://learn.microsoft.com/**", lambda route: route.fulfill(body="docs"))
    _post(served, demo_rp_limit_alert(VM))
    thread = _thread(page)
    thread.get_by_role("button", name="More options").click()
    with page.expect_popup() as popup:
        page.get_by_role("menuitem", name="Docs").click()
    assert popup.value.url.startswith("https://learn.microsoft.com/")


# WCAG 2 contrast ratio of a button's text on its own background.
_CONTRAST = """button => {
  const rgb = (css) => css.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (css) => {
    const [r, g, b] = rgb(css).map((v) => v / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(button);
  const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_folds_open_quietly_and_an_open_form_leaves_every_button_readable(
    page: Page, served: Served
):
    _post(served, demo_rp_limit_alert(VM))
    thread = _thread(page)
    thread.get_by_role("button", name="Details").click()  # the renderer folds it open itself
    expect(thread).to_contain_text("Times (UTC)")
    expect(page.locator("#toast")).to_be_hidden()  # no "not handled by Teams": Teams handles it

    thread.get_by_role("button", name="Resolve…").click()  # Action.ShowCard: the note form
    expect(thread.get_by_role("button", name="Resolve", exact=True)).to_be_visible()
    for name in ("Acknowledge", "More options", "Reject", "Snooze"):
        button = thread.get_by_role("button", name=name, exact=True)
        ratio = button.evaluate(_CONTRAST)
        assert ratio >= 4.5, f"{name}: hard to read ({ratio:.1f}:1) while a form is open"
