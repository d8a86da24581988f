"""Replay: the whole pipeline on recorded signals, against the ARM simulator.

Used to try a catalogue or policy change on real payloads before it meets Azure, and by the
checks: the same engine, playbooks and SDK clients as production, with an in-memory store, the
in-process queue on a virtual clock (waits are skipped, not slept) and a recording notifier.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediation.approvals import Approver
from remediation.clock import Clock, utcnow
from remediation.scope import FIX_JOB, NOT_A_FAILURE, OUT_OF_SCOPE
from remediation.signals import Signal, SignalError, signals_from_payload
from remediation.signals.arm_id import ArmId

REPLAY_APPROVER = Approver(
    "00000000-0000-0000-0000-00000000a11c", "Replay approver", "replay-tenant"
)


class ReplayError(ValueError):
    """The replay file cannot be read at all."""


@dataclass
class Loaded:
    signals: list[Signal] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_signals(path: Path) -> Loaded:
    """One JSON document (a payload or an array of them), or one JSON value per line;
    unreadable lines and payloads are counted, not fatal."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"cannot read {path}: {exc}") from exc
    loaded = Loaded()
    try:
        document = json.loads(text)
    except ValueError:
        values = list(_json_lines(text, loaded))
    else:
        values = list(enumerate(document if isinstance(document, list) else [document], 1))
    for number, value in values:
        try:
            loaded.signals.extend(signals_from_payload(value))
        except SignalError as exc:
            loaded.errors.append(f"item {number}: {exc}")
    return loaded


def _json_lines(text: str, loaded: Loaded) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            loaded.errors.append(f"line {number}: not JSON ({exc})")


def estate_for(signals: list[Signal]):
    """Every VM, vault and migration item the signals name exists; Backup VMs are full; and
    the failures the signals claim are true in Azure (a failed job, an unhealthy item), so
    the checks a fix makes before it writes confirm them."""
    from devtools.simulator.builders import Failure, estate_from_resources

    backup_vms, items, vms, subscriptions = [], [], [], Counter()
    failures: dict[str, Failure] = {}
    for signal in signals:
        if signal.subscription_id:
            subscriptions[signal.subscription_id.lower()] += 1
        arm = ArmId.parse(signal.resource_id)
        kind = arm.pairs[-1][0].lower() if arm else ""
        if kind == "replicationmigrationitems":
            items.append(signal.resource_id)
        elif kind == "virtualmachines" and signal.vault_id:
            backup_vms.append((signal.resource_id, signal.vault_id))
        elif kind == "virtualmachines":
            vms.append(signal.resource_id)
        if signal.resource_id and not signal.resolved:
            job = (signal.job_id or "").rsplit("/", 1)[-1] or None
            failures[signal.resource_id] = Failure(
                tuple(signal.codes), signal.message, job, signal.vm
            )
    options: dict[str, Any] = {}
    if subscriptions:
        options["subscription_id"] = subscriptions.most_common(1)[0][0]
    return estate_from_resources(
        vms=vms, backup_vms=backup_vms, migration_items=items, failures=failures, **options
    )


