"""cleanup-restore-points on the estates a real backup group can be: collections spread over
groups, a collection a person made outside them, no lock at all, a lock above the group, a
collection just under the limit, a cleanup that keeps too much. What must hold: only this VM's
collections in the backup groups are counted and deleted, every lifted lock comes back (and the
group is freed for the next cleanup), and each card note says what Azure showed.
"""

from __future__ import annotations

from datetime import timedelta

from devtools.simulator import Behaviour
from devtools.simulator.estate import collection_name, fill_restore_points
from devtools.simulator.resources import Lock, RestorePointCollection
from remediation.playbooks.cleanup_restore_points import KEEP_LOCK_OFF
from tests.engine.signals import rp_limit_alert
from tests.playbooks.test_playbooks import _collections, _writes
from tests.playbooks.test_timelines import CLEANUP_START, timeline

NEVER_CLEANED = Behaviour(auto_cleanup_reads=None)
GROUP = "AzureBackupRG_westeurope_1"


def _cleanup(pipeline, vm="erp-app-03", **options):
    p = pipeline([rp_limit_alert(vm)], **options)
    (run,) = p.runs()
    return p, run


def _collection_of(estate, vm="erp-app-03"):
    return next(c for c in estate.restore_point_collections.values()
                if c.source_vm_id.endswith("/" + vm))  # fmt: skip


def _points(estate, count: int, vm="erp-app-03"):
    del _collection_of(estate, vm).restore_points[count:]


def _second_collection(estate, group: str, moved: int, vm="erp-app-03"):
    """Move `moved` of the VM's restore points into another collection, in `group`."""
    first = _collection_of(estate, vm)
    other = RestorePointCollection(first.subscription_id, group, collection_name(vm, "2"),
                                   first.location, first.source_vm_id.upper())  # fmt: skip
    other.restore_points, first.restore_points = (
        first.restore_points[:moved], first.restore_points[moved:],
    )  # fmt: skip
    estate.add_restore_point_collection(other)
    return other


def _ids_of(state):
    return sorted(c["id"] for c in _collections(state, "erp-app-03"))


# -- what is counted, and deleted --------------------------------------------------------------


def test_restore_points_are_counted_across_the_vms_collections_in_every_backup_group(pipeline):
    _, run = _cleanup(pipeline, prepare=lambda estate: _second_collection(
        estate, "AzureBackupRG_westeurope_2", 9))  # fmt: skip
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[1:3] == [
        ("find-collections", "next",
         "2 collection(s) in AzureBackupRG_westeurope_1, AzureBackupRG_westeurope_2"),
        ("confirm-limit", "next", "Azure confirms: 18 of 18 restore points"),
    ]  # fmt: skip


def test_two_collections_in_one_group_name_the_group_once(pipeline):
    _, run = _cleanup(pipeline, prepare=lambda estate: _second_collection(estate, GROUP, 9))
    assert timeline(run)[1] == ("find-collections", "next", f"2 collection(s) in {GROUP}")
    assert run["context"]["groups"] == [GROUP]


def test_a_collection_outside_the_backup_groups_is_neither_counted_nor_deleted(pipeline):
    """A person's own collection of the VM, in the VM's group: not Azure Backup's to clean."""

    def own_collection(estate):
        mine = _collection_of(estate)
        theirs = RestorePointCollection(mine.subscription_id, "rg-erp-prod", "erp-app-03-manual",
                                        mine.location, mine.source_vm_id)  # fmt: skip
        fill_restore_points(theirs, 5, estate.clock(), timedelta(days=1))
        estate.add_restore_point_collection(theirs)

    p, run = _cleanup(pipeline, behaviour=NEVER_CLEANED, prepare=own_collection)
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[1:3] == CLEANUP_START[1:3]  # one collection, 18 points, not 23

    def manual(state):
        return next(
            c["restore_points"]
            for c in _collections(state, "erp-app-03")
            if c["id"].endswith("/erp-app-03-manual")
        )

    assert manual(p.sim.estate.to_state())[:5] == manual(p.initial)  # kept, points and all


