"""repair-replication's checks, each against an item in the state that trips it: the resync
waits for a running job and gives up with what Azure allows, the item must replicate the VM the
card names with the card's error, and success is health read back, not the job's word."""

from __future__ import annotations

from tests.engine.signals import changed_blocks_error
from tests.playbooks.test_timelines import timeline

CHANGED_BLOCKS = "VM: erp-db-01. Encountered an error while trying to fetch changed blocks"


def _item(estate):
    (item,) = estate.migration_items.values()
    return item


def _repair(pipeline, prepare):
    p = pipeline([changed_blocks_error("erp-db-01")], approve=False, prepare=prepare)
    (run,) = p.runs()
    return p, run


def test_a_resync_waits_for_the_running_job_then_says_what_azure_allows(pipeline):
    def busy(estate):
        item = _item(estate)
        item.allowed_operations = ["DisableMigration", "PauseReplication"]
        item.current_job = {"jobName": "cycle-7", "startTime": "2025-06-02T20:00:00Z"}

    p, run = _repair(pipeline, busy)
    waits = [s for s in timeline(run) if s[:2] == ("check-resync-allowed", "wait")]
    assert waits == [("check-resync-allowed", "wait",
                      "job cycle-7 is running; a resync must wait")] * 30  # fmt: skip
    assert run["state"] == "failed"
    assert run["failure"] == (
        "Azure does not allow a resync of this item now (allowed: DisableMigration, "
        "PauseReplication)"
    )
    assert p.sim.requests.writes == 0


def test_a_resync_azure_does_not_allow_fails_at_once_without_a_job_to_wait_for(pipeline):
    p, run = _repair(pipeline, lambda estate: setattr(_item(estate), "allowed_operations", []))
    assert timeline(run)[-1] == (
        "check-resync-allowed", "failed",
        "Azure does not allow a resync of this item now (allowed: none)",
    )  # fmt: skip
    assert p.sim.requests.writes == 0


def test_an_item_replicating_another_machine_writes_nothing(pipeline):
    p, run = _repair(pipeline, lambda estate: setattr(_item(estate), "machine_name", "erp-db-02"))
    assert (run["state"], run["failure"]) == (
        "failed",
        "The signal names erp-db-01, but its migration item replicates erp-db-02: nothing was "
        "changed.",
    )
    assert p.sim.requests.writes == 0


def test_an_item_unhealthy_with_another_error_is_not_confirmed(pipeline):
    def other_error(estate):
        unreachable = "The VMware vCenter is unreachable."
        _item(estate).health_errors = [{"errorCode": "78172", "errorMessage": unreachable}]

    p, run = _repair(pipeline, other_error)
    assert (run["state"], run["failure"]) == (
        "not-confirmed",
        "Replication of erp-db-01 is Critical, but not with the error this card is about.",
    )
    assert p.sim.requests.writes == 0


def test_an_item_azure_calls_normal_while_it_still_lists_the_error_is_repaired(pipeline):
    _, run = _repair(pipeline, lambda estate: setattr(_item(estate), "health", "Normal"))
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[0] == (
        "confirm-failure", "next", "Azure confirms: replication of erp-db-01 is Normal.",
    )  # fmt: skip
    assert run["context"]["health_before"] == "Normal"


def test_a_resync_whose_item_stays_unhealthy_fails_with_azures_words(pipeline):
    def stays_critical(estate):
        poll = estate.poll_replication_job

        def poll_and_relapse(job):
            job = poll(job)
            if job.state == "Succeeded":
                item = job.target
                item.health = "Critical"
                item.health_errors = [{"errorCode": "Unknown", "errorMessage": CHANGED_BLOCKS}]
            return job

        estate.poll_replication_job = poll_and_relapse

    _, run = _repair(pipeline, stays_critical)
    rechecks = [s for s in timeline(run) if s[0] == "confirm-healthy"]
    assert rechecks[:-1] == [("confirm-healthy", "wait", "health is Critical; rechecking")] * 6
    assert run["state"] == "failed"
    assert run["failure"] == (
        f"the resync succeeded but replication is still Critical: {CHANGED_BLOCKS}"
    )
    assert rechecks[-1] == ("confirm-healthy", "failed", run["failure"])
