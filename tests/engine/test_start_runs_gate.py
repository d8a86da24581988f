"""Which runs a decision starts: an approval starts its own frozen targets only, next to the
runs an earlier approval of the same incident started; an automatic fix takes each VM once per
incident, and again in a new incident; the flood gate still counts with a window of zero, its
card is edited like any storm's, and a flood of signals naming no subscription says so."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from remediation.approvals import Approver
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import backup_error_alert, dispose_timeout, rp_limit_alert
from tests.engine.test_limits_exact import ERRORS, _flood_id, _flood_note, _new_incidents, _with

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


def test_a_vm_failing_again_after_its_incident_closed_gets_a_new_automatic_run(engine):
    engine.ingest(dispose_timeout("vm-01"))
    (first,) = engine.incidents.open_incidents()
    engine.ingest(dataclasses.replace(dispose_timeout("vm-01"), resolved=True), from_azure=True)
    assert engine.incidents.get(first["id"])["status"] == "resolved"
    engine.ingest(dispose_timeout("vm-01", cycle=1))
    (second,) = engine.incidents.open_incidents()
    assert second["id"] != first["id"]
    assert sorted(r["incident_id"] for r in engine.runs.all()) == sorted(
        [first["id"], second["id"]]
    )


def test_a_flood_window_of_zero_still_counts_per_second(timed_engine, clock):
    """A policy may set flood_window_minutes to 0: the gate then counts within each second."""
    engine = timed_engine
    _with(engine, new_incidents_per_window=1, flood_window=timedelta(0))
    clock.now = clock.now.replace(second=10)
    _new_incidents(engine, 1)
    clock.now += timedelta(seconds=1.5)  # the next second
    (second, third) = _new_incidents(engine, 2, first=1)
    assert engine.incidents.get(second).get("held") is None
    assert engine.incidents.get(third)["held"] == "flood"


def test_a_flood_card_is_edited_at_most_once_per_interval_then_flushed(timed_engine):
    """A storm of held incidents edits the flood card like any storm: one edit per interval,
    the rest sent by the next flush, so Teams is not flooded in its turn."""
    engine = timed_engine
    _with(engine, new_incidents_per_window=1)
    _new_incidents(engine, 2)  # one with its card, one held: the flood card is posted
    before = engine.notifier.updates
    _new_incidents(engine, 2, first=2)  # two more held, within the interval
    flood = engine.incidents.get(_flood_id(engine))
    assert engine.notifier.updates - before <= 1 and flood["card_dirty"] is True
    assert engine.flush_cards() >= 1
    assert flood["notes"] == [_flood_note(3, 1)]


def test_a_flood_of_signals_without_a_subscription_says_so(timed_engine):
    engine = timed_engine
    _with(engine, new_incidents_per_window=1)
    for n, error in enumerate(ERRORS[:2]):
        signal = dataclasses.replace(backup_error_alert(f"vm-{n}", *error), subscription_id=None)
        engine.ingest(signal)
    (note,) = engine.incidents.get(_flood_id(engine))["notes"]
    assert note.startswith("1 new incident(s) from common-alert in subscription unknown were held")
