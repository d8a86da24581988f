"""A card's buttons act on that card's incident only: a click from one incident's thread whose
data names another incident changes nothing, answers with the clicked card (never the other
one), says why in the card's language, and is audited with who clicked and which card."""

from __future__ import annotations

from dataclasses import replace

import pytest

from remediation.signals import parse_payload
from tests.bot_app.harness import APPROVER, bot_app
from tests.bot_app.test_incident_flow import decisions, texts
from tests.botkit.servers import run_async
from tests.engine.signals import load, rp_limit_alert

WEB_VAULT = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-web-prod/providers/"
    "Microsoft.RecoveryServices/vaults/rsv-web-weu"
)
REFUSED = {
    "en": "This card's buttons act on its own incident only: nothing was changed.",
    "fr": "Les boutons de cette carte n'agissent que sur son propre incident : rien n'a été "
    "modifié.",
}


async def _two_incidents(app, lang: str = "en") -> tuple[dict, dict]:
    """The clicked card's incident (erp-app, in `lang`) and web-04's, awaiting approval."""
    await app.install()
    erp = (
        parse_payload(load("common_alert_backup_failure_guest_agent_fr.json"))
        if lang == "fr"
        else rp_limit_alert("erp-app-02")
    )
    web = replace(rp_limit_alert("web-04"), vault_id=WEB_VAULT, vault="rsv-web-weu")
    clicked = await app.sync(app.engine.ingest, erp)
    other = await app.sync(app.engine.ingest, web)
    assert clicked.incident_id != other.incident_id
    return app.engine.incidents.get(clicked.incident_id), app.engine.incidents.get(
        other.incident_id
    )


def _refusals(app) -> list[dict]:
    return [e for e in app.engine.audit.entries() if e["result"] == "refused"]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("verb", ["approve", "reject", "snooze"])
@run_async
async def test_a_decision_from_another_incidents_card_changes_nothing(tmp_path, verb, lang):
    async with bot_app(tmp_path) as app:
        erp, web = await _two_incidents(app, lang)
        answer = await app.click(web["approval_id"], verb, on=erp["id"])

        assert app.engine.approvals.get(web["approval_id"])["state"] == "pending"
        assert app.engine.runs.for_incident(web["id"]) == []
        assert app.calls("update") == []  # no card was edited for anyone
        card = answer["value"]
        said = texts(card)
        assert said.startswith(REFUSED[lang])
        assert erp["vms"][0] in said and "web-04" not in said  # the clicked card, as it was
        assert web["approval_id"] not in str(card)
        if erp.get("approval_id"):
            assert {d["approvalId"] for _, d in decisions(card)} == {erp["approval_id"]}

        [refusal] = _refusals(app)
        assert refusal["actor"] == f"user:{APPROVER}" and refusal["name"] == "Alex Operator"
        assert refusal["action"] == f"approval {verb}"
        assert refusal["target"] == web["approval_id"]
        assert refusal["card"] == erp["card"]["conversation_id"]
        assert refusal["card_incident"] == erp["id"]


@run_async
async def test_an_on_call_action_from_another_incidents_card_changes_nothing(tmp_path):
    async with bot_app(tmp_path) as app:
        erp, web = await _two_incidents(app)
        answer = await app.click(None, "acknowledge", data={"incidentId": web["id"]}, on=erp["id"])
        assert "acknowledged" not in app.engine.incidents.get(web["id"])
        said = texts(answer["value"])
        assert said.startswith(REFUSED["en"]) and "erp-app-02" in said and "web-04" not in said
        [refusal] = _refusals(app)
        assert refusal["action"] == "on-call acknowledge" and refusal["card_incident"] == erp["id"]


@run_async
async def test_a_refresh_from_a_card_shows_that_cards_incident(tmp_path):
    async with bot_app(tmp_path) as app:
        erp, web = await _two_incidents(app)
        answer = await app.click(web["approval_id"], "approve", on=erp["id"], trigger="automatic")
        said = texts(answer["value"])
        assert "erp-app-02" in said and "web-04" not in said
        assert app.engine.approvals.get(web["approval_id"])["state"] == "pending"


@run_async
async def test_a_click_from_an_unknown_card_shows_no_incident(tmp_path):
    """The sample's fixed thread holds none of the bot's cards."""
    async with bot_app(tmp_path) as app:
        _, web = await _two_incidents(app)
        click = app.card_action(web["approval_id"], "approve")
        click["conversation"]["id"] = "19:ops-channel@thread.tacv2;messageid=1761900000500"
        click["replyToId"] = "1761900000500"
        status, answer = await app.post(click)
        assert status == 200
        said = texts(answer["value"])
        assert said == REFUSED["en"]
        assert app.engine.approvals.get(web["approval_id"])["state"] == "pending"
        [refusal] = _refusals(app)
        assert refusal["card_incident"] is None


@run_async
async def test_a_click_on_the_right_thread_but_another_message_is_refused(tmp_path):
    """Teams names the clicked message in replyToId; a message of the thread other than the
    incident's card carries none of its buttons."""
    async with bot_app(tmp_path) as app:
        erp, _ = await _two_incidents(app)
        click = app.card_action(erp["approval_id"], "approve")
        click["replyToId"] = "1761900009999"
        status, answer = await app.post(click)
        assert status == 200 and texts(answer["value"]).startswith(REFUSED["en"])
        assert app.engine.approvals.get(erp["approval_id"])["state"] == "pending"


@run_async
async def test_a_click_from_its_own_card_is_audited_with_that_card(tmp_path):
    async with bot_app(tmp_path) as app:
        erp, _ = await _two_incidents(app)
        answer = await app.click(erp["approval_id"], "reject")
        assert "Rejected by Alex Operator" in texts(answer["value"])
        [decided] = [e for e in app.engine.audit.entries() if e["action"] == "approval reject"]
        assert decided["result"] == "accepted"
        assert decided["card"] == erp["card"]["conversation_id"]
