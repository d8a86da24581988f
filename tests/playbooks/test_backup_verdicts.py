"""What a backup fix reads from Azure Backup before it writes, each way the truth can differ
from the alert: no finished job, a job the alert names that is another VM's, a last job that
was cancelled, or one that failed with another error. Each ends with nothing written and one
sentence a person can act on."""

from __future__ import annotations

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