def test_a_vm_without_a_collection_in_the_backup_groups_fails_with_where_it_looked(pipeline):
    def no_collection(estate):
        collection = _collection_of(estate)
        del estate.restore_point_collections[
            next(k for k, c in estate.restore_point_collections.items() if c is collection)
        ]

    p, run = _cleanup(pipeline, prepare=no_collection)
    subscription = p.sim.estate.subscription_id
    assert (run["state"], run["failure"]) == (
        "failed",
        "No restore point collection of VM erp-app-03 was found in the azurebackuprg_* groups "
        f"of subscription {subscription}.",
    )
    assert p.sim.requests.writes == 0


def test_sixteen_points_is_near_enough_to_clean_fifteen_is_not(pipeline):
    _, near = _cleanup(pipeline, prepare=lambda estate: _points(estate, 16))
    assert timeline(near)[2] == ("confirm-limit", "next", "Azure confirms: 16 of 18 restore points")
    p, far = _cleanup(pipeline, prepare=lambda estate: _points(estate, 15))
    assert (far["state"], far["failure"]) == (
        "not-confirmed", "VM erp-app-03 has 15 of 18 restore points: nothing to clean up.",
    )  # fmt: skip
    assert p.sim.requests.writes == 0


def test_a_first_backup_that_completes_ends_the_cleanup_without_a_second(pipeline):
    """Under the limit, the first backup completes: nothing to wait for, delete or redo."""
    p, run = _cleanup(pipeline, prepare=lambda estate: _points(estate, 16))
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[7:] == [
        ("find-backup-job", "wait", "waiting for Azure Backup to create the job"),
        ("find-backup-job", "next", "backup job <job> started"),
        ("follow-backup", "wait", "backup job <job> is InProgress"),
        ("follow-backup", "next", "backup job <job> Completed"),
        ("await-cleanup", "next", "not needed: the first backup completed"),
        ("delete-collections", "next", "not needed: the first backup completed"),
        ("trigger-backup-again", "next", "not needed: the first backup completed"),
        ("find-backup-job-again", "next", ""),
        ("follow-backup-again", "next", ""),
        ("confirm-cleaned", "next", "17 of 18 restore points now"),
        ("restore-locks", "next", "restored 1 lock(s)"),
    ]
    assert len(p.sim.estate.to_state()["backup_requests"]) == 1


def test_a_cleanup_that_keeps_too_many_points_is_a_failure_and_the_lock_comes_back(pipeline):
    p, run = _cleanup(pipeline, behaviour=Behaviour(points_kept_by_cleanup=17))
    assert (run["state"], run["failure"]) == (
        "failed", "VM erp-app-03 still has 18 of 18 restore points",
    )  # fmt: skip
    assert ("await-cleanup", "next", "Azure Backup cleaned up: 17 of 18 restore points") in (
        timeline(run)
    )
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_collection_already_gone_when_deleted_counts_as_deleted(pipeline):
    def gone_just_before(estate):
        begin_delete = estate.begin_delete_collection

        def already_gone(rpc):  # someone deleted it a moment before the fix did
            table = estate.restore_point_collections
            table.pop(next(k for k, c in table.items() if c is rpc), None)
            estate.begin_delete_collection = begin_delete
            return estate.get(table, rpc.id, "Microsoft.Compute/restorePointCollections")

        estate.begin_delete_collection = already_gone

    _, run = _cleanup(pipeline, behaviour=NEVER_CLEANED, prepare=gone_just_before)
    assert run["state"] == "succeeded", run["failure"]
    assert ("delete-collections", "next", "deleted 1 collection(s)") in timeline(run)


