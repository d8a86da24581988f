"""Every kind of card rendered in Chromium by the adaptivecards package at the widths Teams
gives a bot's card: about 320 px on a phone, about 560 px in a desktop channel. No button
title may be cut (the renderer ends a title that does not fit with an ellipsis) and nothing
may spill sideways. The folded sections are opened first, so they are measured too."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.bot_app.test_cards import a_run, every_card_kind, view
from tests.localhost.process import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]
VENDOR = ROOT / "node_modules" / "adaptivecards" / "dist"
WIDTHS = {"phone": 320, "desktop": 560}
# Teams-like: its buttons and spacing (as the dev page), a fallback font wider than Segoe UI.
STYLE = """
body { margin: 0; font-family: "Segoe UI", sans-serif; font-size: 14px; }
.ac-pushButton { padding: 6px 12px; font: inherit; }
"""
RENDER = """
([cards, width]) => {
  const AC = window.AdaptiveCards;
  AC.defaultHostConfig.actions.maxActions = 6;
  const found = [];
  cards.forEach((json, index) => {
    const holder = document.createElement("div");
    holder.style.width = width + "px";
    document.body.append(holder);
    const card = new AC.AdaptiveCard();
    card.parse(json);
    holder.append(card.render());
    for (const title of holder.querySelectorAll(".ac-pushButton > div")) {
      const cut = title.scrollWidth > title.clientWidth + 1;
      if (cut) found.push(`card ${index}: "${title.innerText}" is cut`);
    }
    if (holder.scrollWidth > width + 1) found.push(`card ${index}: ${holder.scrollWidth}px wide`);
  });
  return found;
}
"""


def _unfolded(card: Any) -> Any:
    """The card with every folded section shown."""
    if isinstance(card, dict):
        return {k: (True if k == "isVisible" else _unfolded(v)) for k, v in card.items()}
    if isinstance(card, list):
        return [_unfolded(item) for item in card]
    return card


def _cards() -> list[dict[str, Any]]:
    from bot.incident_card import incident_card

    failed = a_run("hr-app-07", "failed", failure="VM hr-app-07 was not found in subscription "
                   "s-1, resource group rg: nothing was changed.",
                   context={"revealed_entry": "rp-collection-limit-reached"})  # fmt: skip
    kinds = [
        *every_card_kind(),
        incident_card(view(["hr-app-07"], approval_state="failed", runs=[failed])),
        incident_card(view(["hr-app-07"], approval_state="failed", runs=[failed], lang="fr")),
        incident_card(view(["erp-app-03"], approval_state="snoozed", lang="fr")),
    ]
    return [_unfolded(copy.deepcopy(card)) for card in kinds]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_no_button_title_is_cut_and_nothing_spills_at_teams_widths(browser, width):
    page = browser.new_page(viewport={"width": width + 40, "height": 900})
    try:
        page.set_content("<!doctype html><html><head><meta charset='utf-8'></head><body></body>")
        page.add_style_tag(path=str(VENDOR / "adaptivecards.css"))
        page.add_style_tag(content=STYLE)
        page.add_script_tag(path=str(VENDOR / "adaptivecards.min.js"))
        problems = page.evaluate(RENDER, [json.loads(json.dumps(_cards())), width])
    finally:
        page.close()
    assert problems == [], "\n".join(problems)
