"""Writes Azure carried out whose answer never came back (the connection closed after the
request reached ARM). azure-core sends a DELETE or PUT again by itself; the fix must take the
second answer (the thing already gone, the lock already there) for what it is: done, not
failed, with protection back and nothing written twice that matters."""

from __future__ import annotations

import pytest

from devtools.simulator import Behaviour
from devtools.simulator.requestlog import RequestLog
from tests.engine.signals import rp_limit_alert
from tests.playbooks.test_backup_rounds import ROOMY
from tests.playbooks.test_playbooks import _snapshot_alert
from tests.playbooks.test_reset_checks import _broken


@pytest.mark.parametrize("route", ["locks.delete", "compute.rpc.delete", "locks.put"])
def test_a_cleanup_write_whose_answer_was_lost_still_ends_with_the_lock_back(pipeline, route):
    p = pipeline(
        [rp_limit_alert("erp-app-03")],
        behaviour=Behaviour(auto_cleanup_reads=None),  # the fix deletes the collection itself
        faults=lambda f: f.lose_answer(route),
    )
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert _lost(p.sim.requests) == [route]
    assert len(p.sim.estate.locks) == 1


def test_a_snapshot_extension_delete_whose_answer_was_lost_is_read_back_removed(pipeline):
    p = pipeline(
        [_snapshot_alert("web-03")],
        behaviour=ROOMY,
        prepare=_broken,
        faults=lambda f: f.lose_answer("compute.extensions.delete"),
    )
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert _lost(p.sim.requests) == ["compute.extensions.delete"]


def _lost(requests: RequestLog) -> list[str]:
    """The routes of the requests whose answer the simulator dropped."""
    return [r.route for r in requests.entries() if r.fault == "drop"]
