"""What a backup fix reads from Azure Backup before it writes, each way the truth can differ
from the alert: no finished job, a job the alert names that is another VM's, a last job that
was cancelled, or one that failed with another error. Each ends with nothing written and one
sentence a person can act on."""

from __future__ import annotations

import pytest

from devtools.simulator import Behaviour
from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload
from tests.playbooks.test_playbooks import INTERNAL, _backup_error

ROOMY = Behaviour(max_restore_points=99)


def _jobs_of(estate, vm: str) -> list:
    return [j for j in estate.backup_jobs.values() if j.item.vm.name == vm]


def _retry(pipeline, prepare, signals=None):
    p = pipeline(signals or [_backup_error("erp-app-05", INTERNAL)], behaviour=ROOMY,
                 prepare=prepare)  # fmt: skip
    run = next(r for r in p.runs() if r["vm"] == "erp-app-05")
    return p, run


def test_no_finished_backup_job_is_not_a_confirmed_failure(pipeline):
    def no_jobs(estate):
        for job in _jobs_of(estate, "erp-app-05"):
            del estate.backup_jobs[next(k for k, v in estate.backup_jobs.items() if v is job)]

    p, run = _retry(pipeline, no_jobs)
    assert (run["state"], run["failure"]) == (
        "not-confirmed", "Azure Backup lists no finished backup job of erp-app-05.",
    )  # fmt: skip
    assert p.sim.requests.writes == 0


def test_a_cancelled_last_job_is_not_the_failure_the_card_claims(pipeline):
    def cancelled(estate):
        for job in _jobs_of(estate, "erp-app-05"):
            job.status, job.error_details = "Cancelled", []

    _, run = _retry(pipeline, cancelled)
    assert (run["state"], run["failure"]) == (
        "not-confirmed", "The last backup job of erp-app-05 ended Cancelled.",
    )  # fmt: skip


def test_a_job_failed_with_another_error_names_it(pipeline):
    def other_error(estate):
        for job in _jobs_of(estate, "erp-app-05"):
            job.error_details = [{
                "errorCode": 0, "errorTitle": "UserErrorGuestAgentStatusUnavailable",
                "errorString": "VM Agent unable to communicate with Azure Backup",
                "recommendations": [],
            }]  # fmt: skip

    _, run = _retry(pipeline, other_error)
    assert (run["state"], run["failure"]) == (
        "not-confirmed",
        "The last backup of erp-app-05 failed with another error "
        "(UserErrorGuestAgentStatusUnavailable), not the one this card is about.",
    )


def test_an_error_without_a_title_is_named_by_its_code(pipeline):
    def code_only(estate):
        for job in _jobs_of(estate, "erp-app-05"):
            for error in job.error_details:
                error.update(errorTitle="", errorCode=400002)

    _, run = _retry(pipeline, code_only)
    assert run["journal"][1]["note"] == ("Azure confirms: backup of erp-app-05 failed (400002).")


def test_an_alert_naming_another_vms_job_writes_nothing(pipeline):
    other = parse_payload(backup_alert_payload("erp-app-06"))

    def swapped(estate):
        (mine,) = _jobs_of(estate, "erp-app-05")
        theirs = _jobs_of(estate, "erp-app-06")[0]
        mine.item = theirs.item

    p, run = _retry(pipeline, swapped, [_backup_error("erp-app-05", INTERNAL), other])
    job_id = run["target"]["evidence"]["job_id"]
    assert (run["state"], run["failure"]) == (
        "failed",
        f"The alert's backup job {job_id} belongs to another VM than erp-app-05: nothing was "
        "changed.",
    )
    assert not [r for r in p.sim.estate.to_state()["backup_requests"] if r["vm"] == "erp-app-05"]


def _without(field: str, *path: str):
    """The erp-app-05 failure alert with one field of its alert context or essentials gone."""
    payload = backup_alert_payload("erp-app-05", code=INTERNAL[0], description=INTERNAL[1])
    node = payload["data"]
    for key in path:
        node = node[key]
    node.pop(field)
    return parse_payload(payload)


def test_an_alert_that_names_no_vm_resource_says_so_and_writes_nothing(pipeline):
    signal = _without("linkedResourceId", "alertContext")
    p, run = _retry(pipeline, lambda estate: None, [signal])
    assert (run["state"], run["failure"]) == (
        "failed",
        "The signal for erp-app-05 named no Azure VM resource id, so there is nothing the bot "
        "can safely act on.",
    )
    assert p.sim.requests.writes == 0


def test_an_alert_that_names_no_vault_says_so_and_writes_nothing(pipeline):
    signal = _without("alertTargetIDs", "essentials")
    p, run = _retry(pipeline, lambda estate: None, [signal])
    assert (run["state"], run["failure"]) == (
        "failed", "The signal for erp-app-05 named no Recovery Services vault.",
    )  # fmt: skip
    assert p.sim.requests.writes == 0


def test_a_vm_id_that_names_another_vm_is_refused_in_words(sim, arm_clients):
    """Defence in depth: a target whose id points at another VM than its name says."""
    from remediation.audit import AuditLog
    from remediation.azure.operations import Arm
    from remediation.playbooks.base import RunContext, StepFailed
    from remediation.playbooks.verify import require_vm
    from remediation.store import SqliteStore

    db01 = next(vm.id for vm in sim.estate.vms.values() if vm.name == "erp-db-01")
    run = {"target": {"vm": "erp-app-03", "resource_id": db01}, "context": {}}
    arm = Arm(arm_clients, AuditLog(SqliteStore(":memory:")), "test")
    ctx = RunContext(run, arm, False, lambda: None, None, None)
    with pytest.raises(StepFailed) as refused:
        require_vm(ctx)
    assert str(refused.value) == (
        "The signal names VM erp-app-03, but its resource id points to VM erp-db-01: nothing "
        "was changed."
    )


def test_a_failed_job_without_a_title_is_said_by_its_text_alone():
    from remediation.playbooks.verify import job_error

    job = {"properties": {"errorDetails": [{"errorString": "The snapshot disk is busy."}]}}
    assert job_error(job) == "The snapshot disk is busy."
    assert job_error({"properties": {}}) == "no error detail"
