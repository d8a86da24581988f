"""The vault must protect that very VM: a protected item under the VM's name whose source is
another resource (a VM deleted and re-created under its name) stops the fix before any write."""

from __future__ import annotations

from tests.engine.signals import rp_limit_alert
from tests.playbooks.test_playbooks import _writes


def test_a_vault_protecting_another_resource_under_the_vms_name_writes_nothing(pipeline):
    def recreated(estate):
        (item,) = [i for i in estate.protected_items.values() if i.vm.name == "erp-app-03"]
        item.source_id = item.vm.id.replace("/resourceGroups/", "/resourceGroups/old-") + "-gone"

    p = pipeline([rp_limit_alert("erp-app-03")], prepare=recreated)
    (run,) = p.runs()
    (item,) = [i for i in p.sim.estate.protected_items.values() if i.vm.name == "erp-app-03"]
    vault = item.vault.id.rsplit("/", 1)[-1]
    assert run["state"] == "failed"
    assert run["failure"] == (
        f"Vault {vault} protects another resource under the name of erp-app-03 "
        f"({item.source_id}): nothing was changed."
    )
    assert _writes(p.engine) == []
    assert p.sim.estate.to_state() == p.initial


def _reported_by_virtual_machine_id_only(source: str | None = None):
    """prepare(): the vault reports the item's source in `virtualMachineId` alone (no
    `sourceResourceId`), as `source` or the VM's own id."""

    def prepare(estate):
        (item,) = [i for i in estate.protected_items.values() if i.vm.name == "erp-app-03"]
        to_arm = item.to_arm

        def without_source_resource_id():
            reported = to_arm()
            props = reported["properties"]
            del props["sourceResourceId"]
            props["virtualMachineId"] = source or item.vm.id
            return reported

        item.to_arm = without_source_resource_id

    return prepare


def test_a_source_reported_as_virtual_machine_id_alone_is_read(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], prepare=_reported_by_virtual_machine_id_only())
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]


def test_another_vm_reported_as_virtual_machine_id_alone_writes_nothing(pipeline):
    other = "/subscriptions/x/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/a"
    p = pipeline(
        [rp_limit_alert("erp-app-03")], prepare=_reported_by_virtual_machine_id_only(other)
    )
    (run,) = p.runs()
    assert run["state"] == "failed"
    assert run["failure"].endswith(f"under the name of erp-app-03 ({other}): nothing was changed.")
    assert _writes(p.engine) == []
