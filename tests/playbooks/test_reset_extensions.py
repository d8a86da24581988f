"""reset-snapshot-extension on the VMs it meets: a Linux VM's VMSnapshotLinux, an extension
named by hand but of the snapshot type, and other extensions failing next to it. What must
hold: only Azure Backup's snapshot extension is removed, whatever its name, and the card names
it both when it is removed and when it is read back healthy."""

from __future__ import annotations

from devtools.simulator.resources import Extension
from tests.playbooks.test_backup_rounds import ROOMY
from tests.playbooks.test_playbooks import _snapshot_alert
from tests.playbooks.test_reset_checks import _vm
from tests.playbooks.test_timelines import timeline

MONITORING = Extension("MicrosoftMonitoringAgent", "MicrosoftMonitoringAgent", "Failed",
                       "Microsoft.EnterpriseCloud.Monitoring")  # fmt: skip


def _reset(pipeline, prepare):
    p = pipeline([_snapshot_alert("web-03")], behaviour=ROOMY, prepare=prepare)
    (run,) = p.runs()
    return p, run


def _notes(run, *steps):
    return [note for step, phase, note in timeline(run) if step in steps and phase == "next"]


def test_a_linux_vms_vmsnapshotlinux_is_removed_and_read_back(pipeline):
    def linux(estate):
        vm = _vm(estate)
        vm.os_type = "Linux"
        vm.extensions = {"VMSnapshotLinux": Extension("VMSnapshotLinux", "VMSnapshotLinux",
                                                      "Failed")}  # fmt: skip

    p, run = _reset(pipeline, linux)
    assert run["state"] == "succeeded", run["failure"]
    assert _notes(run, "find-failed-extension", "remove-extension", "confirm-reinstalled") == [
        "failed snapshot extension: VMSnapshotLinux",
        "removed VMSnapshotLinux",
        "VMSnapshotLinux reinstalled and healthy",
    ]
    assert p.sim.estate.to_state()["extensions"]["web-03"] == {"VMSnapshotLinux": "Succeeded"}


def test_a_snapshot_extension_named_by_hand_is_known_by_its_type(pipeline):
    def renamed(estate):
        _vm(estate).extensions = {"backup-snap": Extension("backup-snap", "VMSnapshot", "Failed")}

    p, run = _reset(pipeline, renamed)
    assert run["state"] == "succeeded", run["failure"]
    assert _notes(run, "find-failed-extension", "remove-extension")[:2] == [
        "failed snapshot extension: backup-snap", "removed backup-snap",
    ]  # fmt: skip
    assert p.sim.estate.to_state()["extensions"]["web-03"] == {"VMSnapshot": "Succeeded"}


def test_another_failed_extension_is_neither_the_evidence_nor_removed(pipeline):
    def both_failed(estate):
        vm = _vm(estate)
        for ext in vm.extensions.values():
            ext.provisioning_state = "Failed"
        vm.extensions[MONITORING.name] = MONITORING

    p, run = _reset(pipeline, both_failed)
    assert run["state"] == "succeeded", run["failure"]
    assert _notes(run, "find-failed-extension") == ["failed snapshot extension: VMSnapshot"]
    assert p.sim.estate.to_state()["extensions"]["web-03"] == {
        "MicrosoftMonitoringAgent": "Failed", "VMSnapshot": "Succeeded",
    }  # fmt: skip


def test_only_another_extension_failing_is_not_the_snapshot_failure(pipeline):
    p, run = _reset(pipeline, lambda estate: _vm(estate).extensions.update(
        {MONITORING.name: MONITORING}))  # fmt: skip
    assert (run["state"], run["failure"]) == (
        "not-confirmed", "No VMSnapshot extension of web-03 is in a failed state.",
    )  # fmt: skip
    assert p.sim.requests.writes == 0


def test_two_failed_snapshot_extensions_are_both_removed_even_when_one_is_already_gone(pipeline):
    def two(estate):
        vm = _vm(estate)
        vm.extensions = {
            "VMSnapshot": Extension("VMSnapshot", "VMSnapshot", "Failed"),
            "backup-snap": Extension("backup-snap", "VMSnapshot", "Failed"),
        }

    p = pipeline([_snapshot_alert("web-03")], behaviour=ROOMY, prepare=two,
                 faults=lambda f: f.error("compute.extensions.delete", 404, times=1))  # fmt: skip
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert _notes(run, "find-failed-extension", "remove-extension") == [
        "failed snapshot extension: VMSnapshot, backup-snap", "removed VMSnapshot, backup-snap",
    ]  # fmt: skip
    assert p.sim.estate.to_state()["extensions"]["web-03"] == {"VMSnapshot": "Succeeded"}


def test_an_extension_whose_type_azure_does_not_report_is_known_by_its_name(pipeline):
    def untyped(estate):
        _vm(estate).extensions = {"VMSnapshot": Extension("VMSnapshot", "", "Failed")}

    p, run = _reset(pipeline, untyped)
    assert run["state"] == "succeeded", run["failure"]
    assert _notes(run, "find-failed-extension") == ["failed snapshot extension: VMSnapshot"]
    assert p.sim.estate.to_state()["extensions"]["web-03"] == {"VMSnapshot": "Succeeded"}
