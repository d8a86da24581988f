"""Decide which parser a payload needs and run it, turning every failure into SignalError."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from remediation.signals import (
    arm_list,
    backup_job,
    common_alert,
    eventgrid,
    legacy_alert,
    log_analytics,
    migration_item,
    replication,
)
from remediation.signals.model import Signal, SignalError
from remediation.signals.raw_text import RawText
from remediation.signals.wrapper import type_name

MAX_BATCH = 1000
_STRAY_ERRORS = (LookupError, TypeError, AttributeError, ValueError, RecursionError, OverflowError)

Detector = tuple[
    str, Callable[[Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], list[Signal]]
]


def _common_alert(data: Mapping[str, Any]) -> bool:
    inner = data.get("data")
    return common_alert.matches(data) or (isinstance(inner, Mapping) and "essentials" in inner)


def _envelope_signals(data: Mapping[str, Any]) -> list[Signal]:
    return eventgrid.wrap(data).signals(_guarded)


def _list_signals(data: Mapping[str, Any]) -> list[Signal]:
    return arm_list.ArmList(data).signals(_guarded)


_DETECTORS: tuple[Detector, ...] = (
    ("CloudEvents specversion", eventgrid.is_cloudevent, _envelope_signals),
    ("Event Grid id+eventType+data", eventgrid.is_eventgrid_event, _envelope_signals),
    ("common alert schemaId/data.essentials", _common_alert, common_alert.signals),
    (
        "alert without the common schema (metric, activity log or log alert webhook)",
        legacy_alert.matches,
        legacy_alert.signals,
    ),
    ("ARM list response value[]", arm_list.matches, _list_signals),
    ("backup job properties.jobType/errorDetails", backup_job.matches, backup_job.signals),
    (
        "replication event properties.eventType/affectedObjectFriendlyName",
        replication.is_event,
        replication.event_signals,
    ),
    (
        "replication job properties.scenarioName/targetObjectName",
        replication.is_job,
        replication.job_signals,
    ),
    (
        "migration item properties.healthErrors/providerSpecificDetails/migrationState",
        migration_item.matches,
        migration_item.signals,
    ),
    (
        "AddonAzureBackupJobs row JobFailureCode/JobUniqueId+JobStatus",
        log_analytics.is_backup_job_row,
        log_analytics.backup_job_signals,
    ),
    (
        "ASRReplicatedItems row ReplicationHealthErrors/ReplicatedItemId+ReplicationStatus",
        log_analytics.is_replicated_item_row,
        log_analytics.replicated_item_signals,
    ),
)


def _signals_of_dict(data: Mapping[str, Any]) -> list[Signal]:
    for _label, matches, parser in _DETECTORS:
        if matches(data):
            return parser(data)
    looked_for = "; ".join(label for label, _m, _p in _DETECTORS)
    keys = ", ".join(sorted(str(k)[:40] for k in data)[:8])
    raise SignalError(f"not a supported payload: looked for {looked_for}; got keys [{keys}]")


def _guarded(value: object) -> list[Signal]:
    if isinstance(value, str):
        return [RawText(value).to_signal()]
    if isinstance(value, list):
        raise SignalError("a JSON array is a batch: use parse_batch for lists of events")
    if not isinstance(value, Mapping):
        raise SignalError(f"unsupported payload type: {type_name(value)} (expected object or text)")
    return _signals_of_dict(value)


def signals_from_payload(value: object) -> list[Signal]:
    """Every signal one payload holds (a migration item's health errors, a log alert's rows)."""
    try:
        signals = _guarded(value)
    except SignalError:
        raise
    except _STRAY_ERRORS as exc:
        raise SignalError(f"malformed payload: {type(exc).__name__}: {exc}"[:300]) from exc
    if not signals:
        raise SignalError("payload holds no signal")
    return signals


def parse_payload(value: object) -> Signal:
    """The main (most severe) signal of one payload: text is raw error text, an object is
    detected by its shape. Lists are rejected: see parse_batch."""
    return signals_from_payload(value)[0]


def parse_batch(value: object) -> list[Signal]:
    """All signals of an Event Grid batch (a JSON array of events) or of a single object.

    Raises ValidationHandshake when the batch is a subscription validation, and SignalError
    naming the index of the first event that cannot be parsed."""
    if not isinstance(value, list):
        return signals_from_payload(value)
    if not value:
        raise SignalError("empty batch")
    if len(value) > MAX_BATCH:
        raise SignalError(f"batch of {len(value)} events exceeds {MAX_BATCH}")
    result: list[Signal] = []
    for index, item in enumerate(value):
        try:
            result.extend(signals_from_payload(item))
        except eventgrid.ValidationHandshake:
            raise
        except SignalError as exc:
            raise SignalError(f"batch[{index}]: {exc}") from exc
    return result
