"""Which runs a decision starts: an approval starts its own frozen targets only, next to the
runs an earlier approval of the same incident started, and each VM once."""

from __future__ import annotations

import pytest

from remediation.approvals import Approver
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import rp_limit_alert

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
