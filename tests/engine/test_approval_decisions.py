"""What an approver sees and what the record keeps, for every way a click can end.

Each refusal says why in words the card shows; each decision is stored with who, when and
what was chosen, and audited whether it was accepted or not. Written against the mutants that
survived the suites before (docs/mutation.md): a wrong word, a missing field or a shifted
boundary here is a card that tells an approver something untrue.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediation.approvals import Approver
from remediation.clock import iso
from tests.engine.conftest import APPROVER, TENANT
from tests.engine.signals import dispose_timeout, rp_limit_alert

ALICE = Approver(APPROVER, "Alice Admin", TENANT)
CLEANUP_WRITES = [
    "lift the lock(s) on the backup group",
    "trigger an on-demand backup",
    "delete the collection, only if Azure Backup did not clean it up",
    "trigger an on-demand backup",
    "put the lock(s) back exactly (unless you keep them off)",
]


@pytest.fixture
def engine(timed_engine):
    return timed_engine


def _pending(engine) -> dict:
    engine.ingest(rp_limit_alert("erp-app-03"))
    return engine.approvals.get(engine.incidents.for_vm("erp-app-03")[0]["approval_id"])


def _last_audit(engine) -> dict:
    return [e for e in engine.audit.entries() if e["action"].startswith("approval")][-1]


def test_an_opened_approval_freezes_the_plan_the_card_shows(engine, clock):
    approval = _pending(engine)
    incident = engine.incidents.for_vm("erp-app-03")[0]
    assert approval == {
        "id": approval["id"],
        "incident_id": incident["id"],
        "playbook": "cleanup-restore-points",
        "targets": [
            {
                "vm": "erp-app-03",
                "entry_id": "rp-collection-limit-reached",
                "resource_id": incident["resources"]["erp-app-03"],
                "vault_id": incident["vault_id"],
                "subscription_id": incident["subscription_id"],
                "evidence": incident["evidence"][0],
            }
        ],
        "writes": CLEANUP_WRITES,
        "checks": ["no-backup-in-progress", "locks-recorded-first"],
        "choices": ["restore-lock", "keep-lock-off"],
        "choice": None,
        "state": "pending",
        "created": iso(clock.now),
        "expires": iso(clock.now + timedelta(hours=24)),
        "decided_by": None,
        "decided_at": None,
        "snoozed_until": None,
    }
    assert approval["id"].startswith("apr-") and len(approval["id"]) == 20
    assert engine.approvals.pending() == [approval]


@pytest.mark.parametrize(
    ("verb", "state", "message"),
    [
        ("approve", "executing", "Approved by Alice Admin."),
        ("reject", "rejected", "Rejected by Alice Admin."),
        ("snooze", "snoozed", "Snoozed by Alice Admin."),
    ],
)
def test_a_decision_says_who_decided_and_is_recorded_with_when(engine, clock, verb, state, message):
    approval = _pending(engine)
    clock.now += timedelta(minutes=5)
    outcome = engine.decide(approval["id"], verb, ALICE)
    assert (outcome.accepted, outcome.message) == (True, message)
    stored = engine.approvals.get(approval["id"])
    assert stored["state"] == state
    assert stored["decided_by"] == {"id": APPROVER, "name": "Alice Admin"}
    assert stored["decided_at"] == iso(clock.now)
    snoozed = iso(clock.now + timedelta(hours=24)) if verb == "snooze" else None
    assert stored["snoozed_until"] == snoozed
    assert stored["choice"] == ("restore-lock" if verb == "approve" else None)
    assert "note" not in stored
    assert engine.approvals.pending() == []
    assert _last_audit(engine) == {
        "time": iso(clock.now), "actor": f"user:{APPROVER}", "action": f"approval {verb}",
        "target": approval["id"], "result": "accepted", "name": "Alice Admin",
        "tenant": TENANT, "reason": message,
    }  # fmt: skip


def test_the_approvers_choice_is_kept_with_the_approval(engine):
    approval = _pending(engine)
    outcome = engine.decide(approval["id"], "approve", ALICE, "keep-lock-off")
    assert outcome.accepted
    assert engine.approvals.get(approval["id"])["choice"] == "keep-lock-off"
    (run,) = engine.runs.all()
    assert run["choice"] == "keep-lock-off"


@pytest.mark.parametrize(
    ("verb", "choice"),
    [("approve", "delete-everything"), ("reject", "keep-lock-off"), ("snooze", "restore-lock")],
)
def test_an_option_the_approval_does_not_offer_is_refused(engine, verb, choice):
    approval = _pending(engine)
    outcome = engine.decide(approval["id"], verb, ALICE, choice)
    assert (outcome.accepted, outcome.message) == (
        False, "That option is not part of this approval.",
    )  # fmt: skip
    assert outcome.approval == approval
    assert engine.approvals.get(approval["id"]) == approval
    assert engine.runs.all() == []


@pytest.mark.parametrize(
    ("approval_id", "verb", "message"),
    [
        ("apr-does-not-exist", "approve", "This approval does not exist."),
        (None, "approve", "This approval does not exist."),
        ("apr-" + "x" * 61, "approve", "This approval does not exist."),
        ("PENDING", "delete", "Unknown action."),
    ],
)
def test_a_forged_click_is_refused_in_words_and_audited(engine, approval_id, verb, message):
    approval = _pending(engine)
    given = approval["id"] if approval_id == "PENDING" else approval_id
    outcome = engine.decide(given, verb, ALICE)
    assert (outcome.accepted, outcome.message, outcome.approval) == (False, message, None)
    assert engine.approvals.get(approval["id"])["state"] == "pending"
    audited = _last_audit(engine)
    assert (audited["result"], audited["reason"], audited["target"]) == (
        "refused", message, str(given)[:80],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (Approver(APPROVER, "Alice", "33333333-0000-0000-0000-000000000000"),
         "Decisions are only accepted from the home tenant."),
        (Approver(APPROVER, "Alice", None), "Decisions are only accepted from the home tenant."),
        (Approver("99999999-9999-9999-9999-999999999999", "Mallory", TENANT),
         "You are not an approver for remediation fixes."),
        (Approver(None, "anonymous", TENANT), "You are not an approver for remediation fixes."),
        (Approver("99999999-9999-9999-9999-999999999999", "Bob", TENANT,
                  membership_error="Microsoft Graph did not answer"),
         "Could not check your membership of the approver group: Microsoft Graph did not "
         "answer; try again."),
    ],
)  # fmt: skip
def test_who_may_not_decide_is_told_why(engine, who, message):
    approval = _pending(engine)
    outcome = engine.decide(approval["id"], "approve", who)
    assert (outcome.accepted, outcome.message, outcome.approval) == (False, message, approval)
    audited = _last_audit(engine)
    assert audited["actor"] == f"user:{who.object_id or 'unknown'}"
    assert (audited["result"], audited["name"], audited["tenant"]) == (
        "refused", who.name, who.tenant_id,
    )  # fmt: skip


def test_a_name_too_long_for_the_audit_is_clipped_not_refused(engine):
    approval = _pending(engine)
    long_name = "A" * 130
    outcome = engine.decide(approval["id"], "reject", Approver(APPROVER, long_name, TENANT))
    assert outcome.accepted
    assert _last_audit(engine)["name"] == "A" * 120


def test_a_second_click_names_the_first_decision(engine, clock):
    approval = _pending(engine)
    engine.decide(approval["id"], "reject", ALICE)
    decided_at = outcome_time = clock.now
    clock.now += timedelta(minutes=1)
    outcome = engine.decide(approval["id"], "approve", ALICE)
    assert (outcome.accepted, outcome.message) == (False, "Already rejected by Alice Admin.")
    assert outcome.approval["decided_at"] == iso(decided_at) == iso(outcome_time)
    assert outcome.approval == engine.approvals.get(approval["id"])
    assert outcome.approval["state"] == "rejected"


def test_an_approval_expires_at_its_expiry_time_not_after(engine, clock):
    approval = _pending(engine)
    clock.now += timedelta(hours=24) - timedelta(microseconds=1)
    assert engine.approvals.pending() == [approval]
    clock.now += timedelta(microseconds=1)
    assert engine.approvals.pending() == []
    outcome = engine.decide(approval["id"], "approve", ALICE)
    assert (outcome.accepted, outcome.message) == (False, "This approval has expired.")
    assert outcome.approval == {**approval, "state": "expired"}
    assert engine.runs.all() == []


def test_every_later_click_on_an_expired_approval_says_it_expired(engine, clock):
    approval = _pending(engine)
    clock.now += timedelta(hours=25)
    first, again = (engine.decide(approval["id"], "approve", ALICE) for _ in range(2))
    assert first.message == again.message == "This approval has expired."
    assert again.approval["state"] == "expired"


def test_a_click_just_before_expiry_is_accepted(engine, clock):
    approval = _pending(engine)
    clock.now += timedelta(hours=24) - timedelta(microseconds=1)
    assert engine.decide(approval["id"], "snooze", ALICE).accepted


def test_a_replaced_approval_refuses_and_points_to_the_current_card(engine):
    first = _pending(engine)
    engine.ingest(rp_limit_alert("erp-app-04"))  # joins while the first card waits
    assert engine.approvals.get(first["id"])["state"] == "superseded"
    outcome = engine.decide(first["id"], "approve", ALICE)
    assert (outcome.accepted, outcome.message) == (
        False,
        "This approval was replaced by a newer one: the incident's VMs changed. Decide on the "
        "current card.",
    )
    assert outcome.approval == engine.approvals.get(first["id"])
    assert outcome.approval["state"] == "superseded"
    (current,) = engine.approvals.pending()
    assert [t["vm"] for t in current["targets"]] == ["erp-app-03", "erp-app-04"]
    assert engine.runs.all() == []


def test_a_decided_approval_is_never_replaced_newcomers_get_their_own(engine):
    first = _pending(engine)
    engine.decide(first["id"], "reject", ALICE)
    engine.ingest(rp_limit_alert("erp-app-04"))
    assert engine.approvals.get(first["id"])["state"] == "rejected"
    (current,) = engine.approvals.pending()
    assert [t["vm"] for t in current["targets"]] == ["erp-app-04"]


def test_an_approval_nothing_could_start_for_says_why(engine):
    engine.ingest(dispose_timeout("erp-vm-001"))  # diagnose: no approval at all
    approval = _pending(engine)
    engine.set_switch("paused", True, "user:test")
    outcome = engine.decide(approval["id"], "approve", ALICE)
    assert outcome.accepted
    stored = engine.approvals.get(approval["id"])
    assert stored["state"] == "not-started"
    assert stored["note"] == "automation is paused"
