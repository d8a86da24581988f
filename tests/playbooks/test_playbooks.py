"""Playbooks end to end: real SDK clients against the ARM simulator over HTTPS.

Every fix must prove its outcome from Azure's answers: these tests fail when a playbook
reports success it never read back, acts on a signal Azure does not confirm, or acts on a
resource other than the one its card names.
"""

from __future__ import annotations

import copy
from datetime import timedelta

from devtools.replay import REPLAY_APPROVER
from devtools.simulator import Behaviour
from devtools.simulator.resources import Lock
from remediation.playbooks.cleanup_restore_points import KEEP_LOCK_OFF
from remediation.policy import Policy
from remediation.signals import parse_payload
from tests.engine.signals import (
    backup_alert_payload,
    changed_blocks_error,
    dispose_timeout,
    rp_limit_alert,
)

APPROVERS = {"approvers": frozenset({REPLAY_APPROVER.object_id}), "tenant_id": "replay-tenant"}
GUEST_AGENT = ("UserErrorGuestAgentStatusUnavailable", "VM agent is unable to communicate with "
               "the Azure Backup Service.")  # fmt: skip
INTERNAL = ("BackUpOperationFailed", "Backup failed with an internal error - Please retry the "
            "operation in a few minutes.")  # fmt: skip


def _collections(state, vm):
    return [c for c in state["restore_point_collections"] if c["source_vm_id"].endswith("/" + vm)]


def _steps(run):
    """(step, phase) of each step's end, in order."""
    return [(j["step"], j["phase"]) for j in run["journal"] if j["phase"] != "start"]


def _writes(engine):
    return [e for e in engine.audit.entries() if e["action"].startswith("Microsoft.")]


def _approval(engine, run):
    return engine.approvals.get(run["approval_id"])


# -- cleanup-restore-points ---------------------------------------------------------------


def test_cleanup_follows_microsofts_order_and_reads_its_outcome_back(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")])
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    done = [s for s, phase in _steps(run) if phase == "next"]
    assert done.index("lift-locks") < done.index("trigger-backup") < done.index("await-cleanup")
    assert done.index("await-cleanup") < done.index("trigger-backup-again")
    assert done[-2:] == ["confirm-cleaned", "restore-locks"]
    assert ("follow-backup", "next") in _steps(run)  # the first backup failed, as expected
    assert run["context"]["backup_job_status"] == "Failed"
    final = p.sim.estate.to_state()
    assert final["locks"] == p.initial["locks"] and final["locks"]  # back exactly as it was
    (after,) = _collections(final, "erp-app-03")
    assert len(after["restore_points"]) == 3  # Azure kept its newest two, then one new backup
    requests = [r for r in final["backup_requests"] if r["vm"] == "erp-app-03"]
    assert [r["job_id"] for r in requests] == [
        run["context"]["backup_job"],
        run["context"]["backup_job-again"],
    ]  # the jobs the runs followed are the ones their triggers created
    assert [w["action"].rsplit("/", 1)[-1] for w in _writes(p.engine)] == [
        "delete", "action", "action", "write",
    ]  # lock lifted, two backups, lock back; no collection deleted by hand  # fmt: skip
    assert all(w["request_id"] and w["result"] == "ok" for w in _writes(p.engine))
    assert all(w["actor"] == REPLAY_APPROVER.object_id for w in _writes(p.engine))
    assert _approval(p.engine, run)["state"] == "succeeded"


def test_cleanup_deletes_the_collection_only_when_azure_does_not_clean_it(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=Behaviour(auto_cleanup_reads=None))
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert run["context"]["cleanup_waits"] > 0 and run["context"]["deleted"]
    (after,) = _collections(p.sim.estate.to_state(), "erp-app-03")
    assert len(after["restore_points"]) == 1  # a fresh collection from the last backup
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_keep_the_lock_off_leaves_it_off_and_says_so(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], choice=KEEP_LOCK_OFF)
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert p.sim.estate.to_state()["locks"] == []
    assert run["context"]["locks_left_off"] == ["protect-backup-rg"]
    assert _approval(p.engine, run)["choice"] == KEEP_LOCK_OFF


def _lock_collections(estate, *vms):
    for collection in list(estate.restore_point_collections.values()):
        name = collection.source_vm_id.rsplit("/", 1)[1]
        if name in vms:
            estate.add_lock(Lock(collection.id, f"keep-{name}", "CanNotDelete", f"{name} rpc"))


