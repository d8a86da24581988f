"""The normalised, source-independent signal every parser produces."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class SourceKind(StrEnum):
    """Where a signal came from; the value is what the CLI prints as `source`."""

    COMMON_ALERT = "common-alert"
    EVENT_GRID = "eventgrid"
    MIGRATION_ITEM = "migration-item"
    BACKUP_JOB = "backup-job"
    LOG_ANALYTICS_BACKUP_JOB = "log-analytics-backup-job"
    LOG_ANALYTICS_REPLICATED_ITEM = "log-analytics-replicated-item"
    REPLICATION_EVENT = "replication-event"
    REPLICATION_JOB = "replication-job"
    LEGACY_ALERT = "legacy-alert"
    RESOURCE_EVENT = "resource-event"
    RAW_TEXT = "raw-text"
    RESTORE_POINT_WATCH = "restore-point-watch"  # the poller's own reading of a watched VM


class SignalError(ValueError):
    """A payload that no parser accepts; the message says why, for a 4xx reason or a CLI line."""


@dataclass(slots=True)
class Signal:
    """One health observation about one resource, whatever its source.

    A value: nothing assigns to a signal once it is built (`dataclasses.replace` makes a
    changed copy). It is not declared frozen because a frozen dataclass sets each of its 19
    fields through `object.__setattr__`, which made building one cost nine times as much, and
    a signal is built for every input and every record read back.

    `resolved` is True for a resolved alert or a healthy poll: it closes incidents instead of
    opening them. `dedup_key` is stable across redeliveries of the same observation.

    What the source says about itself, for the scope filter (`remediation.scope`): `service`
    is "backup" or "migrate" when the payload shows it concerns Azure Backup or Azure Migrate
    (None when it does not say); `status` is a job's status or state, an item's health or an
    event's severity as sent; `error_level` is a health error's level as sent.
    """

    source: SourceKind
    message: str
    codes: tuple[str, ...] = ()
    vm: str | None = None
    resource_id: str | None = None
    vault: str | None = None
    vault_id: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    scope: str | None = None
    job_id: str | None = None
    time: datetime | None = None
    language: str = "en"
    resolved: bool = False
    source_id: str | None = None
    service: str | None = None
    status: str | None = None
    error_level: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def dedup_key(self) -> str:
        """Hash of what identifies the observation, not of when it was delivered."""
        parts = [
            self.source.value,
            self.source_id or "",
            (self.resource_id or self.vm or "").lower(),
            "|".join(sorted(c.lower() for c in self.codes)),
            "resolved" if self.resolved else "fired",
        ]
        if not self.source_id:
            parts.append(" ".join(self.message.lower().split()))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields plus `dedup_key`; the webhook records one per signal, so this
        copies by hand what `dataclasses.asdict` would deep-copy leaf by leaf (3x slower)."""
        data = {name: getattr(self, name) for name in _FIELDS}
        data["source"] = self.source.value
        data["time"] = self.time.isoformat() if self.time else None
        data["codes"] = list(self.codes)
        data["extra"] = _copy(self.extra)
        data["dedup_key"] = self.dedup_key
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Signal:
        """The inverse of `to_dict`, for a signal recorded in the store or sent on the queue.

        Raises SignalError naming what is wrong. The recorded `dedup_key` is derived and not
        read back: the store keeps the record under it, which is what the engine settles.
        """
        if not isinstance(data, dict):
            raise SignalError(f"a recorded signal must be an object, got {type(data).__name__}")
        if not data.keys() <= _RECORDED_FIELDS:
            unknown = data.keys() - _RECORDED_FIELDS
            raise SignalError(f"a recorded signal has unknown fields: {sorted(unknown)}")
        get = data.get
        source = get("source")
        if type(source) is not str or source not in _SOURCES:
            raise SignalError(f"not a recorded signal: unknown source {str(source)[:80]!r}")
        kind = _SOURCES[source]
        try:
            codes = tuple(get("codes") or ())
            time = get("time")
            if time is not None:
                time = datetime.fromisoformat(time)
            if "message" not in data:
                cls(source=kind)  # type: ignore[call-arg]  # raises the TypeError naming it
            signal = cls(  # in field order: positional arguments cost less than keywords
                kind, data["message"], codes, get("vm"), get("resource_id"), get("vault"),
                get("vault_id"), get("subscription_id"), get("resource_group"), get("scope"),
                get("job_id"), time, get("language", "en"), get("resolved", False),
                get("source_id"), get("service"), get("status"), get("error_level"),
                get("extra", {}),
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise SignalError(f"not a recorded signal: {exc!r}") from exc
        for code in codes:
            if type(code) is not str:
                raise SignalError("a recorded signal's codes must be strings")
        if not isinstance(signal.message, str) or not isinstance(signal.extra, dict):
            raise SignalError("a recorded signal needs a string message and an object extra")
        texts_ok = _TEXT_TYPES.issuperset(map(type, map(get, _TEXT_FIELDS)))
        if not texts_ok or type(signal.resolved) is not bool:
            _refuse_types(signal)
        return signal


def _refuse_types(signal: Signal) -> None:
    """Raise SignalError naming the first field of a recorded signal with the wrong type (the
    classifier and the cards read them as text)."""
    for name in _TEXT_FIELDS:
        value = getattr(signal, name)
        if value is not None and type(value) is not str:
            raise SignalError(f"a recorded signal's {name} must be a string or null")
    raise SignalError("a recorded signal's resolved must be true or false")


_FIELDS = tuple(f.name for f in fields(Signal))
_TEXT_FIELDS = (
    *("vm", "resource_id", "vault", "vault_id", "subscription_id", "resource_group", "scope"),
    *("job_id", "language", "source_id", "service", "status", "error_level"),
)
_TEXT_TYPES = frozenset((str, type(None)))
_RECORDED_FIELDS = frozenset((*_FIELDS, "dedup_key"))
_SOURCES = {kind.value: kind for kind in SourceKind}


def _copy(value: Any) -> Any:
    """A deep copy of parsed-JSON values (containers rebuilt, scalars shared)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copy(v) for v in value)
    if value is None or isinstance(value, str | int | float):
        return value
    return copy.deepcopy(value)
