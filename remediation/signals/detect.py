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

Parser = Callable[[Mapping[str, Any]], list[Signal]]
Detector = tuple[str, Callable[[Mapping[str, Any]], bool], Parser]


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
)
# ARM resources, told apart by their type (or, sent without one, by their own properties):
# (label, lower-cased type suffix, property keys only this kind has, parser).
_ARM_RESOURCES: tuple[tuple[str, str, tuple[str, ...], Parser], ...] = (
    (
        "backup job properties.jobType/errorDetails",
        "/backupjobs",
        ("jobType", "errorDetails"),
        backup_job.signals,
    ),
    (
        "replication event properties.eventType/affectedObjectFriendlyName",
        "/replicationevents",
        ("eventType", "affectedObjectFriendlyName", "eventCode"),
        replication.event_signals,
    ),
    (
        "replication job properties.scenarioName/targetObjectName",
        "/replicationjobs",
        ("scenarioName", "targetObjectName"),
        replication.job_signals,
    ),
    (
        "migration item properties.healthErrors/providerSpecificDetails/migrationState",
        "/replicationmigrationitems",
        ("healthErrors", "providerSpecificDetails", "migrationState"),
        migration_item.signals,
    ),
)
_ROWS: tuple[Detector, ...] = (
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
_LOOKED_FOR = "; ".join(
    (*(d[0] for d in _DETECTORS), *(r[0] for r in _ARM_RESOURCES), *(d[0] for d in _ROWS))
)


def _arm_resource_parser(data: Mapping[str, Any]) -> Parser | None:
    """The parser of an ARM resource of a kind we read. A resource typed as another kind is
    not one of ours, whatever its properties share (a replication event has health errors,
    like a migration item)."""
    props = data.get("properties")
    if not isinstance(props, Mapping):
        return None
    kind = data.get("type")
    if isinstance(kind, str) and kind:
        kind = kind.lower()
        for _label, suffix, _keys, parser in _ARM_RESOURCES:
            if kind.endswith(suffix):
                return parser
        return None
    for _label, _suffix, keys, parser in _ARM_RESOURCES:
        for key in keys:
            if key in props:
                return parser
    return None


def _signals_of_dict(data: Mapping[str, Any]) -> list[Signal]:
    for _label, matches, parser in _DETECTORS:
        if matches(data):
            return parser(data)
    resource_parser = _arm_resource_parser(data)
    if resource_parser is not None:
        return resource_parser(data)
    for _label, matches, parser in _ROWS:
        if matches(data):
            return parser(data)
    keys = ", ".join(sorted(str(k)[:40] for k in data)[:8])
    raise SignalError(f"not a supported payload: looked for {_LOOKED_FOR}; got keys [{keys}]")


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
