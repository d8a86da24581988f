"""What each fix's card says as it runs: the whole timeline of a run, step by step.

The card shows each run's latest step note and its failure; chat answers quote them. These
timelines are the record a person reads to know what was done to their VM and why, so each is
pinned in full: a note that goes missing or says something else is a card that misleads.
Ids that Azure makes up (operations, jobs) are shown as <operation>, <job> and so on.
"""

from __future__ import annotations

import re

from devtools.simulator import Behaviour
from remediation.playbooks.cleanup_restore_points import KEEP_LOCK_OFF
from tests.engine.signals import changed_blocks_error, rp_limit_alert
from tests.playbooks.test_playbooks import (
    GUEST_AGENT,
    INTERNAL,
    _backup_error,
    _snapshot_alert,
)
from tests.playbooks.test_reset_checks import _broken

IDS = {
    "backup_operation": "<operation>", "backup_job": "<job>",
    "backup_operation-again": "<operation 2>", "backup_job-again": "<job 2>", "job": "<resync>",
}  # fmt: skip
FULL = "UserErrorRpCollectionLimitReached: The Restore Point collection max limit has reached."


def timeline(run) -> list[tuple[str, str, str]]:
    """(step, phase, note) of each step's end, Azure's ids replaced by their role."""
    ids = {run["context"][k]: v for k, v in IDS.items() if run["context"].get(k)}
    pattern = re.compile("|".join(map(re.escape, ids))) if ids else None

    def plain(note: str) -> str:
        return pattern.sub(lambda m: ids[m.group(0)], note) if pattern else note

    return [(j["step"], j["phase"], plain(j.get("note", ""))) for j in run["journal"]
            if j["phase"] != "start"]  # fmt: skip


CLEANUP_START = [
    ("confirm-vm", "next", "VM erp-app-03 found, protected by its vault"),
    ("find-collections", "next", "1 collection(s) in AzureBackupRG_westeurope_1"),
    ("confirm-limit", "next", "Azure confirms: 18 of 18 restore points"),
    ("no-backup-running", "next", "no backup job in progress"),
    ("record-locks", "next",
     "locks recorded: protect-backup-rg (CanNotDelete) on AzureBackupRG_westeurope_1"),
    ("lift-locks", "next", "lifted 1 lock(s)"),
    ("trigger-backup", "next", "on-demand backup requested (operation <operation>)"),
    ("find-backup-job", "wait", "waiting for Azure Backup to create the job"),
    ("find-backup-job", "next", "backup job <job> started"),
    ("follow-backup", "wait", "backup job <job> is InProgress"),
    ("follow-backup", "next", f"backup job <job> Failed, as expected: {FULL}"),
    ("await-cleanup", "wait", "waiting for Azure Backup's cleanup (18 of 18)"),
]  # fmt: skip
BACKUP_AGAIN = [
    ("trigger-backup-again", "next", "on-demand backup requested (operation <operation 2>)"),
    ("find-backup-job-again", "wait", "waiting for Azure Backup to create the job"),
    ("find-backup-job-again", "next", "backup job <job 2> started"),
    ("follow-backup-again", "wait", "backup job <job 2> is InProgress"),
    ("follow-backup-again", "next", "backup job <job 2> Completed"),
]
AZURE_CLEANED = [
    ("await-cleanup", "next", "Azure Backup cleaned up: 2 of 18 restore points"),
    ("delete-collections", "next", "not needed: Azure cleaned the collection up"),
    *BACKUP_AGAIN,
    ("confirm-cleaned", "next", "3 of 18 restore points now"),
]


def test_a_cleanup_azure_finishes_reads_as_microsofts_steps(pipeline):
    (run,) = pipeline([rp_limit_alert("erp-app-03")]).runs()
    assert (run["state"], run["failure"]) == ("succeeded", None)
    assert timeline(run) == [
        *CLEANUP_START, *AZURE_CLEANED, ("restore-locks", "next", "restored 1 lock(s)"),
    ]  # fmt: skip


def test_a_cleanup_azure_never_does_says_it_deleted_by_hand(pipeline):
    p = pipeline([rp_limit_alert("erp-app-03")], behaviour=Behaviour(auto_cleanup_reads=None))
    (run,) = p.runs()
    assert run["state"] == "succeeded"
    assert timeline(run) == [
        *CLEANUP_START,
        *[("await-cleanup", "wait", "waiting for Azure Backup's cleanup (18 of 18)")] * 5,
        ("await-cleanup", "next", "no cleanup after 3 h: deleting by hand"),
        ("delete-collections", "next", "deleted 1 collection(s)"),
        *BACKUP_AGAIN,
        ("confirm-cleaned", "next", "1 of 18 restore points now"),  # the new collection's
        ("restore-locks", "next", "restored 1 lock(s)"),
    ]


