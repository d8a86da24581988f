"""Backup failures the poller finds can be fixed: the timer function reads the vault's Backup
jobs on the ARM simulator, the Service Bus function runs the fix, and the fix acts on the VM the
job's container names (in the vault's subscription), after reading that VM and the vault's
protected item. A container that names another VM than the one the vault backs up is refused
by those reads, and nothing is written."""

from __future__ import annotations

from azure.functions.timer import TimerRequest

from bot.incident_card import incident_card
from devtools.localhost.serve import DEV_USER
from devtools.simulator.builders import Failure, failed_backup
from devtools.simulator.identity import TEST_TENANT
from devtools.simulator.resources import VirtualMachine
from remediation.approvals import Approver
from tests.bot_app.test_incident_flow import texts
from tests.function_app_fixture import run_queue

INTERNAL_ERROR = Failure(
    ("BackUpOperationFailed",),
    "Backup failed with an internal error - Please retry the operation in a few minutes",
)
OTHER_SUBSCRIPTION = "99999999-0000-4000-8000-000000000009"


def poll_and_run(functions, services) -> None:
    functions["poller"].get_user_function()(timer=TimerRequest(past_due=False))
    run_queue(functions, services)


def vm_run(engine, vm: str) -> tuple[dict, dict]:
    """(the VM's one incident, its one fix run)."""
    (incident,) = [i for i in engine.incidents.all() if vm in i["vms"]]
    (run,) = engine.runs.for_incident(incident["id"])
    return incident, run


def card_text(engine, incident_id: str) -> str:
    incident = engine.incidents.get(incident_id)
    return texts(incident_card(engine.notifier.latest[incident["card"]["message_id"]]))


def test_a_restore_point_limit_the_poller_found_is_cleaned_up_once_approved(simulated):
    functions, services, sim = simulated
    engine = services.engine
    poll_and_run(functions, services)
    (approval,) = [a for a in engine.approvals.pending() if "erp-app-03" in str(a)]
    who = Approver(DEV_USER["object_id"], DEV_USER["name"], TEST_TENANT)
    assert engine.decide(approval["id"], "approve", who).accepted
    run_queue(functions, services)
    incident, run = vm_run(engine, "erp-app-03")
    assert run["state"] == "succeeded", run.get("failure")
    vm = next(v for v in sim.estate.vms.values() if v.name == "erp-app-03")
    assert run["target"]["resource_id"].lower() == vm.id.lower()
    assert [r.item.vm.name for r in sim.estate.backup_requests] == ["erp-app-03"] * 2
    assert engine.incidents.get(incident["id"])["status"] == "resolved"
    assert "Fixed: Azure shows the fix worked for erp-app-03." in card_text(engine, incident["id"])


def test_a_retryable_backup_failure_the_poller_found_is_retried(simulated):
    functions, services, sim = simulated
    engine = services.engine
    vm = next(v for v in sim.estate.vms.values() if v.name == "erp-app-02")
    failed_backup(sim.estate, vm, INTERNAL_ERROR)
    for collection in sim.estate.restore_point_collections.values():
        if collection.source_vm_id == vm.id:  # room for the next restore point
            collection.restore_points = collection.restore_points[:5]
    poll_and_run(functions, services)
    incident, run = vm_run(engine, "erp-app-02")
    assert (incident["entry_id"], run["playbook"]) == ("backup-internal-error", "retry-backup")
    assert run["state"] == "succeeded", run.get("failure")
    assert [r.item.vm.name for r in sim.estate.backup_requests] == ["erp-app-02"]
    assert "Fixed: Azure shows the fix worked for erp-app-02." in card_text(engine, incident["id"])


def test_a_failure_the_poller_found_on_a_vm_whose_agent_is_down_stops_for_that_reason(simulated):
    """file-02's guest agent is not ready: the fix reads that VM and says why it stopped, where
    it once said the signal named no VM."""
    functions, services, _ = simulated
    poll_and_run(functions, services)
    _, run = vm_run(services.engine, "file-02")
    assert run["state"] == "failed"
    assert run["failure"].startswith("The VM agent of file-02 is Not Ready")


def test_a_container_naming_another_vm_than_the_vault_backs_up_is_refused(simulated):
    """The vault protects csb-01 of another subscription (its container name is the same as
    for a VM of the vault's own); a VM of that name and group also exists in the vault's
    subscription. The derived id names that one: the protected item's source says otherwise,
    and the fix stops before any write."""
    functions, services, sim = simulated
    estate, engine = sim.estate, services.engine
    vault = next(v for v in estate.vaults.values() if v.name == "rsv-backup-weu")
    protected = VirtualMachine(OTHER_SUBSCRIPTION, "rg-erp-prod", "csb-01", vault.location)
    estate.protect_vm(protected, vault)
    estate.add_vm(VirtualMachine(vault.subscription_id, "rg-erp-prod", "csb-01", vault.location))
    failed_backup(estate, protected, INTERNAL_ERROR)
    poll_and_run(functions, services)
    _, run = vm_run(engine, "csb-01")
    assert run["state"] == "failed"
    assert run["failure"] == (
        "Vault rsv-backup-weu protects another resource under the name of csb-01 "
        f"({protected.id}): nothing was changed."
    )
    writes = [e.path for e in sim.requests.entries() if e.write]
    assert not [w for w in writes if "csb-01" in w.lower()] and estate.backup_requests == []
