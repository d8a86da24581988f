"""Correlation: signals with one root cause and scope become one incident.

The grouping rule (README, "One incident per VM and cause"):
1. The root cause is the catalogue entry (the same in English and French: an entry owns
   both languages' phrases), else the error codes, else the shape of the message.
2. A VM already failing in an open incident of that root cause joins it, whatever the source
   that reports it (action-group alert, Event Grid, the poller, Log Analytics) and whatever
   scope that source names: one incident per VM and cause.
3. Otherwise VMs group by root cause and vault: the Recovery Services vault every source
   names (Backup's vault, or the Azure Migrate project's replication vault), so a storm (one
   appliance down, 150 VMs failing) is one card whichever path each signal took. A source that
   names the vault only by name (a log search alert's dimension) groups by that name, else by
   resource group, else nothing ("global").

Rule 2 is kept by a pointer per (root cause, VM) beside the one per (root cause, scope); an
incident is created only once both are claimed, so two workers never open two incidents for
one VM and cause.

An incident is one stored document, and the store refuses documents over MAX_DOCUMENT_CHARS
(256 KiB of JSON), so every part that grows with the storm is bounded: VMs are listed in full
(name, failing or not, resource id, when it last failed) up to LISTED_CHARS of JSON, and
beyond that only counted, by a short fingerprint that tells a new VM from a repeat, up to
MAX_COUNTED_VMS; the evidence keeps at most MAX_SAMPLES items within EVIDENCE_CHARS; notes are
few and short. `vm_count` and `active_count` cover listed and counted VMs alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Literal

from remediation.classify import Classification
from remediation.clock import Clock, iso, parse_iso, utcnow
from remediation.records import Evidence, Incident
from remediation.signals.arm_id import ArmId
from remediation.signals.model import Signal, SourceKind
from remediation.store import Conflict, Documents, Store

INCIDENTS = "incidents"
OPEN_KEYS = "incident_keys"
PARTITION = "incident"
MAX_SAMPLES = 5
LISTED = ("vms", "active_vms", "resources", "failed_at")
LISTED_CHARS = 64 * 1024
MAX_COUNTED_VMS = 4_000  # 15 characters of JSON each
EVIDENCE_CHARS = 24 * 1024
MAX_NOTES = 20
NOTE_CHARS = 200
MAX_ROOT_CAUSE_CODES = 200  # characters of joined codes an unclassified root cause shows
CREATION_GRACE = timedelta(seconds=30)


class _Pointer(Enum):
    BEING_CREATED = "being created"  # a pointer whose incident its creator is still inserting


_BEING_CREATED = _Pointer.BEING_CREATED
_Found = Incident | Literal[_Pointer.BEING_CREATED] | None


@dataclass(frozen=True, slots=True)
class Correlation:
    incident: Incident
    created: bool
    changed: bool


def scope_of(signal: Signal) -> str:
    """The vault every source names for the resource (rule 3 of the module docstring)."""
    if signal.vault_id:
        return signal.vault_id.lower()
    if signal.vault:
        return f"vault:{signal.vault}".lower()
    if signal.resource_group:
        return f"rg:{signal.subscription_id or '-'}/{signal.resource_group}".lower()
    return "global"


def root_cause_of(signal: Signal, classification: Classification) -> str:
    """Entry id when classified; otherwise the codes, else a hash of the message shape."""
    if classification.entry_id:
        return classification.entry_id
    if signal.codes:
        codes = ",".join(sorted(c.lower() for c in signal.codes))
        # Readable when short; a text naming dozens of codes is identified by their hash.
        return "unclassified:" + (codes if len(codes) <= MAX_ROOT_CAUSE_CODES else _digest(codes))
    return "unclassified:" + _digest(" ".join(signal.message.lower().split())[:200])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def incident_key(signal: Signal, classification: Classification) -> str:
    raw = f"{root_cause_of(signal, classification)}|{scope_of(signal)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def vm_key(signal: Signal, classification: Classification) -> str | None:
    """The pointer key of (root cause, VM), or None when the signal names no VM."""
    if not signal.vm:
        return None
    raw = f"{root_cause_of(signal, classification)}|vm|{signal.vm.lower()}"
    return "vm-" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class Incidents:
    """Opens, grows and closes incidents in the store, safely under concurrent workers."""

    def __init__(self, store: Store, clock: Clock = utcnow, window: timedelta | None = None):
        self._store = store
        self._docs = Documents[Incident](store, INCIDENTS, PARTITION)
        self._clock = clock
        self._window = window or timedelta(hours=24)

    def get(self, incident_id: str) -> Incident | None:
        return self._docs.get(incident_id)

    def load(self, incident_id: str) -> Incident:
        """An incident known to exist (its id came from the store): NotFound otherwise."""
        return self._docs.load(incident_id)

    def all(self) -> list[Incident]:
        return self._docs.all()

    def open_incidents(self) -> list[Incident]:
        return self._docs.all(status="open")

    def for_vm(self, vm: str) -> list[Incident]:
        name, mark = vm.lower(), fingerprint(vm)
        found = self.all()
        return sorted(
            (
                i
                for i in found
                if name in (v.lower() for v in i["vms"]) or mark in i.get("counted_vms", {})
            ),
            key=lambda i: i["last_seen"],
            reverse=True,
        )

    def find_open(self, signal: Signal, classification: Classification) -> Incident | None:
        """The open incident the signal belongs to, if any (nothing is changed)."""
        now = self._clock()
        for key in _keys(signal, classification):
            found = self._open_for(key, now)
            if found is not None and found is not _BEING_CREATED:
                return found
        return None

    def correlate(self, signal: Signal, classification: Classification) -> Correlation | None:
        """Attach the signal to its incident; None for a resolution with no open incident."""
        keys = _keys(signal, classification)
        now = self._clock()
        for attempt in range(100):
            current: _Found = None
            for key in keys:  # the VM's incident first, then its vault's
                current = self._open_for(key, now)
                if current is not None:
                    break
            if current is _BEING_CREATED:
                time.sleep(min(0.05, 0.001 * 2**attempt))  # its creator is inserting it
                continue
            if current is None:
                if signal.resolved:
                    return None
                created = self._try_create(keys, signal, classification, now)
                if created is not None:
                    return Correlation(created, created=True, changed=True)
                continue  # another worker opened it first: join theirs
            data = self.update(current["id"], lambda doc: _apply(doc, signal, now))
            if data["status"] == "resolved":
                for key in keys:
                    self._drop_pointer(key, data["id"])
            elif len(keys) > 1 and data["vm_count"] > current["vm_count"]:
                self._point(keys[0], data["id"])  # the VM joined: rule 2 finds it next time
            return Correlation(data, created=False, changed=_moved(current, data))
        raise RuntimeError(f"could not correlate signal for incident key {keys[-1]}")

    def cleared_by(self, signal: Signal) -> list[Incident]:
        """The open incidents a healthy migration item clears: those listing it for a VM. Its
        snapshot names no error, so no root cause leads to them; being healthy, it clears every
        replication failure of that item."""
        if not (signal.resolved and signal.source is SourceKind.MIGRATION_ITEM):
            return []
        item = (signal.resource_id or "").lower()
        return [
            incident
            for incident in self.open_incidents()
            if item and any(r.lower() == item for r in incident["resources"].values())
        ]

    def clear(self, signal: Signal) -> list[Correlation]:
        """Apply a healthy item's snapshot to each incident it clears (see `cleared_by`)."""
        now = self._clock()
        cleared = []
        for current in self.cleared_by(signal):
            data = self.update(current["id"], lambda doc: _apply(doc, signal, now))
            cleared.append(Correlation(data, created=False, changed=_moved(current, data)))
        return cleared

    def flood(self, gate: str, note: str, held: int) -> tuple[str, bool]:
        """The flood incident of `gate` (source, subscription, window), created on first use
        and counted up after; returns (its id, whether it was just created)."""
        incident_id = "inc-flood-" + _digest(gate)
        now = iso(self._clock())
        doc = _document(incident_id, f"flood:{gate}", now)
        doc.update({
            "root_cause": "flood", "scope": gate, "held_count": held, "notes": [note],
            "plan": {"mode": "manual", "playbook": None, "reason": "flood of new incidents"},
        })  # fmt: skip
        if self._docs.claim(incident_id, doc):
            return incident_id, True
        self.update(
            incident_id, lambda d: {**d, "held_count": held, "notes": [note], "last_seen": now}
        )
        return incident_id, False

    def reserve_fix(self, incident_id: str, vm: str, limit: int) -> bool:
        """Count `vm` among the incident's fixed VMs unless `limit` of them already are: a
        check-and-set on the incident, so concurrent workers cannot exceed the blast radius."""

        def take(doc: Incident) -> Incident:
            taken = doc.get("fix_vms") or []
            if vm in taken or len(taken) >= limit:
                return doc
            return {**doc, "fix_vms": [*taken, vm]}

        return vm in (self.update(incident_id, take).get("fix_vms") or [])

    def update(self, incident_id: str, fn: Callable[[Incident], Incident]) -> Incident:
        """Read-modify-write of an existing incident, retried under concurrent writers."""
        return self._docs.update(incident_id, fn)

    def _open_for(self, key: str, now: datetime) -> _Found:
        """The open incident for `key`, None, or _BEING_CREATED while its creator inserts it."""
        pointer = self._store.get(OPEN_KEYS, PARTITION, key)
        if pointer is None:
            return None
        incident = self.get(pointer.data["incident_id"])
        if incident is None:
            claimed = parse_iso(pointer.data["claimed"])
            if now - claimed < CREATION_GRACE:
                return _BEING_CREATED
            self._drop_pointer(key, pointer.data["incident_id"])  # its creator died
            return None
        if incident["status"] != "open":
            self._drop_pointer(key, incident["id"])
            return None
        if now - parse_iso(incident["last_seen"]) > self._window:
            self.update(incident["id"], lambda doc: {**doc, "status": "expired"})
            self._drop_pointer(key, incident["id"])
            return None
        return incident

    def _drop_pointer(self, key: str, incident_id: str) -> None:
        """Forget `key`'s pointer if it still names `incident_id`; a concurrent drop is fine."""
        pointer = self._store.get(OPEN_KEYS, PARTITION, key)
        if pointer is None or pointer.data["incident_id"] != incident_id:
            return
        with contextlib.suppress(Conflict):
            self._store.delete(OPEN_KEYS, PARTITION, key, etag=pointer.etag)

    def _point(self, key: str, incident_id: str) -> None:
        """Claim `key` for `incident_id` unless another incident holds it already."""
        self._store.claim(OPEN_KEYS, PARTITION, key, {"incident_id": incident_id,
                                                      "claimed": iso(self._clock())})  # fmt: skip

    def _try_create(
        self, keys: list[str], signal: Signal, classification: Classification, now: datetime
    ) -> Incident | None:
        """A new incident once every key of the signal points at it; None when another
        worker holds one of them (the caller joins that incident)."""
        incident_id = "inc-" + uuid.uuid4().hex[:12]
        pointer = {"incident_id": incident_id, "claimed": iso(self._clock())}
        claimed: list[str] = []
        for key in keys:
            if not self._store.claim(OPEN_KEYS, PARTITION, key, pointer):
                for taken in claimed:
                    self._drop_pointer(taken, incident_id)
                return None
            claimed.append(key)
        entry = classification.entry
        doc = _document(incident_id, keys[-1], iso(now))
        doc.update({
            "entry_id": classification.entry_id,
            "root_cause": root_cause_of(signal, classification),
            "service": entry.service if entry else None,
            "severity": entry.severity if entry else "warning",
            "scope": scope_of(signal),
            "language": classification.language,
            "vault": signal.vault, "vault_id": signal.vault_id,
            "subscription_id": signal.subscription_id,
        })  # fmt: skip
        doc = _apply(doc, signal, now)
        try:
            self._docs.insert(incident_id, doc)
        except Exception:
            for key in keys:  # never leave the root cause blocked
                self._drop_pointer(key, incident_id)
            raise
        return doc


