"""On-call clicks over real Bot Framework HTTP: acknowledge, resolve with a note, refusals in
the card's language, and a VM joining a snoozed card announced with its own approval."""

from __future__ import annotations

from remediation.signals import parse_payload
from tests.bot_app.harness import STRANGER, bot_app
from tests.bot_app.test_incident_flow import decisions, executes, texts
from tests.botkit.servers import run_async
from tests.engine.signals import load, rp_limit_alert


async def _incident(app, vm: str = "erp-app-03") -> dict:
    await app.install()
    ingested = await app.sync(app.engine.ingest, rp_limit_alert(vm))
    return app.engine.incidents.get(ingested.incident_id)


@run_async
async def test_acknowledge_shows_the_owner_to_everyone_and_only_once(tmp_path):
    async with bot_app(tmp_path) as app:
        incident = await _incident(app)
        data = {"incidentId": incident["id"]}
        answer = await app.click(None, "acknowledge", data=data)
        said = texts(answer["value"])
        assert "Owned by Alex Operator · acknowledged just now" in said
        assert "acknowledge" not in {a["verb"] for a in executes(answer["value"])}
        assert "Owned by Alex Operator" in texts(app.latest_card())  # the channel's card too
        again = await app.click(None, "acknowledge", data=data)
        assert texts(again["value"]).startswith("Already acknowledged by Alex Operator.")
        refused = await app.click(None, "assign", data=data, user=STRANGER)
        assert texts(refused["value"]).startswith("You are not an approver")
        assert app.engine.incidents.get(incident["id"])["owner"]["name"] == "Alex Operator"


@run_async
async def test_resolve_with_a_note_settles_the_card_without_buttons(tmp_path):
    async with bot_app(tmp_path) as app:
        incident = await _incident(app)
        data = {"incidentId": incident["id"], "note": "Lock removed by the storage team."}
        answer = await app.click(None, "resolve", data=data)
        said = texts(answer["value"])
        assert said.startswith("RESOLVED")
        assert "Resolved by hand by Alex Operator: Lock removed by the storage team." in said
        assert executes(answer["value"]) == []
        assert texts(app.latest_card()).startswith("RESOLVED")
        approval = app.engine.approvals.get(incident["approval_id"])
        assert approval["state"] == "withdrawn"


@run_async
async def test_a_refusal_on_a_french_card_is_french(tmp_path):
    async with bot_app(tmp_path) as app:
        await app.install()
        french = parse_payload(load("common_alert_backup_failure_guest_agent_fr.json"))
        ingested = await app.sync(app.engine.ingest, french)
        data = {"incidentId": ingested.incident_id}
        refused = await app.click(None, "escalate", data=data, user=STRANGER)
        assert texts(refused["value"]).startswith("Vous n'êtes pas approbateur des corrections.")


@run_async
async def test_a_vm_joining_a_snoozed_card_is_announced_with_its_own_approval(tmp_path):
    async with bot_app(tmp_path) as app:
        incident = await _incident(app)
        snoozed = await app.click(incident["approval_id"], "snooze")
        assert texts(snoozed["value"]).startswith("SNOOZED")
        assert "unsnooze" in {a["verb"] for a in executes(snoozed["value"])}
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-04", alert_no=2))
        card = app.latest_card()
        said = texts(card)
        assert said.startswith("OPEN")
        assert "Decision needed for erp-app-04" in said
        assert "erp-app-03 (snoozed), erp-app-04 (waiting for approval)" in said
        assert {data["approvalId"] for _, data in decisions(card)} != {incident["approval_id"]}
