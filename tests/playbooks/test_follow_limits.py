"""A job that never ends is not followed forever: the fix gives up after its limit, says so,
and a lock it lifted comes back (a run left waiting would keep the lock off for good)."""

from __future__ import annotations

import pytest

from devtools.simulator import Behaviour
from remediation.playbooks import backup_steps, repair_replication
from tests.engine.signals import changed_blocks_error, rp_limit_alert

STUCK = 10**6  # reads before Azure says the job ended: never, within a test


@pytest.fixture
def few_polls(monkeypatch):
    monkeypatch.setattr(backup_steps, "MAX_FOLLOW_POLLS", 3)
    monkeypatch.setattr(repair_replication, "MAX_FOLLOW_POLLS", 3)


def test_a_backup_job_that_never_ends_is_given_up_and_the_lock_comes_back(pipeline, few_polls):
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=Behaviour(backup_job_polls=STUCK))
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert run["failure"].startswith("backup job ") and run["failure"].endswith(
        " is still InProgress after 3 checks, 1 min apart: the fix stops following it"
    ), run["failure"]
    assert p.sim.estate.to_state()["locks"] == p.initial["locks"]


def test_a_resync_job_that_never_ends_is_given_up(pipeline, few_polls):
    p = pipeline([changed_blocks_error("erp-app-04")],
                 behaviour=Behaviour(replication_job_polls=STUCK))  # fmt: skip
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert run["failure"].startswith("resync job ") and run["failure"].endswith(
        " is still InProgress after 3 checks, 1 min apart: the fix stops following it"
    ), run["failure"]
