"""Signal builders for engine tests: realistic payloads, varied per VM."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from remediation.engine import Accepted
from remediation.signals import Signal, parse_payload, signals_from_payload

EVENTS = Path(__file__).parent.parent / "events"


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def rp_limit_alert(vm: str = "erp-app-03", alert_no: int = 1, resolved: bool = False) -> Signal:
    return parse_payload(backup_alert_payload(vm, alert_no, resolved))


def backup_alert_payload(
    vm: str = "erp-app-03",
    alert_no: int = 1,
    resolved: bool = False,
    code: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The Backup Failure alert sample for `vm`, optionally with another error."""
    payload = copy.deepcopy(load("common_alert_backup_failure_rp_limit.json"))
    essentials, context = payload["data"]["essentials"], payload["data"]["alertContext"]
    essentials["alertId"] = essentials["alertId"].rsplit("/", 1)[0] + f"/alert-{vm}-{alert_no}"
    essentials["monitorCondition"] = "Resolved" if resolved else "Fired"
    old = context["linkedResourceName"]
    context["linkedResourceId"] = context["linkedResourceId"].replace(old, vm)
    context["linkedResourceName"] = vm
    context["extendedInfo"]["jobId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"job/{vm}/{alert_no}"))
    if code:
        essentials["description"] = description or code
        essentials["originAlertId"] = essentials["originAlertId"][:40] + code.lower()
        context["extendedInfo"]["recommendedActions"] = f"See https://aka.ms/AB-{code}"
    return payload


def migration_item_error(vm: str, code: str, message: str, created: str) -> Signal:
    """A health error on `vm`'s migration item behind appliance 01."""
    item = copy.deepcopy(load("migration_item_dispose_artefacts.json"))
    item["id"] = item["id"].rsplit("/", 1)[0] + f"/{vm}-item"
    item["name"] = f"{vm}-item"
    item["properties"]["machineName"] = vm
    item["properties"]["healthErrors"] = [
        {"errorCode": code, "errorMessage": message, "creationTimeUtc": created,
         "errorLevel": "Error"}
    ]  # fmt: skip
    return signals_from_payload(item)[0]


def dispose_timeout(vm: str, cycle: int = 0) -> Signal:
    """A DisposeArtefactsTimedOut health error on a migration item behind appliance 01."""
    message = (
        f"VM: {vm}. Error: Encountered timeout event 'DisposeArtefactsTimeout' "
        "in the state &'['Gateway.Service.StateMachine.SnapshotReplication."
        "SnapshotReplicationEngine+WaitingForArtefactsDisposalPreCycle' "
        "('WaitingForArtefactsDisposalPreCycle')]'."
    )
    return migration_item_error(vm, "181008", message, f"2025-06-02T2{cycle % 10}:00:00Z")


def backup_error_alert(vm: str, code: str, description: str) -> Signal:
    """A Backup Failure alert for `vm` carrying another error than the restore point limit."""
    return parse_payload(backup_alert_payload(vm, code=code, description=description))


def changed_blocks_error(vm: str) -> Signal:
    """A migration item whose replication cannot fetch changed blocks: a resync repairs it."""
    message = f"VM: {vm}. Encountered an error while trying to fetch changed blocks"
    return migration_item_error(vm, "Unknown", message, "2025-06-02T20:00:00Z")


class RecordingAccept:
    """An engine's `accept` for the webhooks: records each signal; none is a duplicate."""

    def __init__(self) -> None:
        self.signals: list[Signal] = []

    async def __call__(self, signal: Signal) -> Accepted:
        self.signals.append(signal)
        return Accepted(False, signal.dedup_key)
