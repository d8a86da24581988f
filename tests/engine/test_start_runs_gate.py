"""Which runs a decision starts: an approval starts its own frozen targets only, next to the
runs an earlier approval of the same incident started, and each VM once."""

from __future__ import annotations

import pytest

from remediation.approvals import Approver
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import dispose_timeout, rp_limit_alert

ALICE = Approver(APPROVER, "Alice Admin", TENANT)


@pytest.fixture
def engine(timed_engine):
    return timed_engine


def test_a_second_approval_starts_its_newcomer_beside_the_first_approvals_run(engine):
    engine.ingest(rp_limit_alert("erp-app-03"))
    incident_id = engine.incidents.for_vm("erp-app-03")[0]["id"]
    first = engine.incidents.get(incident_id)["approval_id"]
    assert engine.decide(first, "approve", ALICE).accepted
    engine.ingest(rp_limit_alert("erp-app-04"))  # joins after the decision: its own approval
    (second,) = engine.approvals.pending()
    assert engine.decide(second["id"], "approve", ALICE).accepted
    runs = engine.runs.for_incident(incident_id)
    assert sorted((r["vm"], r["approval_id"]) for r in runs) == [
        ("erp-app-03", first), ("erp-app-04", second["id"]),
    ]  # fmt: skip
    assert engine.approvals.get(second["id"])["state"] == "executing"


def test_a_vm_joining_an_automatic_fix_leaves_the_fixed_ones_alone(engine):
    """The VMs already fixed are not taken again when another joins: no second run, and no
    note claiming they wait on a cool-down."""
    engine.ingest(dispose_timeout("vm-01"))
    (first,) = engine.runs.all()
    engine.store.update("runs", "run", first["id"], lambda r: {**r, "state": "succeeded"})
    engine.ingest(dispose_timeout("vm-02"))
    [incident] = engine.incidents.open_incidents()
    assert sorted(r["vm"] for r in engine.runs.all()) == ["vm-01", "vm-02"]
    assert [n for n in incident.get("notes") or [] if n.startswith("vm-01")] == []
