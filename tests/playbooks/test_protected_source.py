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


def _reported(**fields: str | None):
    """prepare(): the vault reports the item's source fields as given (None: absent; "own":
    the VM's own id)."""

    def prepare(estate):
        (item,) = [i for i in estate.protected_items.values() if i.vm.name == "erp-app-03"]
        to_arm = item.to_arm

        def as_reported():
            reported = to_arm()
            props = reported["properties"]
            for name, value in fields.items():
                props.pop(name, None)
                if value is not None:
                    props[name] = item.vm.id if value == "own" else value
            return reported

        item.to_arm = as_reported

    return prepare


def _reported_by_virtual_machine_id_only(source: str | None = None):
    return _reported(sourceResourceId=None, virtualMachineId=source or "own")


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


def test_the_source_resource_id_decides_over_the_virtual_machine_id(pipeline):
    other = "/subscriptions/x/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/b"
    p = pipeline(
        [rp_limit_alert("erp-app-03")],
        prepare=_reported(sourceResourceId=other, virtualMachineId="own"),
    )
    (run,) = p.runs()
    assert run["failure"].endswith(f"under the name of erp-app-03 ({other}): nothing was changed.")
    assert _writes(p.engine) == []


def test_an_item_naming_no_source_is_not_taken_for_the_vm(pipeline):
    p = pipeline(
        [rp_limit_alert("erp-app-03")],
        prepare=_reported(sourceResourceId=None, virtualMachineId=None),
    )
    (run,) = p.runs()
    (item,) = [i for i in p.sim.estate.protected_items.values() if i.vm.name == "erp-app-03"]
    vault = item.vault.id.rsplit("/", 1)[-1]
    assert run["failure"] == (
        f"Vault {vault} protects an item under the name of erp-app-03 without naming the "
        "resource it backs up: nothing was changed."
    )
    assert _writes(p.engine) == []
