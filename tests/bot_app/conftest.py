"""One ARM simulator per session whose estate holds the VM and vault of the rp-limit alert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.simulator import ArmSimulator, Behaviour, Estate

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
VAULT_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-backup-prod/providers/"
    "Microsoft.RecoveryServices/vaults/rsv-prod-weu"
)

MIGRATE_VAULT_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-migration/providers/"
    "Microsoft.RecoveryServices/vaults/rsv-migrate-weu"
)


def vm_id(name: str) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-erp-prod/providers/"
        f"Microsoft.Compute/virtualMachines/{name}"
    )


@pytest.fixture(scope="session")
def arm_sim_session() -> Iterator[ArmSimulator]:
    estate = Estate.from_resources(
        backup_vms=[(vm_id(f"erp-app-{n:02d}"), VAULT_ID) for n in range(1, 5)],
        migration_items=[("erp-app-03", MIGRATE_VAULT_ID)],
        subscription_id=SUBSCRIPTION,
        behaviour=Behaviour(retry_after=0),
    )
    [item] = estate.migration_items.values()
    item.health_errors = [
        {"errorCode": "1004", "errorMessage": "Failed to fetch the changed blocks.",
         "recommendedAction": "Resynchronize the virtual machine.", "errorLevel": "Error"}
    ]  # fmt: skip
    with ArmSimulator(estate) as simulator:
        yield simulator


@pytest.fixture
def arm_sim(arm_sim_session: ArmSimulator) -> ArmSimulator:
    arm_sim_session.reset()
    return arm_sim_session
