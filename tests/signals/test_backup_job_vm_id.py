"""A Backup job names its Azure VM by container; the signal carries that VM's ARM id (in the
vault's subscription), so a fix can act on a failure the poller found. Built from Microsoft's
own examples (tests/simulator/spec_examples/backup): the job of GetJobDetails, the container
names of Compute_ProtectedItem_Get and TriggerBackup_Post."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from remediation.signals import SignalError, parse_payload
from remediation.signals.arm_id import ArmId

SPEC = Path(__file__).resolve().parent.parent / "simulator" / "spec_examples" / "backup"


def spec(name: str) -> dict[str, Any]:
    return json.loads((SPEC / name).read_text(encoding="utf-8"))


def microsoft_job(container: str | None = None) -> dict[str, Any]:
    """GetJobDetails' job (it names no container), with `container` when given."""
    job = copy.deepcopy(spec("GetJobDetails.json")["responses"]["200"]["body"])
    if container is not None:
        job["properties"]["containerName"] = container
    return job


VAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # GetJobDetails' job id


def test_microsoft_job_example_names_no_container_and_gets_no_invented_id():
    signal = parse_payload(microsoft_job())
    assert signal.vm == "testvm"
    assert signal.resource_id is None
    assert signal.vault == "NetSDKTestRsVault"


def test_the_container_of_microsofts_protected_item_gives_the_vm_in_the_vault_subscription():
    item = spec("Compute_ProtectedItem_Get.json")["responses"]["200"]["body"]["properties"]
    signal = parse_payload(microsoft_job(item["containerName"]))
    assert signal.resource_id == (
        f"/subscriptions/{VAULT_SUBSCRIPTION}/resourceGroups/iaasvm-rg"
        "/providers/Microsoft.Compute/virtualMachines/iaasvm-1"
    )
    # Microsoft's item names its VM in the vault's subscription, as the derivation assumes
    # (its id lacks the group's name, so it is read by position, not parsed).
    source = item["virtualMachineId"].split("/")
    assert source[2] == VAULT_SUBSCRIPTION == signal.subscription_id
    assert source[-1] == ArmId.parse(signal.resource_id).name
    assert signal.resource_group == "iaasvm-rg"
    assert signal.vault_id.endswith("/vaults/NetSDKTestRsVault")


@pytest.mark.parametrize(
    "container",
    [
        spec("TriggerBackup_Post.json")["parameters"]["containerName"],  # IaasVMContainer;...
        "iaasvmcontainer;iaasvmcontainerv2;testrg;v1win2012r",
        "IAASVMCONTAINERV2;testrg;v1win2012r",
    ],
)
def test_the_prefixed_and_any_case_container_names_give_the_same_vm(container):
    signal = parse_payload(microsoft_job(container))
    assert signal.resource_id == (
        f"/subscriptions/{VAULT_SUBSCRIPTION}/resourceGroups/testrg"
        "/providers/Microsoft.Compute/virtualMachines/v1win2012r"
    )


@pytest.mark.parametrize(
    "container",
    [
        "iaasvmcontainer;classic-cs;classicvm",  # a classic VM (no v2): not a Compute VM
        "IaasVMContainer;iaasvmcontainer;classic-cs;classicvm",
        "VMAppContainer;Compute;rg-sql;sql-01",  # SQL in an Azure VM: a workload, not the VM
        "StorageContainer;Storage;rg-files;account1",
        "iaasvmcontainerv2;rg-only",
        "iaasvmcontainerv2;;vm-1",
        "iaasvmcontainerv2;rg;",
        "iaasvmcontainerv2;rg;vm/extensions/x",  # would point the id at another resource
        "iaasvmcontainerv2; rg ;vm-1",
        "IaasVMContainer;iaasvmcontainerv2;rg;vm-1;extra",
        "",
    ],
)
def test_other_containers_give_no_vm_id(container):
    assert parse_payload(microsoft_job(container)).resource_id is None


def test_a_job_outside_a_vault_gives_no_vm_id():
    job = microsoft_job("iaasvmcontainerv2;rg;vm-1")
    del job["id"]
    assert parse_payload(job).resource_id is None


def test_a_container_name_that_is_not_text_is_refused_with_its_place():
    job = microsoft_job()
    job["properties"]["containerName"] = 42
    with pytest.raises(SignalError, match="containerName"):
        parse_payload(job)
