"""What the chat answers says is what the store and Azure show: an operator's awkward
questions (another case, a VM Azure knows but no incident names, French), over real Bot
Framework HTTP with the ARM simulator."""

from __future__ import annotations

import pytest

from tests.bot_app.harness import bot_app
from tests.bot_app.test_incident_flow import texts
from tests.botkit.servers import run_async
from tests.engine.signals import rp_limit_alert


@pytest.mark.timeout(60)
@run_async
async def test_a_vm_named_in_another_case_gets_the_same_answer(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        _, approval_id = await app.proposed_cleanup()
        pending = texts(await app.say("why did VM ERP-APP-03 fail"))
        assert "Approval: Waiting for a decision (Clean up restore points)" in pending
        assert pending == texts(await app.say("why did VM erp-app-03 fail"))

        await app.approve_and_run(approval_id)
        fixed = texts(await app.say("what happened to Erp-App-03"))
        assert "Lift the locks" in fixed  # the fix's timeline, whatever the case asked
        assert fixed == texts(await app.say("what happened to erp-app-03"))
        assert "Who decided on erp-app-03" in texts(await app.say("who approved ERP-APP-03"))


@run_async
async def test_a_vm_azure_knows_is_not_taken_for_a_typo(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-04"))
        said = texts(await app.say("why did vm erp-app-03 fail"))
        assert "No incident recorded for erp-app-03." in said
        assert "Health error 1004: Failed to fetch the changed blocks." in said  # Azure knows it
        assert "Did you mean" not in said and "erp-app-04" not in said
        typo = texts(await app.say("why did vm erp-app-4 fail"))  # Azure knows nothing of it
        assert "Did you mean erp-app-04?" in typo


# Microsoft's French troubleshooting page for agentless VMware replication (seed 001), as an
# operator pastes it
DISK_UPLOAD_FR = (
    "Le chargement des données du disque DiskPath, DiskId de la machine virtuelle VMName, "
    "VMId ne s\u2019est pas terminé dans le délai imparti."
)


@run_async
async def test_explaining_a_long_french_text_answers_in_french_only(tmp_path):
    async with bot_app(tmp_path) as app:
        said = texts(await app.say(f"explique {DISK_UPLOAD_FR}"))
        assert "Le chargement des données d'un disque ne s'est pas terminé à temps" in said
        assert "caractères de plus" in said  # the quoted text is cut, and says so in French
        assert "more characters" not in said


@pytest.mark.timeout(60)
@run_async
async def test_an_open_backup_incident_older_than_the_latest_completed_backup_is_said(
    tmp_path, arm_sim
):
    async with bot_app(tmp_path, arm_sim) as app:
        _, approval_id = await app.proposed_cleanup()
        before = texts(await app.say("why did vm erp-app-03 fail"))
        assert "latest backup job" not in before  # its newest job failed
        await app.approve_and_run(approval_id)  # the fix ends with a backup that completes
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03", alert_no=2))  # a late one
        said = texts(await app.say("why did vm erp-app-03 fail"))
        assert "Backup job Completed" in said
        assert "Azure's latest backup job of erp-app-03 completed " in said
        assert "after the failure 1 open backup incident(s) report." in said
        french = texts(await app.say("pourquoi la VM erp-app-03 a échoué"))
        assert "Le dernier travail de sauvegarde de erp-app-03 a réussi " in french
        assert "Travail de sauvegarde réussi (Completed), démarré " in french
        assert "Travail de sauvegarde échoué (Failed), démarré " in french


@run_async
async def test_a_french_answer_says_azure_states_in_french_with_azures_word(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        await app.install()
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        french = texts(await app.say("pourquoi la VM erp-app-03 a échoué"))
        assert "VM erp-app-03 : démarrée (running), agent prêt (Ready)" in french
        assert ": santé avertissement (Warning), " in french
        english = texts(await app.say("why did VM erp-app-03 fail"))
        assert "VM erp-app-03: running, agent Ready" in english


@run_async
async def test_a_why_without_a_vm_name_asks_for_one_in_the_askers_language(tmp_path):
    async with bot_app(tmp_path) as app:
        english = texts(await app.say("why did the vm fail?"))
        assert "Which VM? Name it, e.g. “why did VM <name> fail”." in english
        assert "fail failed" not in english and "No incident" not in english
        french = texts(await app.say("pourquoi la VM a échoué"))
        assert "Quelle VM ? Nommez-la, par exemple « pourquoi la VM <nom> a échoué »." in french
        assert "Which VM?" in texts(await app.say("who approved it?"))
        invalid = texts(await app.say('pourquoi la VM x" a échoué'))
        assert "« x\" » n'est pas un nom de VM Azure valide." in invalid
        assert "is not a valid" not in invalid  # no English sentence in a French answer


@run_async
async def test_a_vm_without_incidents_is_not_said_to_have_failed(tmp_path):
    async with bot_app(tmp_path) as app:
        english = texts(await app.say("why did vm web-09 fail"))
        assert english.startswith("What I know about web-09\nNo incident recorded for web-09.")
        assert "failed" not in english
        french = texts(await app.say("pourquoi la VM web-09 a échoué"))
        assert french.startswith("Ce que je sais de web-09\nAucun incident enregistré pour web-09.")