def test_a_lock_above_the_backup_group_stops_the_delete_and_is_named(pipeline):
    """A subscription lock is not the fix's to lift: the delete fails, the group lock comes back."""

    def subscription_lock(estate):
        estate.add_lock(Lock(f"/subscriptions/{estate.subscription_id}", "no-deletes",
                             "CanNotDelete", "governance"))  # fmt: skip

    p, run = _cleanup(pipeline, behaviour=NEVER_CLEANED, prepare=subscription_lock)
    assert (run["state"], run["failure"]) == (
        "failed", "the collection is still locked by a lock above its resource group",
    )  # fmt: skip
    assert [lock["name"] for lock in run["context"]["locks"]] == ["protect-backup-rg"]
    by_id = lambda locks: sorted(locks, key=lambda lock: lock["id"])  # noqa: E731
    assert by_id(p.sim.estate.to_state()["locks"]) == by_id(p.initial["locks"])
    assert _ids_of(p.sim.estate.to_state()) == _ids_of(p.initial)


# -- the locks -------------------------------------------------------------------------------


def _unlocked(estate):
    estate.locks.clear()


def test_a_group_without_a_lock_is_cleaned_and_said_so(pipeline):
    p, run = _cleanup(pipeline, prepare=_unlocked)
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[4:6] == [
        ("record-locks", "next", "locks recorded: none"),
        ("lift-locks", "next", "lifted 0 lock(s)"),
    ]
    assert timeline(run)[-1] == ("restore-locks", "next", "no lock was lifted")
    assert [w["action"].rsplit("/", 1)[-1] for w in _writes(p.engine)] == ["action", "action"]


def _two_cleanups(pipeline, **options):
    p = pipeline([rp_limit_alert("erp-app-01"), rp_limit_alert("erp-app-02")], **options)
    runs = p.runs()
    assert [r["state"] for r in runs] == ["succeeded", "succeeded"], [r["failure"] for r in runs]
    return p, runs


def test_the_backup_group_is_freed_for_the_next_cleanup_when_it_had_no_lock(pipeline):
    _two_cleanups(pipeline, prepare=_unlocked)


def test_the_backup_group_is_freed_for_the_next_cleanup_when_the_lock_is_kept_off(pipeline):
    p, runs = _two_cleanups(pipeline, choice=KEEP_LOCK_OFF)
    assert p.sim.estate.to_state()["locks"] == []
    waited = next(j for r in runs for j in r["journal"]
                  if j["phase"] == "wait" and j["step"] == "record-locks")  # fmt: skip
    holder = next(r["vm"] for r in runs if not any(j is waited for j in r["journal"]))
    assert waited["note"] == f"{GROUP} is being cleaned by the fix of {holder}"  # not a run id


def test_a_lock_someone_lifted_before_the_fix_did_is_not_deleted_again(pipeline):
    def lifted_by_someone(estate):
        locks_on, calls = estate.locks_on, []

        def and_lift(subscription_id, group):
            calls.append(group)
            if len(calls) == 2:  # between the fix's record and its lift
                estate.locks.clear()
            return locks_on(subscription_id, group)

        estate.locks_on = and_lift

    p, run = _cleanup(pipeline, prepare=lifted_by_someone)
    assert run["state"] == "succeeded", run["failure"]
    assert [w["action"].rsplit("/", 1)[-1] for w in _writes(p.engine)] == [
        "action", "action", "write",
    ]  # two backups and the lock back; no delete of a lock already gone  # fmt: skip
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_lock_that_did_not_come_back_is_put_back_on_the_next_try(pipeline):
    def first_put_lost(estate):
        put_lock = estate.put_lock

        def lost(*args, **kwargs):  # Azure answers, but the lock is not there when read back
            estate.put_lock = put_lock
            lock, created = put_lock(*args, **kwargs)
            estate.locks.pop(next(k for k, v in estate.locks.items() if v is lock))
            return lock, created

        estate.put_lock = lost

    p, run = _cleanup(pipeline, prepare=first_put_lost)
    assert run["state"] == "succeeded", run["failure"]
    assert timeline(run)[-2:] == [
        ("restore-locks", "wait", "retry 1: locks not restored: protect-backup-rg"),
        ("restore-locks", "next", "restored 1 lock(s)"),
    ]
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_lock_changed_in_level_or_owners_alone_is_restored(pipeline):
    from tests.playbooks.test_lock_restore import _final_lock, _touch_lock_during_backup

    for change in (
        lambda lock: Lock(lock.scope, lock.name, "ReadOnly", lock.notes, list(lock.owners)),
        lambda lock: Lock(lock.scope, lock.name, lock.level, lock.notes, [{"applicationId": "x"}]),
    ):
        p = pipeline([rp_limit_alert("erp-app-03")], prepare=_touch_lock_during_backup(change))
        assert _final_lock(p) == p.initial["locks"][0]


