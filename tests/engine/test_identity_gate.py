"""A VM whose identity the signals disagree on gets no automatic fix either: the automatic
path (a read-only `diagnose` for every DisposeArtefactsTimedOut VM) leaves it out and says why,
while the other VMs of the incident get theirs."""

from __future__ import annotations

import dataclasses

from tests.engine.signals import dispose_timeout, rp_limit_alert

OTHER_VM = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-migrate-prod"
    "/providers/Microsoft.Compute/virtualMachines/vm-99"
)


def test_a_vm_in_doubt_gets_no_automatic_run_and_the_incident_says_why(engine):
    engine.ingest(dataclasses.replace(dispose_timeout("vm-01"), resource_id=OTHER_VM))
    engine.ingest(dispose_timeout("vm-02"))
    [incident] = engine.incidents.open_incidents()
    assert incident["plan"]["mode"] == "auto"
    assert [r["vm"] for r in engine.runs.all()] == ["vm-02"]
    assert "vm-01: identity in doubt" in incident["notes"]


VM = "erp-app-03"
DOUBT = f"{VM}: signals disagree on which resource it is; no fix runs for it until a person checks"


def _without_resource(signal):
    return dataclasses.replace(signal, resource_id=None)


def test_a_vm_first_seen_without_an_id_takes_its_own_id_from_a_later_signal(engine):
    engine.ingest(_without_resource(rp_limit_alert(VM)))
    assert engine.incidents.for_vm(VM)[0]["resources"] == {}
    named = rp_limit_alert(VM, alert_no=2)
    engine.ingest(named)
    incident = engine.incidents.for_vm(VM)[0]
    assert incident["resources"] == {VM: named.resource_id}
    assert not incident.get("identity_conflicts")


def test_a_vm_first_seen_without_an_id_is_in_doubt_when_a_later_one_names_another_vm(engine):
    engine.ingest(_without_resource(rp_limit_alert(VM)))
    other = rp_limit_alert("erp-db-01", alert_no=2).resource_id
    engine.ingest(dataclasses.replace(rp_limit_alert(VM, alert_no=2), resource_id=other))
    incident = engine.incidents.for_vm(VM)[0]
    assert incident["resources"] == {}
    assert incident["identity_conflicts"] == {VM: [other]}
    assert DOUBT in incident["notes"]
