"""Playbooks end to end: real SDK clients against the ARM simulator over HTTPS."""

from __future__ import annotations

from devtools.replay import REPLAY_APPROVER
from devtools.simulator import Behaviour
from remediation.policy import Policy
from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload, dispose_timeout, load, rp_limit_alert

APPROVERS = {"approvers": frozenset({REPLAY_APPROVER.object_id}), "tenant_id": "replay-tenant"}


def _collections(state, vm):
    return [c for c in state["restore_point_collections"] if c["source_vm_id"].endswith("/" + vm)]


def test_cleanup_behind_a_lock_frees_the_collection_restores_the_lock_and_backs_up(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")])
    (run,) = p.runs()
    assert run["playbook"] == "cleanup-restore-points"
    assert run["state"] == "succeeded", run["failure"]
    final = p.sim.estate.to_state()
    assert final["locks"] == p.initial["locks"] and final["locks"]  # back exactly as it was
    before, after = _collections(p.initial, "erp-app-03"), _collections(final, "erp-app-03")
    assert len(before[0]["restore_points"]) == 18
    assert [len(c["restore_points"]) for c in after] == [1]  # old one deleted, new backup
    assert len(final["backup_requests"]) == 1
    writes = [e for e in p.engine.audit.entries() if e["action"].startswith("Microsoft.")]
    assert [w["action"].rsplit("/", 1)[-1] for w in writes] == [
        "delete", "delete", "write", "action",
    ]  # fmt: skip
    assert all(w["request_id"] and w["result"] == "ok" for w in writes)
    assert all(w["actor"] == REPLAY_APPROVER.object_id for w in writes)


def test_rejected_fix_changes_nothing(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], approve=False)
    approval = p.engine.approvals.pending()[0]
    assert p.engine.decide(approval["id"], "reject", REPLAY_APPROVER).accepted
    p.engine.queue.drain(p.engine.runner.handle)
    assert p.runs() == []
    assert p.sim.estate.to_state() == p.initial
    assert p.sim.requests.writes == 0


def test_collection_delete_failing_twice_is_retried_and_succeeds(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=Behaviour(rpc_delete_fail_first=2))
    assert p.runs()[0]["state"] == "succeeded"
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_collection_delete_that_never_succeeds_fails_and_still_restores_the_lock(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=Behaviour(rpc_delete_fail_first=99))
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert "delete-collections" in run["failure"]
    final = p.sim.estate.to_state()
    assert final["locks"] == p.initial["locks"]
    assert final["backup_requests"] == []
    assert [j["step"] for j in run["journal"] if j["phase"] != "start"][-1] == "restore-locks"


def test_dry_run_reads_but_writes_nothing(pipeline):
    policy = Policy(dry_run=True, **APPROVERS)
    p = pipeline([rp_limit_alert("erp-app-03")], policy=policy)
    assert p.runs()[0]["state"] == "succeeded"
    assert p.sim.requests.writes == 0
    assert p.sim.estate.to_state() == p.initial


def test_repair_replication_resyncs_and_follows_the_job(pipeline):
    p = pipeline([dispose_timeout("erp-db-01")], approve=False)
    incident = p.engine.incidents.for_vm("erp-db-01")[0]
    # DisposeArtefactsTimedOut is diagnosed, not resynced: the appliance must recover first.
    assert incident["plan"]["playbook"] == "diagnose"
    cbt = dict(load("migration_item_dispose_artefacts.json"))
    cbt["properties"] = dict(cbt["properties"], healthErrors=[{
        "errorCode": "Unknown", "errorLevel": "Error", "creationTimeUtc": "2025-06-02T20:00:00Z",
        "errorMessage": "Encountered an error while trying to fetch changed blocks",
    }])  # fmt: skip
    p = pipeline([parse_payload(cbt)], approve=False)
    (run,) = p.runs()
    assert run["playbook"] == "repair-replication"
    assert run["state"] == "succeeded", run["failure"]
    (item,) = p.sim.estate.to_state()["migration_items"]
    assert item["health"] == "Normal"


def test_retry_backup_waits_then_backs_up(pipeline):
    payload = backup_alert_payload(
        "erp-app-05", code="BackUpOperationFailed",
        description="Backup failed with an internal error - Please retry the operation",
    )  # fmt: skip
    p = pipeline([parse_payload(payload)], behaviour=Behaviour(max_restore_points=99))
    (run,) = p.runs()
    assert (run["playbook"], run["state"]) == ("retry-backup", "succeeded"), run["failure"]
    assert [r["vm"] for r in p.sim.estate.to_state()["backup_requests"]] == ["erp-app-05"]
    assert any(j["phase"] == "wait" and j["step"] == "settle" for j in run["journal"])


def _finished_at(run, step):
    return next(j["time"] for j in run["journal"] if j["step"] == step and j["phase"] == "next")


def test_two_cleanups_in_one_backup_group_take_turns_with_its_lock(pipeline):
    p = pipeline([rp_limit_alert("erp-app-01"), rp_limit_alert("erp-app-02")])
    first, second = sorted(p.runs(), key=lambda r: _finished_at(r, "restore-locks"))
    assert first["state"] == second["state"] == "succeeded"
    assert [len(run["context"]["locks"]) for run in (first, second)] == [1, 1]
    assert any(j["phase"] == "wait" and j["step"] == "record-locks" for j in second["journal"])
    assert _finished_at(second, "record-locks") >= _finished_at(first, "restore-locks")
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]
