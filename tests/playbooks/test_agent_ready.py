"""retry-backup checks the VM agent first: a backup needs the agent of a running VM, so with
the agent not Ready, or the VM stopped, the retry would fail the same way. The run says why
and writes nothing; with the agent Ready it backs up as before."""

from __future__ import annotations

import pytest

from tests.playbooks.test_backup_rounds import ROOMY
from tests.playbooks.test_playbooks import GUEST_AGENT, INTERNAL, _backup_error, _writes
from tests.playbooks.test_timelines import timeline


def _vm_state(power: str = "running", agent_ready: bool = True):
    def prepare(estate):
        (vm,) = [v for v in estate.vms.values() if v.name == "erp-app-05"]
        vm.power_state, vm.agent_ready = power, agent_ready

    return prepare


def _retry(pipeline, error=GUEST_AGENT, **vm_state):
    p = pipeline([_backup_error("erp-app-05", error)], behaviour=ROOMY,
                 prepare=_vm_state(**vm_state))  # fmt: skip
    (run,) = p.runs()
    assert run["playbook"] == "retry-backup"
    return p, run


def _backups(p) -> list[dict]:
    return [r for r in p.sim.estate.to_state()["backup_requests"] if r["vm"] == "erp-app-05"]


@pytest.mark.parametrize("error", [GUEST_AGENT, INTERNAL])
def test_an_agent_that_is_not_ready_stops_the_retry_before_any_write(pipeline, error):
    p, run = _retry(pipeline, error, agent_ready=False)
    assert (run["state"], run["failure"]) == (
        "failed",
        "The VM agent of erp-app-05 is Not Ready (agent Unknown): a backup now would fail the "
        "same way. Restart the agent (the Windows Azure Guest Agent service, or waagent on "
        "Linux), then retry the fix. Nothing was changed.",
    )
    assert timeline(run)[-1][:2] == ("check-vm-agent", "failed")
    assert _writes(p.engine) == [] and _backups(p) == []


@pytest.mark.parametrize("power", ["deallocated", "stopped"])
def test_a_stopped_vm_stops_the_retry_before_any_write(pipeline, power):
    p, run = _retry(pipeline, power=power, agent_ready=False)
    assert (run["state"], run["failure"]) == (
        "failed",
        f"VM erp-app-05 is {power}: start it, then retry the fix (a backup needs the agent of "
        "a running VM). Nothing was changed.",
    )
    assert _writes(p.engine) == [] and _backups(p) == []


def test_a_ready_agent_lets_the_retry_back_up(pipeline):
    p, run = _retry(pipeline)
    assert run["state"] == "succeeded", run["failure"]
    assert ("check-vm-agent", "next", "the VM agent of erp-app-05 is Ready") in timeline(run)
    assert len(_backups(p)) == 1


@pytest.mark.parametrize(
    ("vm_agent", "said"),
    [
        (None, "silent (agent unknown)"),  # Azure shows no vmAgent at all
        ({"statuses": [{"displayStatus": "Not Ready"}, {"code": "ProvisioningState/Unavailable"}]},
         "Not Ready, ProvisioningState/Unavailable (agent unknown)"),
    ],
)  # fmt: skip
def test_the_failure_says_what_azure_shows_of_the_agent(pipeline, vm_agent, said):
    def reported(estate):
        (vm,) = [v for v in estate.vms.values() if v.name == "erp-app-05"]
        view = vm.instance_view()
        view.pop("vmAgent")
        if vm_agent:
            view["vmAgent"] = vm_agent
        vm.instance_view = lambda: view

    p = pipeline([_backup_error("erp-app-05", GUEST_AGENT)], behaviour=ROOMY, prepare=reported)
    (run,) = p.runs()
    assert run["failure"].startswith(f"The VM agent of erp-app-05 is {said}: a backup now ")
    assert _backups(p) == []
