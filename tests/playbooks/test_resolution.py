"""A resolved alert from a webhook is a hint: the incident closes only when Azure agrees, and
when it does not, the incident says why it stays open, in Azure's terms."""

from __future__ import annotations

from remediation.policy import Policy
from tests.engine.signals import dispose_timeout, rp_limit_alert
from tests.engine.test_recovery import healthy_item

VM = "erp-app-03"


def _notes(p) -> list[str]:
    return p.engine.incidents.for_vm(VM)[0]["notes"]


def _resolved_after(pipeline, prepare=None):
    return pipeline([rp_limit_alert(VM), rp_limit_alert(VM, resolved=True)], approve=False,
                    prepare=prepare)  # fmt: skip


def _jobs(estate):
    return [j for j in estate.backup_jobs.values() if j.item.vm.name == VM]


def test_a_resolution_azure_confirms_closes_the_incident(pipeline):
    def recovered(estate):
        for job in _jobs(estate):
            job.status, job.error_details = "Completed", []

    p = _resolved_after(pipeline, recovered)
    (incident,) = p.engine.incidents.for_vm(VM)
    assert incident["status"] == "resolved"
    assert not any("not confirmed" in n for n in incident.get("notes", []))


def test_a_resolution_while_the_last_backup_still_failed_keeps_it_open(pipeline):
    p = _resolved_after(pipeline)
    (incident,) = p.engine.incidents.for_vm(VM)
    assert incident["status"] != "resolved" and incident["active_vms"] == [VM]
    assert f"{VM}: resolved alert not confirmed by Azure (the last backup of {VM} still ended " \
           "Failed)" in _notes(p)  # fmt: skip


def test_a_resolution_with_no_finished_backup_keeps_it_open(pipeline):
    def only_running(estate):
        for job in _jobs(estate):
            job.status, job.polls_left = "InProgress", 99

    p = _resolved_after(pipeline, only_running)
    assert (f"{VM}: resolved alert not confirmed by Azure (no finished backup of {VM} shows it "
            "recovered)") in _notes(p)  # fmt: skip


def test_a_resolution_azure_cannot_be_asked_about_says_so(pipeline):
    p = pipeline([rp_limit_alert(VM), rp_limit_alert(VM, resolved=True)], approve=False,
                 faults=lambda f: f.error("backup.jobs.list", 404, times=99))  # fmt: skip
    notes = _notes(p)
    assert any(n.startswith(f"{VM}: resolved alert not confirmed by Azure (Azure could not be "
                            "read to confirm it (404 ") for n in notes), notes  # fmt: skip


PAUSED = Policy(paused=True)  # no automatic repair: only the item's health can close it


def _item_health(health):
    def prepare(estate):
        for item in estate.migration_items.values():
            item.health = health
            if health == "Normal":
                item.health_errors = []

    return prepare


def test_a_healthy_migration_item_azure_confirms_closes_its_incident(pipeline):
    p = pipeline([dispose_timeout(VM), healthy_item(VM)], approve=False, policy=PAUSED,
                 prepare=_item_health("Normal"))  # fmt: skip
    (incident,) = p.engine.incidents.for_vm(VM)
    assert incident["status"] == "resolved", incident.get("notes")


def test_a_healthy_migration_item_azure_still_sees_failing_keeps_it_open(pipeline):
    p = pipeline([dispose_timeout(VM), healthy_item(VM)], approve=False, policy=PAUSED,
                 prepare=_item_health("Critical"))  # fmt: skip
    (incident,) = p.engine.incidents.for_vm(VM)
    assert incident["status"] == "open"
    assert f"{VM}: resolved alert not confirmed by Azure (replication of {VM} is still " \
           "Critical)" in _notes(p)  # fmt: skip


def test_a_resolution_azure_did_not_confirm_is_read_again_when_it_comes_back(pipeline):
    """A resolved alert that arrived too early (or forged) must not use up the real one."""
    p = _resolved_after(pipeline)
    assert p.engine.incidents.for_vm(VM)[0]["status"] == "open"
    for job in p.sim.estate.backup_jobs.values():
        if job.item.vm.name == VM:
            job.status, job.error_details = "Completed", []
    p.engine.ingest(rp_limit_alert(VM, resolved=True))
    assert p.engine.incidents.for_vm(VM)[0]["status"] == "resolved"
