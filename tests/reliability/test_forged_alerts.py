"""Forged alerts, as an attacker who can reach an ingestion route would send them.

A signal is a hint: every fix confirms the failure from Azure for the exact resource before
it writes, an approval binds the resources its card showed, and a resolved alert closes
nothing Azure does not agree with. Each case counts the writes that reached a resource Azure
had not confirmed as failing: there must be none.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from devtools.replay import REPLAY_APPROVER, estate_for, simulated_engine
from remediation.playbooks import cleanup_restore_points
from remediation.policy import Limits, Policy
from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload, rp_limit_alert
from tests.reliability.summary import record

APPROVERS = {"approvers": frozenset({REPLAY_APPROVER.object_id}), "tenant_id": "replay-tenant"}
GUEST_AGENT = ("UserErrorGuestAgentStatusUnavailable",
               "VM agent is unable to communicate with the Azure Backup Service.")  # fmt: skip


@pytest.fixture(autouse=True)
def fast_conflict_retry(monkeypatch):
    monkeypatch.setitem(cleanup_restore_points.CONFLICT_RETRY, "initial_wait", 0.01)


@contextmanager
def _estate_with(*vms: str, policy: Policy | None = None) -> Iterator[tuple[Any, Any]]:
    """A simulator where `vms` exist, back up to full collections, and truly fail."""
    with simulated_engine(estate_for([rp_limit_alert(vm) for vm in vms]), policy=policy) as pair:
        yield pair


def _writes_to(sim, name: str) -> list[str]:
    return [e.path for e in sim.requests.entries() if e.method != "GET" and name in e.path]


def _approve_all(engine) -> None:
    for approval in engine.approvals.pending():
        assert engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted


def _forged(kind: str, writes: int) -> None:
    record("forged alerts", **{f"to_{kind}": 1}, unconfirmed_writes=writes)


def test_a_later_alert_cannot_redirect_an_approved_fix_to_another_vm():
    with _estate_with("erp-app-03", "erp-db-01") as (engine, sim):
        engine.ingest(rp_limit_alert("erp-app-03"))
        forged = copy.deepcopy(backup_alert_payload("erp-app-03", alert_no=2))
        context = forged["data"]["alertContext"]
        context["linkedResourceId"] = context["linkedResourceId"].replace("erp-app-03", "erp-db-01")
        engine.ingest(parse_payload(forged))
        (incident,) = engine.incidents.open_incidents()
        assert "erp-app-03" in incident["identity_conflicts"], "flagged, not merged silently"
        (approval,) = engine.approvals.pending()
        assert [t["resource_id"] for t in approval["targets"]] == [
            incident["resources"]["erp-app-03"]
        ] and incident["resources"]["erp-app-03"].endswith("/erp-app-03")
        before = sim.estate.to_state()
        _approve_all(engine)
        engine.queue.drain(engine.runner.handle)
        writes = _writes_to(sim, "erp-db-01")
        _forged("redirect", len(writes))
        assert writes == []
        db01 = [c for c in sim.estate.to_state()["restore_point_collections"]
                if c["source_vm_id"].endswith("/erp-db-01")]  # fmt: skip
        assert db01 == [c for c in before["restore_point_collections"]
                        if c["source_vm_id"].endswith("/erp-db-01")]  # fmt: skip


def test_a_forged_failure_for_a_healthy_vm_backs_nothing_up_and_opens_no_breaker():
    policy = Policy(limits=Limits(breaker_failures=2), **APPROVERS)
    with _estate_with("erp-app-05", policy=policy) as (engine, sim):
        for job in sim.estate.backup_jobs.values():  # its backups are fine
            job.status, job.error_details = "Completed", []
        for n in range(3):
            code, text = GUEST_AGENT
            forged = backup_alert_payload("erp-app-05", alert_no=n, code=code, description=text)
            engine.ingest(parse_payload(forged))
            engine.queue.drain(engine.runner.handle)
        runs = engine.runs.all()
        assert {r["state"] for r in runs} == {"not-confirmed"}
        _forged("healthy_vm", sim.requests.writes)
        assert sim.requests.writes == 0
        assert engine._blockers("retry-backup", engine.policy())("erp-app-06") is None


def test_a_forged_resolve_closes_nothing_and_the_fix_still_runs():
    with _estate_with("erp-app-03") as (engine, _sim):
        engine.ingest(rp_limit_alert("erp-app-03"))
        engine.ingest(rp_limit_alert("erp-app-03", resolved=True))  # Azure still says failed
        (incident,) = engine.incidents.open_incidents()
        assert incident["active_vms"] == ["erp-app-03"]
        assert any("not confirmed by Azure" in note for note in incident["notes"])
        _approve_all(engine)
        engine.queue.drain(engine.runner.handle)
        (run,) = engine.runs.all()
        assert run["state"] == "succeeded", run["failure"]
        _forged("resolve", 0)


def test_a_flood_of_forged_alerts_is_held_behind_one_card_and_starves_no_real_fix():
    limit = 20
    policy = Policy(limits=Limits(new_incidents_per_window=limit), **APPROVERS)
    with _estate_with("erp-app-03", policy=policy) as (engine, sim):
        engine.ingest(rp_limit_alert("erp-app-03"))  # the real one, first
        for n in range(300):  # other vaults, other VMs, none of them in Azure
            forged = backup_alert_payload(f"ghost-{n:03}")
            forged["data"]["essentials"]["alertTargetIDs"] = [
                f"/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-x/"
                f"providers/microsoft.recoveryservices/vaults/vault-{n:03}"
            ]
            engine.ingest(parse_payload(forged))
        cards = engine.counters.notifications
        assert cards <= limit + 1, "one card per incident up to the limit, then one flood card"
        held = [i for i in engine.incidents.open_incidents() if i.get("held") == "flood"]
        assert len(held) == 301 - limit
        real = engine.incidents.for_vm("erp-app-03")[0]
        approval = engine.approvals.get(real["approval_id"])
        assert engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
        engine.queue.drain(engine.runner.handle)
        fixed = [r for r in engine.runs.all() if r["vm"] == "erp-app-03"]
        assert [r["state"] for r in fixed] == ["succeeded"], fixed[0]["failure"]
        ghosts = [p for p in _writes_to(sim, "ghost-")]
        _forged("flood", len(ghosts))
        assert ghosts == []