def _keys(signal: Signal, classification: Classification) -> list[str]:
    """The pointer keys of a signal: (root cause, VM) when it names one, then (root cause,
    scope), the incident's own key."""
    by_vm = vm_key(signal, classification)
    return [*([by_vm] if by_vm else []), incident_key(signal, classification)]


def _document(incident_id: str, key: str, now: str) -> Incident:
    """A new, empty open incident; the caller fills in what it knows."""
    return {
        "id": incident_id, "key": key, "entry_id": None, "root_cause": None, "service": None,
        "severity": "warning", "scope": None, "status": "open", "language": "en",
        "vms": [], "active_vms": [], "resources": {}, "counted_vms": {}, "vm_count": 0,
        "active_count": 0, "signal_count": 0, "first_seen": now, "last_seen": now,
        "failed_at": {}, "fired_at": None, "evidence": [], "vault": None, "vault_id": None,
        "subscription_id": None, "card": None,
    }  # fmt: skip


def _apply(doc: Incident, signal: Signal, now: datetime) -> Incident:
    """Pure update of an incident document by one signal."""
    doc = doc.copy()
    vm = signal.vm or signal.resource_id or "unknown"
    if vm in doc["vms"]:
        _mark_listed(doc, vm, signal)
    elif fingerprint(vm) in doc.setdefault("counted_vms", {}):
        _mark_counted(doc, vm, signal)
    elif not signal.resolved:
        _add_vm(doc, vm, signal)
    if not signal.resolved:
        doc["signal_count"] += 1
        _mark_failed_at(doc, vm, signal.time or now)
    doc["vm_count"] = len(doc["vms"]) + len(doc["counted_vms"])
    doc["active_count"] = len(doc["active_vms"]) + sum(doc["counted_vms"].values())
    doc["last_seen"] = iso(now)
    if not doc["active_count"] and doc["vm_count"]:
        doc["status"] = "resolved"
        doc["resolved_at"] = iso(now)
    return doc


