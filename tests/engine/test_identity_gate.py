"""A VM whose identity the signals disagree on gets no automatic fix either: the automatic
path (a read-only `diagnose` for every DisposeArtefactsTimedOut VM) leaves it out and says why,
while the other VMs of the incident get theirs."""

from __future__ import annotations

import dataclasses

from tests.engine.signals import dispose_timeout

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
