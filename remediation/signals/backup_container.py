"""The Azure VM an Azure Backup container name stands for.

A Backup job names its VM only by container: `iaasvmcontainerv2;{vm group};{vm name}`, in
responses often `IaasVMContainer;iaasvmcontainerv2;{vm group};{vm name}` (case varies). The
name holds no subscription: Microsoft's Azure VM backup support matrix has the VM in the
vault's subscription and region, so the VM's id is taken in the vault's subscription. That is
a hint like any signal: before its first write a fix reads the VM and the vault's protected
item, whose source must be that very id (a VM protected from another subscription, or
re-created under the same name, is refused there).
"""

from __future__ import annotations

AZURE_VM_CONTAINER = "iaasvmcontainerv2"  # Resource Manager VMs; "iaasvmcontainer" is classic
CONTAINER_TYPE = "iaasvmcontainer"  # the prefix responses put before the v2 name


def azure_vm_id(container: str | None, subscription_id: str | None) -> str | None:
    """`/subscriptions/{subscription_id}/resourceGroups/{group}/providers/Microsoft.Compute/
    virtualMachines/{name}` for an Azure VM container, else None (a classic VM's container,
    another workload's, a malformed name, or no subscription)."""
    vm = azure_vm(container)
    if vm is None or not subscription_id:
        return None
    group, name = vm
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{group}"
        f"/providers/Microsoft.Compute/virtualMachines/{name}"
    )


def azure_vm(container: str | None) -> tuple[str, str] | None:
    """(resource group, name) of the Azure VM a container names, else None (a classic VM's
    container, another workload's, or a malformed name)."""
    parts = container.split(";") if container else []
    if len(parts) == 4 and parts[0].lower() == CONTAINER_TYPE:
        del parts[0]
    if len(parts) != 3 or parts[0].lower() != AZURE_VM_CONTAINER:
        return None
    group, name = parts[1], parts[2]
    return (group, name) if _segment(group) and _segment(name) else None


def _segment(value: str) -> bool:
    """A name that can stand alone as one ARM id segment (no resource or group name of Azure
    holds a slash or surrounding blanks)."""
    return bool(value) and "/" not in value and value.strip() == value
