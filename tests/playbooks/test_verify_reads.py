"""The reads every fix makes before it writes (verify.py), called the way a step calls them,
against the simulator: a target whose ids name the wrong kind of resource, names that differ
only in case (Azure's are case-insensitive), a vault that protects another resource under the
VM's name. Each refusal is one sentence saying where the bot looked; nothing is written."""

from __future__ import annotations

import pytest

from devtools.simulator import Behaviour
from remediation.audit import AuditLog
from remediation.azure.operations import Arm
from remediation.playbooks import verify
from remediation.playbooks.base import RunContext, StepFailed
from remediation.store import SqliteStore

SUB = "6a1e5f2c-3b4d-4e8f-9a0b-1c2d3e4f5a6b"
ERP = f"/subscriptions/{SUB}/resourceGroups/rg-erp-prod/providers/Microsoft.Compute"
VM03 = f"{ERP}/virtualMachines/erp-app-03"
VAULT = (f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices"
         "/vaults/rsv-backup-weu")  # fmt: skip
OTHER_VAULT = VAULT.replace("rsv-backup-weu", "rsv-backup-neu")


@pytest.fixture
def ctx_for(sim, arm_clients):
    arm = Arm(arm_clients, AuditLog(SqliteStore(":memory:")), "test")

    def make(vm="erp-app-03", resource_id=VM03, vault_id=VAULT, **target):
        target = {"vm": vm, "resource_id": resource_id, "vault_id": vault_id, **target}
        return RunContext({"target": target, "context": {}}, arm, False, lambda: None, None, None)

    yield make
    assert sim.requests.writes == 0


def _refusal(call, ctx) -> str:
    with pytest.raises(StepFailed) as refused:
        call(ctx)
    return str(refused.value)


def test_where_names_the_subscription_and_group_or_says_the_id_is_unreadable():
    assert verify.where(VM03) == f"subscription {SUB}, resource group rg-erp-prod"
    assert verify.where(None) == "an unreadable resource id"
    assert verify.where("erp-app-03") == "an unreadable resource id"


def test_a_target_whose_vm_id_names_another_kind_of_resource_is_refused(ctx_for):
    said = _refusal(verify.target_vm_id, ctx_for(resource_id=VAULT))
    assert said == (
        "The signal for erp-app-03 named no Azure VM resource id, so there is nothing the bot "
        "can safely act on."
    )


def test_a_target_whose_vault_id_names_another_kind_of_resource_is_refused(ctx_for):
    said = _refusal(verify.target_vault, ctx_for(vault_id=VM03))
    assert said == "The signal for erp-app-03 named no Recovery Services vault."


def test_a_vm_name_that_differs_only_in_case_is_the_same_vm(ctx_for):
    found = verify.require_vm(ctx_for(vm="ERP-APP-03"))
    assert found["name"] == "erp-app-03"


def test_a_missing_vm_is_said_with_where_it_was_looked_for(ctx_for):
    ghost = VM03.replace("erp-app-03", "erp-app-99")
    said = _refusal(verify.require_vm, ctx_for(vm="erp-app-99", resource_id=ghost))
    assert said == (
        f"VM erp-app-99 was not found in subscription {SUB}, resource group rg-erp-prod: "
        "nothing was changed."
    )


def test_a_vm_the_vault_does_not_protect_is_said_with_the_vaults_place(ctx_for):
    said = _refusal(verify.require_protected, ctx_for(vault_id=OTHER_VAULT))
    assert said == (
        "VM erp-app-03 is not protected by vault rsv-backup-neu (subscription "
        f"{SUB}, resource group rg-backup): nothing was changed."
    )


def test_a_protected_item_is_matched_to_the_vm_whatever_the_case_of_its_id(ctx_for):
    item = verify.require_protected(ctx_for(resource_id=VM03.upper()))
    assert item["properties"]["sourceResourceId"].lower() == VM03.lower()


def test_a_completed_last_backup_without_an_end_time_says_the_time_is_unknown(pipeline):
    from tests.playbooks.test_backup_verdicts import _jobs_of, _retry

    def no_end_time(estate):
        for job in _jobs_of(estate, "erp-app-05"):
            job.status, job.error_details, job.ended = "Completed", [], None

    p, run = _retry(pipeline, no_end_time)
    assert (run["state"], run["failure"]) == (
        "not-confirmed", "The last backup of erp-app-05 completed (time unknown).",
    )  # fmt: skip
    assert p.sim.requests.writes == 0


def _last_job(change):
    """prepare(): change erp-app-05's jobs (its last one is the alert's failed job)."""
    from tests.playbooks.test_backup_verdicts import _jobs_of

    def prepare(estate):
        for job in _jobs_of(estate, "erp-app-05"):
            change(job)

    return prepare


def test_a_job_that_failed_without_a_title_or_code_is_another_unknown_error(pipeline):
    from tests.playbooks.test_backup_verdicts import _retry

    def untitled(job):
        job.error_details = [{"errorCode": 0, "errorTitle": "", "errorString": "Disk busy."}]

    p, run = _retry(pipeline, _last_job(untitled))
    assert (run["state"], run["failure"]) == (
        "not-confirmed",
        "The last backup of erp-app-05 failed with another error (unknown), not the one this "
        "card is about.",
    )
    assert p.sim.requests.writes == 0


def test_a_job_azure_gives_no_status_is_not_a_confirmed_failure(pipeline):
    from tests.playbooks.test_backup_verdicts import _retry

    def no_status(job):
        job.status = None

    _, run = _retry(pipeline, _last_job(no_status))
    assert (run["state"], run["failure"]) == (
        "not-confirmed", "The last backup job of erp-app-05 ended without a status.",
    )  # fmt: skip


def test_an_alert_naming_another_vms_job_by_its_full_id_writes_nothing(pipeline):
    """The alert may name its job by its ARM id as well as by its name: either is read."""
    from remediation.signals import parse_payload
    from tests.engine.signals import backup_alert_payload
    from tests.playbooks.test_backup_verdicts import _jobs_of
    from tests.playbooks.test_playbooks import INTERNAL

    payload = backup_alert_payload("erp-app-05", code=INTERNAL[0], description=INTERNAL[1])
    info = payload["data"]["alertContext"]["extendedInfo"]
    vault = payload["data"]["essentials"]["alertTargetIDs"][0]
    info["jobId"] = f"{vault}/backupJobs/{info['jobId']}"
    other = parse_payload(backup_alert_payload("erp-app-06"))

    def swapped(estate):
        (mine,) = _jobs_of(estate, "erp-app-05")
        mine.item = _jobs_of(estate, "erp-app-06")[0].item

    p = pipeline([parse_payload(payload), other], behaviour=Behaviour(max_restore_points=99),
                 prepare=swapped)  # fmt: skip
    run = next(r for r in p.runs() if r["vm"] == "erp-app-05")
    job = info["jobId"].rsplit("/", 1)[-1]
    assert (run["state"], run["failure"]) == (
        "failed",
        f"The alert's backup job {job} belongs to another VM than erp-app-05: nothing was changed.",
    )


def test_a_target_without_evidence_is_judged_on_the_vms_jobs_alone(ctx_for):
    verdict = verify.backup_failure(ctx_for(evidence=None))
    assert not verdict.confirmed
    assert verdict.note == (  # the demo's erp-app-03 last failed on its full collection
        "The last backup of erp-app-03 failed with another error "
        "(UserErrorRpCollectionLimitReached), not the one this card is about."
    )