def test_a_lock_on_the_collection_itself_is_lifted_and_put_back_at_its_own_scope(pipeline):
    other = parse_payload(backup_alert_payload("erp-app-01"))
    p = pipeline(
        [rp_limit_alert("erp-app-03")],
        prepare=lambda estate: (
            estate_extend(estate, other),
            _lock_collections(estate, "erp-app-03", "erp-app-01"),
        ),
    )
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    collection = _collections(p.initial, "erp-app-03")[0]
    recorded = {(lock["name"], lock["scope"]) for lock in run["context"]["locks"]}
    assert recorded == {
        ("protect-backup-rg", collection["id"].split("/providers/")[0]),
        ("keep-erp-app-03", collection["id"]),
    }  # the other VM's collection lock is not this fix's to touch
    by_id = lambda locks: sorted(locks, key=lambda lock: lock["id"])  # noqa: E731
    assert by_id(p.sim.estate.to_state()["locks"]) == by_id(p.initial["locks"])  # own scopes


def estate_extend(estate, signal):
    """Add the VM of `signal` (with its full, locked collection) to an estate."""
    from devtools.simulator.builders import backup_vm
    from devtools.simulator.resources import VirtualMachine

    vault = next(iter(estate.vaults.values()))
    vm = VirtualMachine(estate.subscription_id, signal.resource_group, signal.vm, "westeurope")
    backup_vm(estate, estate.add_vm(vm), vault)


def test_a_lock_on_a_collection_deleted_by_hand_is_reported_gone_not_dropped(pipeline):
    p = pipeline(
        [rp_limit_alert("erp-app-03")],
        behaviour=Behaviour(auto_cleanup_reads=None),
        prepare=lambda estate: _lock_collections(estate, "erp-app-03"),
    )
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert run["context"]["locks_gone"] == ["keep-erp-app-03"]
    assert "went with it" in run["journal"][-1]["note"]
    names = [lock["name"] for lock in p.sim.estate.to_state()["locks"]]
    assert names == ["protect-backup-rg"]


def test_an_alert_for_a_vm_the_estate_does_not_have_fails_with_a_reason_and_writes_nothing(
    pipeline,
):
    ghost = parse_payload(backup_alert_payload("hr-app-07"))
    p = pipeline(
        [ghost],
        prepare=lambda estate: [
            estate.vms.pop(k) for k in list(estate.vms) if k.endswith("/hr-app-07")
        ],
    )
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert run["failure"].startswith("VM hr-app-07 was not found in subscription ")
    assert "resource group rg-erp-prod" in run["failure"]
    assert p.sim.requests.writes == 0
    assert _approval(p.engine, run)["state"] == "failed"
    assert not run["confirmed"]


def few_points(estate):
    """The estate with collections far from the limit: the alert is not true."""
    for collection in estate.restore_point_collections.values():
        del collection.restore_points[5:]


def test_a_collection_far_from_the_limit_is_not_confirmed_and_nothing_is_written(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], prepare=few_points)
    (run,) = p.runs()
    assert run["state"] == "not-confirmed"
    assert "5 of 18 restore points" in run["failure"]
    assert p.sim.requests.writes == 0
    assert _approval(p.engine, run)["state"] == "not-confirmed"


def test_a_collection_delete_failing_twice_is_retried_and_succeeds(pipeline):
    behaviour = Behaviour(rpc_delete_fail_first=2, auto_cleanup_reads=None)
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=behaviour)
    assert p.runs()[0]["state"] == "succeeded"
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_collection_delete_that_never_succeeds_fails_and_still_restores_the_lock(pipeline):
    behaviour = Behaviour(rpc_delete_fail_first=99, auto_cleanup_reads=None)
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=behaviour)
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert "delete-collections" in run["failure"]
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]
    assert _steps(run)[-1] == ("restore-locks", "next")


def test_a_dry_run_reads_lists_its_writes_and_ends_dry_run(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], policy=Policy(dry_run=True, **APPROVERS))
    (run,) = p.runs()
    assert run["state"] == "dry-run"
    assert run["context"]["planned_writes"][0] == "lift the lock(s) on the backup group"
    assert p.sim.requests.writes == 0 and p.sim.requests.reads > 0
    assert p.sim.estate.to_state() == p.initial
    assert _approval(p.engine, run)["state"] == "dry-run"
    blocked = p.engine._blockers("cleanup-restore-points", p.engine.policy())
    assert blocked("erp-app-03") is None  # a dry run starts no cool-down