def test_the_locks_are_recorded_before_they_are_lifted_and_put_back_last():
    from remediation.playbooks.cleanup_restore_points import PLAYBOOK

    record, lift = PLAYBOOK.index_of("record-locks"), PLAYBOOK.index_of("lift-locks")
    assert 0 < record == lift - 1
    assert PLAYBOOK.index_of("restore-locks") == len(PLAYBOOK.steps) - 1


def test_every_lock_recorded_is_named_with_its_level_and_scope(pipeline):
    from tests.playbooks.test_playbooks import _lock_collections

    _, run = _cleanup(pipeline, prepare=lambda estate: _lock_collections(estate, "erp-app-03"))
    collection = run["context"]["collections"][0].rsplit("/", 1)[-1]
    names = {
        "protect-backup-rg": f"protect-backup-rg (CanNotDelete) on {GROUP}",
        "keep-erp-app-03": f"keep-erp-app-03 (CanNotDelete) on {collection}",
    }
    said = ", ".join(names[lock["name"]] for lock in run["context"]["locks"])
    assert timeline(run)[4] == ("record-locks", "next", f"locks recorded: {said}")


def test_every_collection_is_deleted_even_when_one_is_already_gone(pipeline):
    def two_and_one_gone(estate):
        _second_collection(estate, GROUP, 9)
        begin_delete, calls = estate.begin_delete_collection, []

        def first_gone(rpc):
            calls.append(rpc)
            table = estate.restore_point_collections
            if len(calls) == 1:  # someone deleted it a moment before the fix did
                table.pop(next(k for k, c in table.items() if c is rpc), None)
            return begin_delete(rpc)

        estate.begin_delete_collection = first_gone

    p, run = _cleanup(pipeline, behaviour=NEVER_CLEANED, prepare=two_and_one_gone)
    assert run["state"] == "succeeded", run["failure"]
    assert ("delete-collections", "next", "deleted 2 collection(s)") in timeline(run)
    left = _collections(p.sim.estate.to_state(), "erp-app-03")
    assert [len(c["restore_points"]) for c in left] == [1]  # only the last backup's, new


def test_a_lock_gone_with_its_deleted_collection_is_said_in_full(pipeline):
    from tests.playbooks.test_playbooks import _lock_collections

    _, run = _cleanup(pipeline, behaviour=NEVER_CLEANED,
                      prepare=lambda estate: _lock_collections(estate, "erp-app-03"))  # fmt: skip
    assert timeline(run)[-1] == (
        "restore-locks", "next",
        "restored 1 lock(s); keep-erp-app-03 was on the deleted collection and went with it: "
        "put it on the new collection if still wanted",
    )  # fmt: skip


def test_the_expected_first_failure_reveals_no_other_fix(pipeline):
    """The first backup fails with the card's own error: the card must not offer that fix as
    'another' one (bot/incident_card.py shows a revealed entry with its button)."""
    _, run = _cleanup(pipeline)
    assert run["state"] == "succeeded", run["failure"]
    assert run["context"]["backup_job_status"] == "Failed"
    assert "revealed_entry" not in run["context"]
