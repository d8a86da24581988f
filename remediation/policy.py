"""Remediation policy: who may fix what, how, and how much at once.

Loaded from a YAML file (POLICY_FILE) with environment overrides for the switches operators
flip in an emergency (DRY_RUN, AUTOMATION_PAUSED, approvers). Runtime toggles made from chat
live in the store and are applied on top by the engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from remediation.settings import Settings

Mode = Literal["auto", "approval", "manual"]
MODES: tuple[Mode, ...] = ("auto", "approval", "manual")
log = logging.getLogger(__name__)
_STRICTNESS: dict[str, int] = {"auto": 0, "approval": 1, "manual": 2}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PolicyError(ValueError):
    """The policy file is invalid; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Overrides the mode for an entry, optionally limited to a subscription, group or tag."""

    mode: Mode
    entry: str | None = None
    subscription: str | None = None
    resource_group: str | None = None
    tag: tuple[str, str] | None = None

    def matches(self, entry_id: str | None, target: Target) -> bool:
        if self.entry and self.entry != entry_id:
            return False
        if self.subscription and self.subscription.lower() != (target.subscription or "").lower():
            return False
        if (
            self.resource_group
            and self.resource_group.lower() != (target.resource_group or "").lower()
        ):
            return False
        if self.tag:
            key, value = self.tag
            return target.tags is not None and target.tags.get(key) == value
        return True

    def could_match(self, entry_id: str | None, target: Target) -> bool:
        """Whether the rule would match if the target carried the rule's tag."""
        if not self.tag:
            return False
        return self.matches(entry_id, replace(target, tags=dict([self.tag])))

    @property
    def specificity(self) -> int:
        return sum(bool(x) for x in (self.entry, self.subscription, self.resource_group, self.tag))