def _mark_failed_at(doc: Incident, vm: str, when: datetime) -> None:
    """When Azure saw the failure: the earliest for the incident (its alert's fired time, what
    the card calls "first seen"), the latest per listed VM (a failure after a fix reopens it)."""
    stamp = iso(when)
    if stamp < (doc.get("fired_at") or stamp + "~"):
        doc["fired_at"] = stamp
    if vm in doc["vms"] and stamp > (doc.setdefault("failed_at", {}).get(vm) or ""):
        doc["failed_at"] = {**doc["failed_at"], vm: stamp}


def _mark_listed(doc: Incident, vm: str, signal: Signal) -> None:
    if signal.resolved:
        doc["active_vms"] = [v for v in doc["active_vms"] if v != vm]
        return
    if vm not in doc["active_vms"]:
        doc["active_vms"] = [*doc["active_vms"], vm]
    listed = doc["resources"].get(vm)
    if not signal.resource_id or (listed and listed.lower() == signal.resource_id.lower()):
        return
    if listed:  # a later signal may not redirect a VM to another resource: it is flagged
        _flag_identity(doc, vm, [listed, signal.resource_id])
    elif _names_the_vm(signal.resource_id, vm):
        _list_resource(doc, vm, signal.resource_id)
    else:
        _flag_identity(doc, vm, [signal.resource_id])