def test_two_cleanups_in_one_backup_group_take_turns_with_its_lock(pipeline):
    p = pipeline([rp_limit_alert("erp-app-01"), rp_limit_alert("erp-app-02")])
    runs = p.runs()
    assert [r["state"] for r in runs] == ["succeeded", "succeeded"], [r["failure"] for r in runs]
    assert [len(r["context"]["locks"]) for r in runs] == [1, 1]
    waited = [r for r in runs if any(j["phase"] == "wait" and j["step"] == "record-locks"
                                     for j in r["journal"])]  # fmt: skip
    assert len(waited) == 1
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_backup_already_running_is_waited_out_before_the_lock_is_lifted(pipeline):
    def running_backup(estate):
        item = next(i for i in estate.protected_items.values() if i.vm.name == "erp-app-03")
        operation = estate.trigger_backup(item)  # someone else's backup, started just before
        estate.poll_backup_operation(operation)
        estate.poll_backup_operation(operation)
        operation.job.polls_left = 3

    p = pipeline([rp_limit_alert("erp-app-03")], prepare=running_backup)
    (run,) = p.runs()
    assert ("no-backup-running", "wait") in _steps(run)
    waits = [i for i, s in enumerate(_steps(run)) if s == ("no-backup-running", "wait")]
    assert waits[-1] < _steps(run).index(("lift-locks", "next"))


# -- retry-backup ---------------------------------------------------------------------------


def _backup_error(vm, error):
    code, description = error
    return parse_payload(backup_alert_payload(vm, code=code, description=description))


def test_retry_follows_the_job_its_own_trigger_created(pipeline):
    p = pipeline(
        [_backup_error("erp-app-05", INTERNAL)], behaviour=Behaviour(max_restore_points=99)
    )
    (run,) = p.runs()
    assert (run["playbook"], run["state"]) == ("retry-backup", "succeeded"), run["failure"]
    (request,) = [r for r in p.sim.estate.to_state()["backup_requests"] if r["vm"] == "erp-app-05"]
    assert run["context"]["backup_job"] == request["job_id"]
    assert ("find-backup-job", "wait") in _steps(run)  # the job did not exist at once
    assert any(j["phase"] == "wait" and j["step"] == "settle" for j in run["journal"])


def test_a_forged_failure_for_a_healthy_vm_is_not_confirmed_and_backs_nothing_up(pipeline):
    forged = _backup_error("erp-app-05", GUEST_AGENT)

    def healthy(estate):  # the VM's latest backup completed: the alert is not true
        for job in estate.backup_jobs.values():
            job.status, job.error_details = "Completed", []

    p = pipeline([forged], prepare=healthy)
    (run,) = p.runs()
    assert run["state"] == "not-confirmed"
    assert "completed" in run["failure"]
    assert p.sim.estate.to_state()["backup_requests"] == []
    assert p.sim.requests.writes == 0


def test_a_retry_that_meets_another_catalogued_error_fails_and_names_it(pipeline):
    p = pipeline([_backup_error("erp-app-05", INTERNAL)])  # the collection is full
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert "UserErrorRpCollectionLimitReached" in run["failure"]
    assert run["context"]["revealed_entry"] == "rp-collection-limit-reached"


def test_a_job_that_vanishes_is_a_failure_with_a_reason(pipeline):
    p = pipeline(
        [_backup_error("erp-app-05", INTERNAL)],
        behaviour=Behaviour(max_restore_points=99, backup_job_polls=5),
        faults=lambda faults: faults.error("backup.jobs.get", 404, times=99),
    )
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert "vanished" in run["failure"]


# -- repair-replication ---------------------------------------------------------------------


def test_repair_resyncs_follows_its_own_job_and_reads_health_back(pipeline):
    p = pipeline([changed_blocks_error("erp-db-01")], approve=False)
    (run,) = p.runs()
    assert (run["playbook"], run["state"]) == ("repair-replication", "succeeded"), run["failure"]
    (job,) = p.sim.estate.to_state()["replication_jobs"]
    assert job["id"].endswith("/" + run["context"]["job"])
    (item,) = p.sim.estate.to_state()["migration_items"]
    assert item["health"] == "Normal"
    assert _steps(run)[-1] == ("confirm-healthy", "next")