@dataclass(frozen=True, slots=True)
class Target:
    """What a fix would touch, as far as the policy cares; `tags` is None when unknown."""

    subscription: str | None = None
    resource_group: str | None = None
    tags: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly maintenance window during which automatic writes may run, in the wall-clock
    time of `zone` (an IANA name, UTC by default), so it follows the clock changes there."""

    days: tuple[str, ...]
    start: time
    end: time
    zone: str = "UTC"

    def contains(self, moment: datetime) -> bool:
        moment = moment.astimezone(ZoneInfo(self.zone))
        day = _DAYS[moment.weekday()]
        now = moment.time()
        if self.start <= self.end:
            return day in self.days and self.start <= now < self.end
        previous = _DAYS[(moment.weekday() - 1) % 7]
        return (day in self.days and now >= self.start) or (
            previous in self.days and now < self.end
        )


@dataclass(frozen=True, slots=True)
class Limits:
    max_vms_per_fix: int = 25
    max_concurrent_fixes: int = 5
    cooldown: timedelta = timedelta(minutes=60)
    breaker_failures: int = 3
    breaker_window: timedelta = timedelta(hours=1)
    # A flood (a forged or broken sender): beyond this many new incidents per source and
    # subscription within `flood_window`, incidents are held behind one flood card.
    new_incidents_per_window: int = 30
    flood_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Scope:
    """What the bot handles (see remediation/scope.py): signals about these services; alerts
    from these monitoring services never; and what is recorded as not a failure."""

    services: frozenset[str] = frozenset(("backup", "migrate"))
    never: frozenset[str] = frozenset(
        s.lower()
        for s in (
            *("ServiceHealth", "Resource Health", "ResourceHealth", "CostAlerts"),
            *("SmartDetector", "Application Insights", "Prometheus", "Activity Log - Policy"),
            *("Activity Log - Autoscale", "Activity Log - Security"),
        )
    )
    quiet_statuses: frozenset[str] = frozenset(
        s.lower()
        for s in (
            *("InProgress", "NotStarted", "Cancelling", "Cancelled", "Canceled"),
            *("CancelledByUser", "Completed", "Succeeded", "OK"),
        )
    )
    informational_levels: frozenset[str] = frozenset(("information", "informational", "info"))
    healthy_statuses: frozenset[str] = frozenset(("normal", "none"))


@dataclass(frozen=True, slots=True)
class Decision:
    mode: Mode
    playbook: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...] = ()
    approvers: frozenset[str] = frozenset()
    approver_group: str | None = None
    tenant_id: str | None = None
    dry_run: bool = False
    paused: bool = False
    lift_locks: Mode = "approval"
    limits: Limits = Limits()
    windows: tuple[Window, ...] = ()
    approval_ttl: timedelta = timedelta(hours=24)
    scope: Scope = Scope()

    def decide(
        self, entry_id: str | None, playbook: str | None, default_mode: Mode, target: Target
    ) -> Decision:
        """The mode for one fix: the most specific matching rule wins over the catalogue.

        When the target's tags are unknown (the engine does not read VM tags), a tag rule may
        apply or not: it is applied only when it makes the mode stricter, so a rule meant to
        keep tagged VMs out of automation is never silently skipped.
        """
        if playbook is None:
            return Decision("manual", None, "no automated fix for this error")
        mode, reason = default_mode, "catalogue default"
        matching = [r for r in self.rules if r.matches(entry_id, target)]
        if matching:
            # Between equally specific rules the stricter wins, whatever their order.
            best = max(matching, key=lambda r: (r.specificity, _STRICTNESS[r.mode]))
            mode, reason = best.mode, "policy rule"
        if target.tags is None:
            stricter = [
                r
                for r in self.rules
                if _STRICTNESS[r.mode] > _STRICTNESS[mode] and r.could_match(entry_id, target)
            ]
            if stricter:
                rule = max(stricter, key=lambda r: _STRICTNESS[r.mode])
                tag = "=".join(rule.tag or ())
                mode, reason = rule.mode, f"policy rule for tag {tag} may apply (tags not read)"
        if mode == "auto" and playbook == "cleanup-restore-points" and self.lift_locks != "auto":
            mode, reason = "approval", "lifting a resource lock needs approval"
        return Decision(mode, playbook if mode != "manual" else None, reason)

    def in_window(self, moment: datetime) -> bool:
        """True when writes may run now: always, unless windows are configured."""
        return not self.windows or any(w.contains(moment) for w in self.windows)

    def is_approver(self, object_id: str | None, groups: frozenset[str] = frozenset()) -> bool:
        if not object_id:
            return False
        return object_id.lower() in self.approvers or bool(
            self.approver_group and self.approver_group.lower() in groups
        )


PAUSED = "automation is paused"
"""Why no fix starts while the kill switch is on (a plan's reason, a refusal)."""

APP_ROOT = Path(__file__).resolve().parents[1]
"""Where function_app.py is deployed: a relative POLICY_FILE is the app's own file there,
whatever directory the Functions host starts the worker in."""


def load_policy(settings: Settings | None = None) -> Policy:
    """The policy from POLICY_FILE (absent file = defaults) with environment overrides."""
    settings = settings or Settings()
    path = APP_ROOT / settings.get("POLICY_FILE")  # an absolute path stays as it is
    raw: dict[str, Any] = {}
    if path.is_file():
        log.info("policy from %s", path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    else:
        log.info("no policy file at %s: the default policy applies", path)
    policy = parse_policy(raw, source=str(path))
    if any(rule.tag for rule in policy.rules):
        log.warning("%s: VM tags are not read, so tag rules apply only where they make a fix "
                    "stricter, to every VM their other conditions match", path)  # fmt: skip
    approvers = policy.approvers | {a.lower() for a in settings.items("APPROVER_OBJECT_IDS")}
    return Policy(
        rules=policy.rules,
        approvers=frozenset(approvers),
        approver_group=(settings.get("APPROVER_GROUP_ID") or policy.approver_group or None),
        tenant_id=settings.get("AZURE_TENANT_ID") or policy.tenant_id,
        dry_run=policy.dry_run or settings.flag("DRY_RUN"),
        paused=policy.paused or settings.flag("AUTOMATION_PAUSED"),
        lift_locks=policy.lift_locks,
        limits=policy.limits,
        windows=policy.windows,
        approval_ttl=policy.approval_ttl,
        scope=policy.scope,
    )


def parse_policy(raw: Any, source: str = "<policy>") -> Policy:
    """Validate a policy document; every error names the source and the field."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{source}: the policy must be a mapping")
    known = {
        "rules", "approvers", "approver_group", "tenant_id", "dry_run", "paused",
        "lift_locks", "limits", "maintenance_windows", "approval_ttl_hours", "scope",
    }  # fmt: skip
    unknown = set(raw) - known
    if unknown:
        raise PolicyError(f"{source}: unknown field(s) {sorted(unknown)}")
    return Policy(
        rules=tuple(
            _rule(r, f"{source}: rules[{i}]") for i, r in enumerate(raw.get("rules") or [])
        ),
        approvers=frozenset(str(a).lower() for a in raw.get("approvers") or []),
        approver_group=raw.get("approver_group"),
        tenant_id=raw.get("tenant_id"),
        dry_run=bool(raw.get("dry_run", False)),
        paused=bool(raw.get("paused", False)),
        lift_locks=_mode(raw.get("lift_locks", "approval"), f"{source}: lift_locks"),
        limits=_limits(raw.get("limits") or {}, f"{source}: limits"),
        windows=tuple(
            _window(w, f"{source}: maintenance_windows[{i}]")
            for i, w in enumerate(raw.get("maintenance_windows") or [])
        ),
        approval_ttl=timedelta(hours=_number(raw.get("approval_ttl_hours", 24), source)),
        scope=_scope(raw.get("scope") or {}, f"{source}: scope"),
    )


def _mode(value: Any, where: str) -> Mode:
    if value not in MODES:
        raise PolicyError(f"{where}: mode must be one of {', '.join(MODES)}, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PolicyError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def _known(raw: dict[str, Any], fields: set[str], where: str) -> None:
    """A misspelt field is refused: ignored, it would widen a rule or move a window."""
    unknown = set(raw) - fields
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {sorted(unknown)}")


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict) or "mode" not in raw:
        raise PolicyError(f"{where}: a rule is a mapping with a mode")
    _known(raw, {"mode", "entry", "subscription", "resource_group", "tag"}, where)
    tag = raw.get("tag")
    if tag is not None:
        if not (isinstance(tag, str) and "=" in tag):
            raise PolicyError(f"{where}.tag: write tags as name=value")
        tag = tuple(tag.split("=", 1))
    return Rule(
        mode=_mode(raw["mode"], f"{where}.mode"),
        entry=raw.get("entry"),
        subscription=raw.get("subscription"),
        resource_group=raw.get("resource_group"),
        tag=tag,
    )


def _limits(raw: dict[str, Any], where: str) -> Limits:
    base = Limits()
    return Limits(
        max_vms_per_fix=int(_number(raw.get("max_vms_per_fix", base.max_vms_per_fix), where)),
        max_concurrent_fixes=int(
            _number(raw.get("max_concurrent_fixes", base.max_concurrent_fixes), where)
        ),
        cooldown=timedelta(minutes=_number(raw.get("cooldown_minutes", 60), where)),
        breaker_failures=int(_number(raw.get("breaker_failures", base.breaker_failures), where)),
        breaker_window=timedelta(minutes=_number(raw.get("breaker_window_minutes", 60), where)),
        new_incidents_per_window=int(
            _number(raw.get("new_incidents_per_window", base.new_incidents_per_window), where)
        ),
        flood_window=timedelta(minutes=_number(raw.get("flood_window_minutes", 10), where)),
    )


_SCOPE_FIELDS = {
    "services": "services",
    "never_monitoring_services": "never",
    "quiet_statuses": "quiet_statuses",
    "informational_levels": "informational_levels",
    "healthy_statuses": "healthy_statuses",
}
SERVICES = ("backup", "migrate")


def _scope(raw: Any, where: str) -> Scope:
    """Each field replaces the default list; names compare without case."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: expected a mapping")
    unknown = set(raw) - set(_SCOPE_FIELDS)
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {sorted(unknown)}")
    values: dict[str, frozenset[str]] = {}
    for field, attribute in _SCOPE_FIELDS.items():
        if field not in raw:
            continue
        items = raw[field]
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise PolicyError(f"{where}.{field}: expected a list of names")
        values[attribute] = frozenset(i.strip().lower() for i in items)
    stray = values.get("services", frozenset()) - set(SERVICES)
    if stray:
        raise PolicyError(f"{where}.services: use {', '.join(SERVICES)}, not {sorted(stray)}")
    return replace(Scope(), **values)


def _window(raw: Any, where: str) -> Window:
    try:
        days = tuple(d.strip().lower()[:3] for d in raw["days"])
        start, end = (time.fromisoformat(raw[k]) for k in ("start", "end"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PolicyError(f"{where}: expected days, start and end (HH:MM): {exc}") from exc
    _known(raw, {"days", "start", "end", "timezone"}, where)
    if start.tzinfo or end.tzinfo:
        raise PolicyError(f"{where}: write start and end as HH:MM, and the zone as timezone")
    if not set(days) <= set(_DAYS):
        raise PolicyError(f"{where}.days: use mon..sun")
    zone = raw.get("timezone") or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise PolicyError(f"{where}.timezone: unknown time zone {zone!r}") from exc
    return Window(days, start, end, zone)