def engine_on_simulator(
    base_url: str,
    ca_path: str,
    subscription_id: str,
    *,
    store=None,
    notifier=None,
    policy=None,
    queue=None,
    client_options: dict[str, Any] | None = None,
    clock: Clock = utcnow,
):
    """An engine whose ARM calls go to a running simulator through the real SDK clients
    (`clock`: the engine's, the wall clock by default).

    Returns (engine, arm_factory); close the factory when done. Separate from the simulator's
    lifetime so a test can restart workers against one simulator.
    """
    from devtools.simulator.identity import TEST_CLIENT, TEST_TENANT
    from remediation.azure.clients import RetrySettings
    from remediation.azure.credential import client_credential
    from remediation.classify import default_classifier
    from remediation.engine import Engine
    from remediation.notify import RecordingNotifier
    from remediation.playbooks import PLAYBOOKS
    from remediation.policy import Policy
    from remediation.queue.memory import InProcessQueue
    from remediation.settings import Settings
    from remediation.store import SqliteStore
    from wiring.services import ArmFactory

    switches = Settings()  # DRY_RUN and AUTOMATION_PAUSED are honoured, as in Azure
    policy = policy or Policy(
        approvers=frozenset({REPLAY_APPROVER.object_id}), tenant_id=REPLAY_APPROVER.tenant_id,
        dry_run=switches.flag("DRY_RUN"), paused=switches.flag("AUTOMATION_PAUSED"),
    )  # fmt: skip
    holder: dict[str, ArmFactory] = {}
    engine = Engine(
        store or SqliteStore(":memory:"),
        default_classifier(),
        lambda: policy,
        queue or InProcessQueue(),
        notifier or RecordingNotifier(),
        PLAYBOOKS,
        lambda run: holder["arm"](subscription_id, run["decided_by"], run.get("id")),
        clock,
    )
    credential = client_credential(
        TEST_TENANT, TEST_CLIENT, secret="simulator-secret", authority_host=base_url,
        ca_bundle=ca_path,
    )  # fmt: skip
    holder["arm"] = ArmFactory(
        Settings({"ARM_ENDPOINT": base_url, "ARM_CA_BUNDLE": ca_path}), engine.audit, credential,
        **{"polling_interval": 0, "retry": RetrySettings.fast(), **(client_options or {})},
    )  # fmt: skip
    return engine, holder["arm"]


@contextmanager
def simulated_engine(estate, **options) -> Iterator[tuple[Any, Any]]:
    """An engine wired to a simulator running for the duration of the block."""
    from devtools.simulator import ArmSimulator

    with ArmSimulator(estate) as sim:
        engine, arms = engine_on_simulator(
            sim.base_url, sim.ca_path, sim.estate.subscription_id, **options
        )
        try:
            yield engine, sim
        finally:
            arms.close()


def replay(
    path: Path,
    approve: str = "none",
    progress: Callable[[str], None] = lambda line: None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the file through the pipeline; returns (summary, simulator final state)."""
    loaded = load_signals(path)
    for error in loaded.errors:
        progress(f"skipped {error}")
    progress(f"{len(loaded.signals)} signal(s) read from {path}")
    with simulated_engine(estate_for(loaded.signals)) as (engine, sim):
        for signal in loaded.signals:
            engine.ingest(signal)
        progress(f"{len(engine.incidents.open_incidents())} incident(s) open")
        steps = 0
        while True:  # a fix may reveal VMs that need their own approval: decide those too
            pending = engine.approvals.pending() if approve == "all" else []
            for approval in pending:  # each card's default decision
                engine.decide(approval["id"], "approve", REPLAY_APPROVER)
                progress(f"approved {approval['playbook']} for {approval['incident_id']}")
            drained = engine.queue.drain(engine.runner.handle)
            steps += drained
            if not pending and not drained:
                break
        engine.flush_cards()
        progress(f"{steps} playbook step(s) run")
        remediations: dict[str, Counter] = {}
        for run in engine.runs.all():
            remediations.setdefault(run["playbook"], Counter())[run["state"]] += 1
        counters = engine.counters
        summary = {
            "signals": counters.signals,
            "duplicates": counters.duplicates,
            "unreadable": len(loaded.errors),
            "incidents": len(_all_incidents(engine)),
            "out_of_scope": counters.extra.get(OUT_OF_SCOPE, 0),
            "not_failures": counters.extra.get(NOT_A_FAILURE, 0),
            "fix_jobs": counters.extra.get(FIX_JOB, 0),
            "notifications": counters.notifications,
            "card_updates": counters.card_updates,
            "remediations": {k: dict(v) for k, v in remediations.items()},
            "arm": {
                "reads": sim.requests.reads,
                "writes": sim.requests.writes,
                "max_writes_10s": sim.requests.max_writes_in_window(10.0),
            },
        }
        return summary, sim.estate.to_state()


def _all_incidents(engine) -> list[dict[str, Any]]:
    from remediation.incidents import INCIDENTS, PARTITION

    return [r.data for r in engine.store.query(INCIDENTS, PARTITION)]