def test_repair_of_a_healthy_item_is_not_confirmed(pipeline):
    def heal(estate):
        for item in estate.migration_items.values():
            item.health, item.health_errors = "Normal", []

    p = pipeline([changed_blocks_error("erp-db-01")], approve=False, prepare=heal)
    (run,) = p.runs()
    assert run["state"] == "not-confirmed"
    assert p.sim.requests.writes == 0


def test_repair_when_the_item_is_gone_fails_with_a_reason(pipeline):
    p = pipeline(
        [changed_blocks_error("erp-db-01")], approve=False,
        prepare=lambda estate: estate.migration_items.clear(),
    )  # fmt: skip
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert run["failure"].startswith("Migration item of erp-db-01 was not found in vault")


def test_dispose_artefacts_timeouts_are_diagnosed_not_resynced(pipeline):
    p = pipeline([dispose_timeout("erp-db-01")], approve=False)
    incident = p.engine.incidents.for_vm("erp-db-01")[0]
    assert incident["plan"]["playbook"] == "diagnose"


# -- reset-snapshot-extension ---------------------------------------------------------------


def _snapshot_alert(vm):
    return _backup_error(vm, ("UserErrorVmProvisioningStateFailed",
                              "The VM is in failed provisioning state."))  # fmt: skip


def test_reset_removes_the_failed_extension_and_reads_it_back_reinstalled(pipeline):
    def broken_extension(estate):
        vm = next(v for v in estate.vms.values() if v.name == "web-03")
        for ext in vm.extensions.values():
            ext.provisioning_state = "Failed"

    p = pipeline([_snapshot_alert("web-03")], behaviour=Behaviour(max_restore_points=99),
                 prepare=broken_extension)  # fmt: skip
    (run,) = p.runs()
    assert (run["playbook"], run["state"]) == ("reset-snapshot-extension", "succeeded"), run[
        "failure"
    ]
    assert p.sim.estate.to_state()["extensions"]["web-03"] == {"VMSnapshot": "Succeeded"}


def test_reset_without_a_failed_extension_is_not_confirmed(pipeline):
    p = pipeline([_snapshot_alert("web-03")], behaviour=Behaviour(max_restore_points=99))
    (run,) = p.runs()
    assert run["state"] == "not-confirmed"
    assert p.sim.requests.writes == 0


# -- identity -------------------------------------------------------------------------------


def test_an_alert_whose_id_points_at_another_vm_writes_nothing(pipeline):
    payload = copy.deepcopy(backup_alert_payload("erp-app-03"))
    context = payload["data"]["alertContext"]
    context["linkedResourceId"] = context["linkedResourceId"].replace("erp-app-03", "erp-db-01")
    p = pipeline([parse_payload(payload)])
    assert p.sim.requests.writes == 0
    assert all(r["vm"] != "erp-db-01" for r in p.runs())


def test_a_lock_put_back_is_watched_and_a_card_warns_before_the_limit_again(pipeline):
    from devtools.simulator.estate import fill_restore_points
    from remediation.poller import poll

    p = pipeline([rp_limit_alert("erp-app-03")])
    (run,) = p.runs()
    assert run["state"] == "succeeded"
    (watched,) = p.engine.watch.all()
    assert watched["vm"] == "erp-app-03"
    notes = p.engine.incidents.get(run["incident_id"])["notes"]
    assert any("restore points are watched" in n for n in notes)
    arm = lambda subscription: p.engine._arm_for(run)  # noqa: E731
    poll(p.engine, {}, arm)
    assert len(p.engine.incidents.for_vm("erp-app-03")) == 1, "3 of 18: nothing to say yet"

    (collection,) = p.sim.estate.restore_points_of(run["target"]["resource_id"])
    fill_restore_points(collection, 13, p.sim.estate.clock(), timedelta(hours=8))  # 16 now
    poll(p.engine, {}, arm)
    warning = next(
        i for i in p.engine.incidents.for_vm("erp-app-03") if i["id"] != run["incident_id"]
    )
    assert warning["entry_id"] == "rp-collection-limit-reached"
    assert "16 of 18 restore points" in warning["evidence"][0]["message"]
    assert warning["card"] is not None and p.engine.approvals.pending(), "a card that asks again"


def test_a_lock_kept_off_is_not_watched(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], choice=KEEP_LOCK_OFF)
    assert p.engine.watch.all() == []