def _names_the_vm(resource_id: str, vm: str) -> bool:
    """A VM id must end in the VM's name; other resources (migration items) name it otherwise."""
    arm = ArmId.parse(resource_id)
    name = arm.get("virtualMachines") if arm else None
    return name is None or name.lower() == vm.lower()


def _flag_identity(doc: Incident, vm: str, resource_ids: list[str]) -> None:
    """Signals disagree on which resource `vm` is: no fix runs for it until a person checks."""
    conflicts = dict(doc.get("identity_conflicts") or {})
    known = conflicts.get(vm, [])
    conflicts[vm] = [*known, *(r for r in resource_ids if r not in known)][:MAX_SAMPLES]
    doc["identity_conflicts"] = conflicts
    doc.update(add_note(doc, f"{vm}: signals disagree on which resource it is; no fix runs "
                             "for it until a person checks"))  # fmt: skip


def in_doubt(doc: Incident, vm: str) -> bool:
    """True when the incident cannot tell which resource `vm` is."""
    return vm in (doc.get("identity_conflicts") or {})


def _mark_counted(doc: Incident, vm: str, signal: Signal) -> None:
    doc["counted_vms"] = {**doc["counted_vms"], fingerprint(vm): int(not signal.resolved)}


def _add_vm(doc: Incident, vm: str, signal: Signal) -> None:
    """List a new VM in full while the lists have room, else count it; once counting has
    begun, later VMs are counted too, so the listed ones stay the first seen."""
    vms, active, resources = [*doc["vms"], vm], [*doc["active_vms"], vm], doc["resources"]
    if signal.resource_id and _names_the_vm(signal.resource_id, vm):
        resources = {**resources, vm: signal.resource_id}
    elif signal.resource_id:
        _flag_identity(doc, vm, [signal.resource_id])
    grown: Incident = {**doc, "vms": vms, "active_vms": active, "resources": resources}
    if not doc["counted_vms"] and _json_chars(grown, LISTED) <= LISTED_CHARS:
        doc.update(grown)
    elif len(doc["counted_vms"]) < MAX_COUNTED_VMS:
        _mark_counted(doc, vm, signal)
        if len(doc["counted_vms"]) == 1:
            doc.update(add_note(doc, "VMs beyond those listed are counted: no automatic fix"))
    else:
        doc.update(add_note(doc, f"over {doc['vm_count']:,} VMs: later ones are not counted"))
        return
    if len(doc["evidence"]) < MAX_SAMPLES:
        evidence = [*doc["evidence"], _evidence(signal, vm)]
        if _json_chars({"evidence": evidence}, ("evidence",)) <= EVIDENCE_CHARS:
            doc["evidence"] = evidence


