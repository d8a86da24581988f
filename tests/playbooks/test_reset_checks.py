"""reset-snapshot-extension's checks: a stopped VM cannot get its extension back, so nothing is
removed; success is the extension read back present and healthy; and the catalogue's
preconditions are worded for the card in both languages."""

from __future__ import annotations

import pytest

from devtools.simulator import Behaviour
from remediation.playbooks.preconditions import describe
from tests.playbooks.test_playbooks import _snapshot_alert

ROOMY = Behaviour(max_restore_points=99)


def _vm(estate, name="web-03"):
    return next(v for v in estate.vms.values() if v.name == name)


def _broken(estate, power="running"):
    vm = _vm(estate)
    vm.power_state = power
    for ext in vm.extensions.values():
        ext.provisioning_state = "Failed"


def _reset(pipeline, prepare):
    p = pipeline([_snapshot_alert("web-03")], behaviour=ROOMY, prepare=prepare)
    (run,) = p.runs()
    return p, run


@pytest.mark.parametrize("power", ["deallocated", "stopped"])
def test_a_stopped_vm_keeps_its_extension_and_is_told_to_start(pipeline, power):
    p, run = _reset(pipeline, lambda estate: _broken(estate, power))
    assert (run["state"], run["failure"]) == (
        "failed",
        f"VM web-03 is {power}: start it, then retry the fix (the next backup reinstalls the "
        "extension through the running VM agent).",
    )
    assert p.sim.requests.writes == 0


def test_an_extension_the_backup_did_not_reinstall_is_a_failure(pipeline):
    def never_reinstalled(estate):
        _broken(estate)
        estate._reinstall_backup_extension = lambda vm: None

    _, run = _reset(pipeline, never_reinstalled)
    assert (run["state"], run["failure"]) == (
        "failed", "the backup completed but the snapshot extension of web-03 is missing",
    )  # fmt: skip


def test_an_extension_reinstalled_failed_is_a_failure(pipeline):
    def reinstalled_failed(estate):
        _broken(estate)
        reinstall = estate._reinstall_backup_extension

        def and_fail(vm):
            reinstall(vm)
            for ext in vm.extensions.values():
                ext.provisioning_state = "Failed"

        estate._reinstall_backup_extension = and_fail

    _, run = _reset(pipeline, reinstalled_failed)
    assert run["failure"] == (
        "the backup completed but the snapshot extension of web-03 is still failed"
    )


def test_an_extension_already_gone_counts_as_removed(pipeline):
    p = pipeline([_snapshot_alert("web-03")], behaviour=ROOMY, prepare=_broken,
                 faults=lambda f: f.error("compute.extensions.delete", 404, times=1))  # fmt: skip
    (run,) = p.runs()
    assert run["state"] == "succeeded", run["failure"]
    assert ("remove-extension", "next", "removed VMSnapshot") in [
        (j["step"], j["phase"], j.get("note")) for j in run["journal"]
    ]


@pytest.mark.parametrize(
    ("precondition", "lang", "words"),
    [
        ("vm-running", "en", "the VM is running, so the next backup can reinstall the extension"),
        ("vm-running", "fr",
         "la VM est démarrée, pour que la sauvegarde suivante réinstalle l'extension"),
        ("resync-allowed", "de",
         "Azure allows a resync of the migration item (StartResync)"),
        ("made-up", "fr", "made-up"),
    ],
)  # fmt: skip
def test_preconditions_are_worded_for_the_card(precondition, lang, words):
    assert describe(precondition, lang) == words
