"""Which resource a VM is: signals that disagree stop every fix for that VM until a person
checks. A VM id must end in the VM's name; a later signal may not redirect a listed VM to
another resource; the same id in another case is the same resource."""

from __future__ import annotations

import copy

from remediation.signals import parse_payload
from tests.engine.signals import backup_alert_payload, rp_limit_alert

VM = "erp-app-03"
DOUBT = f"{VM}: signals disagree on which resource it is; no fix runs for it until a person checks"


def _alert(vm: str = VM, linked: str | None = None, alert_no: int = 1):
    payload = copy.deepcopy(backup_alert_payload(vm, alert_no))
    context = payload["data"]["alertContext"]
    if linked:
        context["linkedResourceId"] = linked
    return parse_payload(payload)


def _vm_id(engine_incident_vm: str = VM) -> str:
    payload = backup_alert_payload(engine_incident_vm)
    return payload["data"]["alertContext"]["linkedResourceId"]


def _incident(engine):
    return engine.incidents.for_vm(VM)[0]


def test_a_vm_named_by_another_vms_id_is_in_doubt_and_gets_no_fix(engine):
    other = _vm_id("erp-db-01")
    engine.ingest(_alert(linked=other))
    incident = _incident(engine)
    assert incident["identity_conflicts"] == {VM: [other]}
    assert DOUBT in incident["notes"]
    assert VM not in incident["resources"]
    assert incident.get("approval_id") is None
    assert engine.runs.all() == []


def test_a_later_signal_may_not_redirect_a_listed_vm(engine):
    engine.ingest(rp_limit_alert(VM))
    listed = _incident(engine)["resources"][VM]
    moved = listed.replace("rg-erp-prod", "rg-elsewhere")
    engine.ingest(_alert(linked=moved, alert_no=2))
    incident = _incident(engine)
    assert incident["identity_conflicts"] == {VM: [listed, moved]}
    assert incident["resources"][VM] == listed
    assert DOUBT in incident["notes"]
    engine.ingest(_alert(linked=moved.upper(), alert_no=3))
    engine.ingest(_alert(linked=moved, alert_no=4))
    assert len(_incident(engine)["identity_conflicts"][VM]) == 3, "each id listed once"


def test_the_same_id_in_another_case_is_the_same_vm(engine):
    engine.ingest(rp_limit_alert(VM))
    listed = _incident(engine)["resources"][VM]
    engine.ingest(_alert(linked=listed.upper(), alert_no=2))
    incident = _incident(engine)
    assert not incident.get("identity_conflicts")
    assert incident["resources"][VM] == listed


def test_an_id_with_the_vms_name_in_another_case_is_the_vm(engine):
    vm_id = _vm_id(VM)
    engine.ingest(_alert(linked=vm_id.replace(VM, VM.upper())))
    incident = _incident(engine)
    assert not incident.get("identity_conflicts")
    assert incident["resources"][VM].lower() == vm_id.lower()


def test_a_resource_that_is_not_a_vm_is_listed_without_doubt(engine):
    item = _vm_id(VM).split("/providers/")[0] + (
        "/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/f/"
        "replicationProtectionContainers/c/replicationMigrationItems/anything"
    )
    engine.ingest(_alert(linked=item))
    assert not _incident(engine).get("identity_conflicts")


def test_a_vm_in_doubt_is_left_out_of_the_approval_others_are_not(engine):
    engine.ingest(_alert(linked=_vm_id("erp-db-01")))
    engine.ingest(rp_limit_alert("erp-app-04"))
    approval = engine.approvals.get(engine.incidents.for_vm("erp-app-04")[0]["approval_id"])
    assert [t["vm"] for t in approval["targets"]] == ["erp-app-04"]


def test_a_resolution_of_a_listed_vm_clears_it_from_the_active_ones(engine):
    engine.ingest(rp_limit_alert(VM))
    engine.ingest(rp_limit_alert("erp-app-04"))
    engine.ingest(rp_limit_alert(VM, resolved=True), from_azure=True)
    assert _incident(engine)["active_vms"] == ["erp-app-04"]


def test_a_vm_that_fails_again_after_its_resolution_is_active_again(engine):
    engine.ingest(rp_limit_alert(VM))
    engine.ingest(rp_limit_alert("erp-app-04"))
    engine.ingest(rp_limit_alert(VM, resolved=True), from_azure=True)
    engine.ingest(_alert(alert_no=2))
    engine.ingest(_alert(alert_no=3))
    assert sorted(_incident(engine)["active_vms"]) == [VM, "erp-app-04"], "listed once"


def test_a_resource_id_that_is_not_an_arm_id_is_kept_as_given(engine):
    engine.ingest(_alert(linked="erp-app-03 (on-premises)"))
    incident = _incident(engine)
    assert incident["resources"].get(VM) == "erp-app-03 (on-premises)"
    assert not incident.get("identity_conflicts")
