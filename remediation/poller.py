"""The health poller: reads what Azure does not push, incrementally.

Agentless VMware replication health only exists on the migration items, and Backup job
failures can be missed by alerts, so each run lists the configured vaults' migration items
(every health error, and healthy items to close incidents) and the Backup jobs that failed
since the stored watermark, unless a later backup of that VM completed. It also re-sends
recorded signals whose processing never happened and resumes fix runs orphaned by a dead
worker, whether or not any vault is configured.

Backup jobs are found by when they *ended*: the API filters on start time only, so a poll
asks for jobs that started up to JOB_SPAN before the watermark and keeps those that ended
after it (less an OVERLAP for clock skew). A job still running at one poll and failing after
it is reported by the next; one seen twice is a duplicate the engine drops by its key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediation import watch
from remediation.azure.api import ArmApi, ArmOf
from remediation.clock import iso, parse_iso
from remediation.playbooks.verify import COMPLETED_JOB
from remediation.signals import SignalError, signals_from_payload

if TYPE_CHECKING:
    from remediation.engine import Engine

log = logging.getLogger(__name__)

WATERMARKS = "watermarks"
FIRST_LOOKBACK = timedelta(hours=24)
JOB_SPAN = timedelta(hours=24)  # the longest a Backup job runs before it fails
OVERLAP = timedelta(minutes=5)


@dataclass
class PollResult:
    vaults: int = 0
    signals: int = 0
    errors: int = 0
    resumed: int = 0
    requeued: int = 0
    decisions: int = 0  # accepted approvals whose worker died before starting them


def poll(engine: Engine, vaults: Mapping[str, list[str]], arm_for: ArmOf) -> PollResult:
    """One timer cycle. `vaults` maps each subscription to its vault ids, `arm_for` gives a
    subscription's ARM client; a failing vault is logged and does not stop the rest."""
    result = PollResult(
        requeued=engine.requeue_unprocessed(),
        resumed=len(engine.runner.resume_stale()),
        decisions=engine.resume_decisions(),
    )
    engine.start_pending()  # runs held back by a maintenance window or the concurrency limit
    for subscription, vault_ids in vaults.items():
        _poll_vaults(engine, arm_for(subscription), vault_ids, result)
    _poll_watched(engine, arm_for, result)
    engine.flush_cards()
    return result


def _poll_watched(engine: Engine, arm_for: ArmOf, result: PollResult) -> None:
    """Read the restore points of every VM whose lock a cleanup put back."""
    for watched in engine.watch.all():
        try:
            signal = watch.check(arm_for(watched["subscription_id"] or ""), watched)
        except Exception:
            log.exception("reading the restore points of %s failed", watched["vm"])
            result.errors += 1
            continue
        if signal is not None:
            engine.ingest(signal, from_azure=True)
            result.signals += 1


def _poll_vaults(engine: Engine, arm: ArmApi, vault_ids: list[str], result: PollResult) -> None:
    now = engine.clock()
    for vault_id in vault_ids:
        try:
            payloads = arm.list_migration_items(vault_id)
            mark = engine.store.get(WATERMARKS, "backup-jobs", _key(vault_id))
            since = parse_iso(mark.data["until"]) if mark else now - FIRST_LOOKBACK
            jobs = arm.list_backup_jobs_between(vault_id, since - JOB_SPAN, now)
            payloads += current_failures(jobs, since - OVERLAP)
        except Exception:
            log.exception("polling vault %s failed", vault_id)
            result.errors += 1
            continue
        for payload in payloads:
            try:
                for signal in signals_from_payload(payload):
                    engine.ingest(signal, from_azure=True)
                    result.signals += 1
            except SignalError as exc:
                log.warning("unreadable resource in %s: %s", vault_id, exc)
                result.errors += 1
        engine.store.upsert(WATERMARKS, "backup-jobs", _key(vault_id), {"until": iso(now)})
        result.vaults += 1


def current_failures(jobs: list[dict[str, Any]], since: datetime) -> list[dict[str, Any]]:
    """The failed jobs that ended at or after `since` and that no later backup of the same VM
    completed: once a later backup succeeded (the second backup of a cleanup, whose first one
    fails by design; a scheduled backup after a failure), Azure no longer shows the failure."""
    completed: dict[str, datetime] = {}
    for job in jobs:
        started = _time(job, "startTime")
        if _props(job).get("status") in COMPLETED_JOB and started:
            vm = _vm_of(job)
            completed[vm] = max(started, completed.get(vm, started))
    return [
        job
        for job in jobs
        if _props(job).get("status") == "Failed"
        and _ended_since(job, since)
        and not _repaired(job, completed.get(_vm_of(job)))
    ]


def _repaired(job: dict[str, Any], last_completed: datetime | None) -> bool:
    started = _time(job, "startTime")
    return bool(last_completed and started and last_completed > started)


def _vm_of(job: dict[str, Any]) -> str:
    """A job names its VM by container (`iaasvmcontainerv2;{group};{vm}`), else by name."""
    props = _props(job)
    return str(props.get("containerName") or props.get("entityFriendlyName") or "").lower()


def _props(job: dict[str, Any]) -> dict[str, Any]:
    return job.get("properties") or {}


def _time(job: dict[str, Any], name: str) -> datetime | None:
    value = _props(job).get(name)
    if isinstance(value, datetime):
        return value
    return parse_iso(str(value).replace("Z", "+00:00")) if value else None


def _ended_since(job: dict[str, Any], moment: datetime) -> bool:
    """True when the job ended at or after `moment` (a job with no end time is kept)."""
    ended = _time(job, "endTime")
    return not ended or ended >= moment


def _key(vault_id: str) -> str:
    return vault_id.strip("/").replace("/", "|").lower()