def _list_resource(doc: Incident, vm: str, resource_id: str) -> None:
    resources = {**doc["resources"], vm: resource_id}
    if _json_chars({**doc, "resources": resources}, LISTED) <= LISTED_CHARS:
        doc["resources"] = resources


def _json_chars(doc: Mapping[str, Any], fields: tuple[str, ...]) -> int:
    """Characters `fields` take as stored: JSON with non-ASCII escaped, as the store writes."""
    return len(json.dumps([doc.get(f) for f in fields], ensure_ascii=True))


def _moved(before: Incident, after: Incident) -> bool:
    """Whether an update changed what the card shows: its counts or the status."""
    return _counts(after) != _counts(before) or after["status"] != before["status"]


def _counts(doc: Incident) -> tuple[int, int]:
    return doc.get("vm_count", len(doc["vms"])), doc.get("active_count", len(doc["active_vms"]))


def fingerprint(vm: str) -> str:
    """A short, case-blind mark of a VM that is counted rather than listed."""
    data = vm.lower().encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=5).hexdigest()


def add_note(doc: Incident, note: str) -> Incident:
    """The document with `note` as its newest note: at most MAX_NOTES, the oldest dropped,
    each clipped once; a note said again moves to the end."""
    said = note[:NOTE_CHARS]
    notes = [n for n in doc.get("notes", []) if n != said] + [said]
    return {**doc, "notes": notes[-MAX_NOTES:]}


def _evidence(signal: Signal, vm: str) -> Evidence:
    """`vm` is the key the incident lists the VM under, so a run can find its evidence."""
    return {
        "vm": vm,
        "codes": list(signal.codes),
        "message": signal.message[:1000],
        "time": iso(signal.time) if signal.time else None,
        "source": signal.source.value,
        "job_id": signal.job_id,
        "resource_id": signal.resource_id,
        "investigation_link": signal.extra.get("investigation_link"),
    }
