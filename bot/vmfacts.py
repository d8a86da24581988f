"""Live facts about one VM for "why did VM X fail": replication, Backup jobs, Log Analytics.

Each source is optional and may fail on its own; a failure becomes "live data unavailable:
reason" in the answer instead of failing it. The VM name is validated by the caller before
anything here runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediation.playbooks.findings import reason
from remediation.playbooks.verify import agent_statuses, power_state
from remediation.signals.arm_id import ArmId
from remediation.signals.backup_container import azure_vm

if TYPE_CHECKING:
    from remediation.azure.api import ArmApi
    from remediation.loganalytics import LogFacts

log = logging.getLogger(__name__)

MIN_GAP = timedelta(hours=1)
MAX_GAP = timedelta(hours=12)
MAX_VAULTS = 6
MAX_VMS = 6
MAX_JOBS = 5


def next_delta_cycle(
    last_recovery_point: datetime, previous_cycle: timedelta | None
) -> tuple[datetime, datetime]:
    """When the next delta replication cycle starts: min(max(1 h, previous cycle / 2), 12 h)
    after the last one ended (Azure Migrate's scheduling logic). Without the previous cycle's
    duration, the window the rule allows: 1 h to 12 h."""
    if previous_cycle is None:
        return last_recovery_point + MIN_GAP, last_recovery_point + MAX_GAP
    gap = min(max(MIN_GAP, previous_cycle / 2), MAX_GAP)
    return last_recovery_point + gap, last_recovery_point + gap


@dataclass
class Replication:
    item: str
    health: str | None
    state: str | None
    errors: list[dict[str, str]]
    last_recovery_point: str | None
    next_cycle: tuple[str, ...] | None  # ("running", pct) | ("at", t) | ("between", t1, t2)


@dataclass
class Machine:
    """An Azure VM as its instance view shows it now."""

    name: str
    power: str | None
    agent: list[str]


@dataclass
class LiveFacts:
    machines: list[Machine] = field(default_factory=list)
    replication: list[Replication] = field(default_factory=list)
    backup_jobs: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)

    @property
    def about_the_vm(self) -> bool:
        """Whether Azure said anything of the VM: then its name is no typo."""
        return bool(self.machines or self.replication or self.backup_jobs
                    or any(self.logs.values()))  # fmt: skip


class VmFacts:
    """Reads what Azure says now about a VM, from the vaults the incidents or settings name."""

    def __init__(
        self,
        arm: Callable[[str, str], ArmApi],
        poll_vaults: Iterable[str] = (),
        log_facts: LogFacts | None = None,
    ) -> None:
        self._arm = arm
        self._poll_vaults = list(poll_vaults)
        self._logs = log_facts

    def gather(
        self, vm: str, known_vaults: Iterable[str | None], resource_ids: Iterable[str] = ()
    ) -> LiveFacts:
        """`resource_ids`: what the incidents name for `vm`; the Azure VMs among them have
        their instance view read."""
        facts = LiveFacts()
        machines = [a for a in map(ArmId.parse, _distinct(resource_ids)) if a and _is_vm(a)]
        for arm_id in machines[:MAX_VMS]:
            self._from_vm(arm_id, facts)
        groups = {a.resource_group.lower() for a in machines if a.resource_group}
        vaults = _distinct(v for v in [*known_vaults, *self._poll_vaults] if v)
        for vault_id in vaults[:MAX_VAULTS]:
            self._from_vault(vm, vault_id, groups, facts)
        if not vaults:
            facts.unavailable.append("Azure: no vault known for this VM (set POLL_VAULT_IDS)")
        self._from_logs(vm, facts)
        return facts

    def _from_vm(self, arm_id: ArmId, facts: LiveFacts) -> None:
        try:
            view = self._arm(arm_id.subscription_id or "", "bot:why").instance_view(arm_id.value)
        except Exception as exc:  # any live source may fail; the answer says so
            log.warning("live facts of VM %s failed: %s", arm_id.value, exc)
            facts.unavailable.append(f"VM {arm_id.name}: {reason(exc)}")
            return
        facts.machines.append(Machine(arm_id.name, power_state(view), agent_statuses(view)))

    def _from_vault(self, vm: str, vault_id: str, groups: set[str], facts: LiveFacts) -> None:
        """`groups`: the resource groups of the VMs the incidents name; a vault may protect
        VMs of the same name in other groups, whose jobs are not about this one."""
        arm_id = ArmId.parse(vault_id)
        name = (arm_id.get("vaults") if arm_id else None) or vault_id
        if arm_id is None or not arm_id.subscription_id:
            facts.unavailable.append(f"vault {name}: not an ARM vault id")
            return
        try:
            arm = self._arm(arm_id.subscription_id, "bot:why")
            items = arm.list_migration_items(vault_id)
            facts.replication += [
                replication(i) for i in items if _machine(i).lower() == vm.lower()
            ]
            jobs = map(backup_job, arm.list_backup_jobs_named(vault_id, vm))
            facts.backup_jobs += [
                j for j in jobs if not groups or j["group"] is None or j["group"].lower() in groups
            ]
        except Exception as exc:  # any live source may fail; the answer says so
            log.warning("live facts from vault %s failed: %s", vault_id, exc)
            facts.unavailable.append(f"vault {name}: {reason(exc)}")
        facts.backup_jobs.sort(key=lambda j: j.get("start") or "", reverse=True)
        del facts.backup_jobs[MAX_JOBS:]

    def _from_logs(self, vm: str, facts: LiveFacts) -> None:
        if self._logs is None or not self._logs.configured:
            return
        try:
            facts.logs = self._logs.for_vm(vm)
        except Exception as exc:  # Log Analytics is optional
            log.warning("Log Analytics facts for %s failed: %s", vm, exc)
            facts.unavailable.append(f"Log Analytics: {reason(exc)}")


def _is_vm(arm_id: ArmId) -> bool:
    """An Azure VM's own id (not a migration item's, nor one under the VM)."""
    return bool(arm_id.subscription_id) and arm_id.kinds[0] == "virtualmachines"


def _distinct(ids: Iterable[str]) -> list[str]:
    """The ids once each: ARM ids ignore case (alerts lower-case them, settings may not)."""
    kept: dict[str, str] = {}
    for value in ids:
        kept.setdefault(value.lower(), value)
    return list(kept.values())


def _machine(item: dict[str, Any]) -> str:
    return str((item.get("properties") or {}).get("machineName") or item.get("name") or "")


def replication(item: dict[str, Any]) -> Replication:
    """The parts of a migration item that explain a failure and what happens next."""
    props = item.get("properties") or {}
    details = props.get("providerSpecificDetails") or {}
    errors = [
        {
            "code": str(e.get("errorCode") or ""),
            "message": str(e.get("errorMessage") or e.get("summaryMessage") or ""),
            "action": str(e.get("recommendedAction") or ""),
        }
        for e in props.get("healthErrors") or []
    ]
    last = _time(details.get("lastRecoveryPointReceived"))
    return Replication(
        item=str(item.get("name") or ""),
        health=props.get("health"),
        state=props.get("migrationStateDescription") or props.get("migrationState"),
        errors=errors,
        last_recovery_point=last.isoformat() if last else None,
        next_cycle=_next_cycle(details, last),
    )


def _next_cycle(details: dict[str, Any], last: datetime | None) -> tuple[str, ...] | None:
    progress = details.get("deltaSyncProgressPercentage")
    if isinstance(progress, int | float) and 0 < progress < 100:
        return ("running", str(progress))
    if last is None:
        return None
    elapsed = (details.get("gatewayOperationDetails") or {}).get("timeElapsed")
    previous = timedelta(milliseconds=elapsed) if isinstance(elapsed, int | float) else None
    earliest, latest = next_delta_cycle(last, previous)
    if earliest == latest:
        return ("at", earliest.isoformat())
    return ("between", earliest.isoformat(), latest.isoformat())


def backup_job(job: dict[str, Any]) -> dict[str, Any]:
    props = job.get("properties") or {}
    errors = props.get("errorDetails") or []
    return {
        "status": props.get("status"),
        "operation": props.get("operation"),
        "start": str(props.get("startTime") or ""),
        "end": str(props.get("endTime") or ""),
        "group": _container_group(props.get("containerName")),
        "errors": [
            f"{e.get('errorCode', '')}: {e.get('errorString') or e.get('errorTitle') or ''}"
            for e in errors
        ],
    }


def _container_group(container: Any) -> str | None:
    """The VM's resource group a job's container names; None when it names no Azure VM's."""
    vm = azure_vm(container) if isinstance(container, str) else None
    return vm[0] if vm else None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
