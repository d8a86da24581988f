"""The lock comes back exactly as it was: what a cleanup does when someone touched the lock
while it was lifted. A lock put back by hand exactly as it was is left alone (no second write);
one put back differently is rewritten to the recorded one, notes and owners included."""

from __future__ import annotations

from devtools.simulator.resources import Lock
from tests.engine.signals import rp_limit_alert
from tests.playbooks.test_playbooks import _writes


def _touch_lock_during_backup(change):
    """prepare(): once Azure has cleaned up, while the second backup starts, someone puts the
    group's lock back."""

    def prepare(estate):
        (lock,) = estate.locks.values()
        recorded = Lock(lock.scope, lock.name, lock.level, lock.notes, list(lock.owners))
        trigger, calls = estate.trigger_backup, []

        def trigger_and_touch(item):
            calls.append(item)
            if len(calls) == 2:
                estate.add_lock(change(recorded))
            return trigger(item)

        estate.trigger_backup = trigger_and_touch

    return prepare


def _final_lock(p) -> dict:
    (lock,) = p.sim.estate.to_state()["locks"]
    return lock


def test_a_lock_put_back_by_hand_exactly_is_not_written_again(pipeline):
    same = _touch_lock_during_backup(lambda lock: lock)
    p = pipeline([rp_limit_alert("erp-app-03")], prepare=same)
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert [w["action"].rsplit("/", 1)[-1] for w in _writes(p.engine)] == [
        "delete", "action", "action",
    ]  # fmt: skip
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_lock_put_back_differently_is_restored_as_recorded(pipeline):
    def changed(lock):
        return Lock(lock.scope, lock.name, lock.level, "re-created by hand",
                    [{"applicationId": "someone-else"}])  # fmt: skip

    p = pipeline([rp_limit_alert("erp-app-03")], prepare=_touch_lock_during_backup(changed))
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]
    assert _writes(p.engine)[-1]["action"].endswith("locks/write")


def test_notes_alone_differing_is_enough_to_restore(pipeline):
    def renoted(lock):
        return Lock(lock.scope, lock.name, lock.level, "other notes", list(lock.owners))

    p = pipeline([rp_limit_alert("erp-app-03")], prepare=_touch_lock_during_backup(renoted))
    assert _final_lock(p) == p.initial["locks"][0]


def test_a_lock_put_back_before_the_collection_is_deleted_is_named_in_the_failure(pipeline):
    """Someone re-locks the group while the fix waits for Azure's cleanup: the delete is refused,
    and the failure says which lock refused it, where, and that it came back during the fix."""
    from devtools.simulator.estate import Behaviour

    def prepare(estate):
        (lock,) = estate.locks.values()
        again = Lock(lock.scope, lock.name, lock.level, lock.notes, list(lock.owners))
        trigger = estate.trigger_backup

        def trigger_and_relock(item):
            estate.add_lock(again)
            return trigger(item)

        estate.trigger_backup = trigger_and_relock

    p = pipeline([rp_limit_alert("erp-app-03")], prepare=prepare,
                 behaviour=Behaviour(auto_cleanup_reads=None))  # fmt: skip
    (run,) = p.runs()
    (lock,) = p.initial["locks"]
    assert run["state"] == "failed"
    assert run["failure"].startswith(
        f"the collection is locked again: {lock['name']} ({lock['level']}) on "
        f"{lock['scope'].rstrip('/').rsplit('/', 1)[-1]} was put back while the fix ran"
    ), run["failure"]
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]
