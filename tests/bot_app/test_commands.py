"""Command parsing (EN/FR, forgiving), the delta-cycle rule and live facts' failure tolerance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.answers import why_card
from bot.commands import Command, parse
from bot.vmfacts import VmFacts, next_delta_cycle, replication
from tests.bot_app.conftest import MIGRATE_VAULT_ID, VAULT_ID, vm_id
from tests.bot_app.test_incident_flow import texts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("why did VM erp-app-03 fail", Command("why", "erp-app-03")),
        ("Why did vm ERP-APP-03 fail?", Command("why", "ERP-APP-03")),
        ("why is web-01 failing", Command("why", "web-01")),
        ("why does sql-01 keep failing", Command("why", "sql-01")),
        ("what happened to VM file-02?", Command("why", "file-02")),
        ("What happened to dc-01", Command("why", "dc-01")),
        ("pourquoi la VM erp-app-03 a échoué", Command("why", "erp-app-03", "fr")),
        ("pourquoi web-03 échoue ?", Command("why", "web-03", "fr")),
        ("que s'est-il passé avec la vm sql-02", Command("why", "sql-02", "fr")),
        ('why did VM x" | union * fail', Command("why", 'x"')),
        ("explain UserErrorRpCollectionLimitReached", Command("explain", "UserErrorRpCollection"
                                                              "LimitReached")),
        ("explain: 1004", Command("explain", "1004")),
        ("explique 1004", Command("explain", "1004", "fr")),
        ("status", Command("status")),
        ("Incidents", Command("status")),
        ("état", Command("status", "", "fr")),
        ("pause", Command("pause")),
        ("resume", Command("resume")),
        ("reprendre", Command("resume", "", "fr")),
        ("dry-run on", Command("dry_run", "on")),
        ("Dry run OFF", Command("dry_run", "off")),
        ("help", Command("help")),
        ("aide", Command("help", "", "fr")),
        ("make me a sandwich", Command("unknown", "make me a sandwich")),
        ("", Command("unknown", "")),
        # typos in the command words, and the questions on-call people ask
        ("whyy did vm erp-app03 fail", Command("why", "erp-app03")),
        ("statsu", Command("status")),
        ("stauts", Command("status")),
        ("hlep", Command("help")),
        ("what is wrong with file-02", Command("why", "file-02")),
        ("what's wrong with VM file-02?", Command("why", "file-02")),
        ("qu'est-ce qui ne va pas avec file-02 ?", Command("why", "file-02", "fr")),
        ("show failed fixes", Command("failed")),
        ("failed fixes", Command("failed")),
        ("show faild fixes", Command("failed")),
        ("corrections échouées", Command("failed", "", "fr")),
        ("who approved erp-app-03", Command("who", "erp-app-03")),
        ("who approved the fix for VM erp-app-03?", Command("who", "erp-app-03")),
        ("qui a approuvé la correction de erp-app-03", Command("who", "erp-app-03", "fr")),
        ("digest", Command("digest")),
        ("résumé de la semaine", Command("digest", "", "fr")),
    ],
)  # fmt: skip
def test_phrasings(text, expected):
    assert parse(text) == expected


def test_the_senders_teams_locale_sets_the_language_of_an_ambiguous_message():
    assert parse("status", "fr-FR") == Command("status", "", "fr")
    assert parse("status", "en-GB") == Command("status")


def test_vm_names_are_not_corrected_into_command_words():
    assert parse("why did vm help-01 fail") == Command("why", "help-01")
    assert parse("why did vm status fail") == Command("why", "status")


def test_delta_cycle_rule_from_the_seed():
    end = datetime(2026, 10, 31, 10, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert next_delta_cycle(end, 4 * hour) == (end + 2 * hour, end + 2 * hour)
    assert next_delta_cycle(end, 30 * timedelta(minutes=1)) == (end + hour, end + hour)
    assert next_delta_cycle(end, 40 * hour) == (end + 12 * hour, end + 12 * hour)
    assert next_delta_cycle(end, None) == (end + hour, end + 12 * hour)


def _item(**details) -> dict:
    return {
        "name": "erp-app-03-item",
        "properties": {
            "machineName": "erp-app-03",
            "health": "Critical",
            "migrationStateDescription": "Delta sync",
            "healthErrors": [{"errorCode": "1004", "errorMessage": "changed blocks ${x}"}],
            "providerSpecificDetails": details,
        },
    }


def test_replication_facts_say_when_the_next_cycle_is_expected():
    last = "2026-10-31T10:00:00Z"
    four_hours = {"timeElapsed": 4 * 3600 * 1000}  # milliseconds
    timed = replication(_item(lastRecoveryPointReceived=last, gatewayOperationDetails=four_hours))
    assert timed.next_cycle == ("at", "2026-10-31T12:00:00+00:00")
    untimed = replication(_item(lastRecoveryPointReceived=last))
    assert untimed.next_cycle == ("between", "2026-10-31T11:00:00+00:00",
                                  "2026-10-31T22:00:00+00:00")  # fmt: skip
    running = replication(_item(lastRecoveryPointReceived=last, deltaSyncProgressPercentage=40))
    assert running.next_cycle == ("running", "40")
    assert replication(_item()).next_cycle is None


class FakeArm:
    """Stands in for the live sources of one unit test: one vault fails, one answers."""

    def list_migration_items(self, vault_id):
        if vault_id == VAULT_ID:
            raise PermissionError("AuthorizationFailed on the backup vault")
        return [_item(lastRecoveryPointReceived="2026-10-31T10:00:00Z"), _item() | {"name": "x"}]

    def instance_view(self, vm_id):
        raise PermissionError("AuthorizationFailed on the VM")

    def list_backup_jobs_named(self, vault_id, vm):
        errors = [{"errorCode": 400237, "errorString": "full"}]
        return [
            {
                "properties": {
                    "status": "Failed",
                    "startTime": "2026-10-31T09:00",
                    "errorDetails": errors,
                }
            }
        ]


class BrokenLogs:
    configured = True

    def for_vm(self, vm):
        raise TimeoutError("workspace did not answer")


def test_each_live_source_fails_alone_and_is_named():
    facts = VmFacts(lambda sub, actor: FakeArm(), [MIGRATE_VAULT_ID], BrokenLogs())
    found = facts.gather("erp-app-03", [VAULT_ID, None], [vm_id("erp-app-03")])
    assert [r.item for r in found.replication] == ["erp-app-03-item", "x"]
    assert found.backup_jobs[0]["errors"] == ["400237: full"]
    assert found.unavailable == [
        "VM erp-app-03: an unexpected error in the app (its log has the details)",
        "vault rsv-prod-weu: an unexpected error in the app (its log has the details)",
        "Log Analytics: Azure did not answer in time",
    ]
    said = texts(why_card("erp-app-03", [], found, "fr"))
    assert "Aucun incident enregistré pour erp-app-03" in said
    assert ("Prochain cycle de réplication delta prévu entre 2026-10-31 11:00 UTC et "
            "2026-10-31 22:00 UTC") in said  # fmt: skip
    assert "données en direct indisponibles : Log Analytics" in said
    assert "${" not in str(why_card("erp-app-03", [], found, "en"))


def test_no_vault_known_is_said():
    found = VmFacts(lambda sub, actor: FakeArm()).gather("erp-app-03", [])
    assert found.unavailable == ["Azure: no vault known for this VM (set POLL_VAULT_IDS)"]


def test_live_facts_read_each_vault_once_whatever_the_case_of_its_id():
    from bot.vmfacts import VmFacts

    calls = []

    class Arm:
        def list_migration_items(self, vault_id):
            calls.append(vault_id)
            return []

        def list_backup_jobs_named(self, vault_id, vm):
            return []

    vault = (
        "/subscriptions/s/resourceGroups/rg-Backup/providers/Microsoft.RecoveryServices/vaults/V1"
    )
    facts = VmFacts(lambda subscription, actor: Arm(), poll_vaults=[vault])
    facts.gather("erp-app-03", [vault.lower()])
    assert calls == [vault.lower()]


def test_only_the_vms_among_an_incidents_resources_have_their_instance_view_read():
    read = []

    class Arm:
        def instance_view(self, vm_id):
            read.append(vm_id)
            return {"statuses": [{"code": "PowerState/running"}]}

        def list_migration_items(self, vault_id):
            return []

        def list_backup_jobs_named(self, vault_id, vm):
            return []

    item = MIGRATE_VAULT_ID + "/replicationFabrics/f/replicationProtectionContainers/c/" \
        "replicationMigrationItems/erp-app-03-item"  # fmt: skip
    extension = vm_id("erp-app-03") + "/extensions/VMSnapshot"
    found = VmFacts(lambda sub, actor: Arm()).gather(
        "erp-app-03", [VAULT_ID], [item, vm_id("erp-app-03"), vm_id("ERP-APP-03"), extension]
    )
    assert read == [vm_id("erp-app-03")]
    assert [(m.name, m.power, m.agent) for m in found.machines] == [("erp-app-03", "running", [])]


def test_a_backup_job_tells_its_vms_resource_group_from_its_container_when_it_names_one():
    from bot.vmfacts import backup_job
    from tests.simulator.test_spec_conformance import EXAMPLES

    microsoft = json.loads((EXAMPLES / "backup" / "GetJobDetails.json").read_text())
    assert backup_job(microsoft["responses"]["200"]["body"])["group"] is None  # names none
    for container in (
        "IaasVMContainer;iaasvmcontainerv2;rg-erp;erp-01",
        "iaasvmcontainerv2;rg-erp;erp-01",
    ):
        assert backup_job({"properties": {"containerName": container}})["group"] == "rg-erp"