def test_a_lock_kept_off_is_said_on_the_card(pipeline):
    (run,) = pipeline([rp_limit_alert("erp-app-03")], choice=KEEP_LOCK_OFF).runs()
    assert timeline(run)[-1] == (
        "restore-locks",
        "next",
        "left 1 lock(s) off, as the approver chose",
    )


RETRY_START = [
    ("confirm-failure", "next",
     "Azure confirms: backup of erp-app-05 failed (BackUpOperationFailed)."),
    ("settle", "wait", "waiting 5 min before the retry"),
    ("settle", "next", "waited 5 min for the cause to clear"),
    ("check-vm-agent", "next", "the VM agent of erp-app-05 is Ready"),
    ("no-backup-running", "next", "no backup job in progress"),
    ("trigger-backup", "next", "on-demand backup requested (operation <operation>)"),
    ("find-backup-job", "wait", "waiting for Azure Backup to create the job"),
    ("find-backup-job", "next", "backup job <job> started"),
    ("follow-backup", "wait", "backup job <job> is InProgress"),
]  # fmt: skip


def test_a_retried_backup_reads_as_wait_check_trigger_follow(pipeline):
    p = pipeline(
        [_backup_error("erp-app-05", INTERNAL)], behaviour=Behaviour(max_restore_points=99)
    )
    (run,) = p.runs()
    assert timeline(run) == [*RETRY_START, ("follow-backup", "next", "backup job <job> Completed")]


def test_a_retry_that_fails_says_how_its_job_ended(pipeline):
    (run,) = pipeline([_backup_error("erp-app-05", INTERNAL)]).runs()  # the collection is full
    failure = f"backup job <job> ended Failed: {FULL}"
    assert timeline(run) == [*RETRY_START, ("follow-backup", "failed", failure)]
    assert run["failure"] == failure.replace("<job>", run["context"]["backup_job"])


def test_a_repair_reads_as_confirm_resync_follow_and_health_back(pipeline):
    (run,) = pipeline([changed_blocks_error("erp-db-01")], approve=False).runs()
    assert timeline(run) == [
        ("confirm-failure", "next", "Azure confirms: replication of erp-db-01 is Critical."),
        ("check-resync-allowed", "next", "Azure allows a resync now"),
        ("start-resync", "next", "resync started (job <resync>)"),
        ("follow-job", "wait", "resync job <resync> is InProgress"),
        ("follow-job", "wait", "resync job <resync> is InProgress"),
        ("follow-job", "next", "resync job <resync> succeeded"),
        ("confirm-healthy", "next", "replication of erp-db-01 is healthy again"),
    ]


def test_an_extension_reset_reads_as_remove_then_backup_and_reinstalled(pipeline):
    p = pipeline([_snapshot_alert("web-03")], behaviour=Behaviour(max_restore_points=99),
                 prepare=_broken)  # fmt: skip
    (run,) = p.runs()
    confirmed = "Azure confirms: backup of web-03 failed (UserErrorVmProvisioningStateFailed)."
    assert timeline(run) == [
        ("confirm-failure", "next", confirmed),
        ("check-vm-running", "next", "the VM is running"),
        ("find-failed-extension", "next", "failed snapshot extension: VMSnapshot"),
        ("no-backup-running", "next", "no backup job in progress"),
        ("remove-extension", "next", "removed VMSnapshot"),
        ("trigger-backup", "next", "on-demand backup requested (operation <operation>)"),
        ("find-backup-job", "wait", "waiting for Azure Backup to create the job"),
        ("find-backup-job", "next", "backup job <job> started"),
        ("follow-backup", "wait", "backup job <job> is InProgress"),
        ("follow-backup", "next", "backup job <job> Completed"),
        ("confirm-reinstalled", "next", "VMSnapshot reinstalled and healthy"),
    ]


def test_what_azure_does_not_confirm_is_said_in_one_sentence(pipeline):
    def healthy_backups(estate):
        for job in estate.backup_jobs.values():
            job.status, job.error_details = "Completed", []

    def healthy_items(estate):
        for item in estate.migration_items.values():
            item.health, item.health_errors = "Normal", []

    (retry,) = pipeline([_backup_error("erp-app-05", GUEST_AGENT)], prepare=healthy_backups).runs()
    assert re.fullmatch(r"The last backup of erp-app-05 completed \(\d{4}-\d\d-\d\dT[\d:.]+Z\)\.",
                        retry["failure"])  # fmt: skip
    assert timeline(retry) == [("confirm-failure", "unconfirmed", retry["failure"])]
    (repair,) = pipeline([changed_blocks_error("erp-db-01")], approve=False,
                         prepare=healthy_items).runs()  # fmt: skip
    assert repair["failure"] == "Replication of erp-db-01 is healthy (health Normal)."
    p = pipeline([_snapshot_alert("web-03")], behaviour=Behaviour(max_restore_points=99))
    (reset,) = p.runs()
    assert reset["failure"] == "No VMSnapshot extension of web-03 is in a failed state."
    assert timeline(reset)[-1] == ("find-failed-extension", "unconfirmed", reset["failure"])
