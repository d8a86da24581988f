"""Kill the worker (a real process) after each step of each playbook in turn: a new one finishes
the fix, the estate ends as after a clean run, and a lifted lock always comes back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.replay import REPLAY_APPROVER, engine_on_simulator, estate_for
from devtools.simulator import ArmSimulator, Behaviour
from devtools.simulator.builders import add_network_and_key_vault
from devtools.simulator.estate import Estate
from remediation.playbooks import PLAYBOOKS
from remediation.signals import Signal
from remediation.store import SqliteStore
from tests.engine.signals import backup_error_alert, changed_blocks_error, rp_limit_alert
from tests.reliability.summary import record
from tests.reliability.worker import CRASH_EXIT, run_worker

VM = "erp-app-03"


def _room_for_a_backup(estate: Estate) -> None:
    """Below the restore point limit, so an on-demand backup completes."""
    estate.behaviour = Behaviour(max_restore_points=99)


def _failed_snapshot_extension(estate: Estate) -> None:
    _room_for_a_backup(estate)
    for vm in estate.vms.values():
        for extension in vm.extensions.values():
            extension.provisioning_state = "Failed"


def _network_key_vault_and_agent_down(estate: Estate) -> None:
    """Everything diagnose reads, with one thing broken so the findings are mixed."""
    vm = next(iter(estate.vms.values()))
    add_network_and_key_vault(estate, next(iter(estate.vaults.values())), vm.resource_group)
    vm.agent_ready = False


@dataclass(frozen=True)
class Case:
    """A signal whose catalogue entry leads to the playbook, and what a clean run changes."""

    signal: Signal
    changes: frozenset[str]
    prepare: Callable[[Estate], None] = lambda estate: None


BACKED_UP = frozenset({"collections", "backup_requests", "backup_jobs"})
CASES: dict[str, Case] = {
    "repair-replication": Case(
        changed_blocks_error(VM), frozenset({"migration_items", "replication_jobs"})
    ),
    "cleanup-restore-points": Case(rp_limit_alert(VM), BACKED_UP),
    "retry-backup": Case(
        backup_error_alert(
            VM,
            "BackUpOperationFailed",
            "Backup failed with an internal error - Please retry the operation",
        ),
        BACKED_UP,
        _room_for_a_backup,
    ),
    "reset-snapshot-extension": Case(
        backup_error_alert(
            VM, "ExtensionOperationFailedForManagedDisks", "VMSnapshot extension operation failed"
        ),
        BACKED_UP | {"extensions"},
        _failed_snapshot_extension,
    ),
    "diagnose": Case(
        backup_error_alert(
            VM,
            "UserErrorKeyvaultPermissionsNotConfigured",
            "Backup doesn't have sufficient permissions to the key vault for backup of "
            "encrypted VMs.",
        ),
        frozenset(),
        _network_key_vault_and_agent_down,
    ),
}
CRASHES = [
    pytest.param(name, index, id=f"{name}:{step.name}")
    for name, playbook in PLAYBOOKS.items()
    for index, step in enumerate(playbook.steps)
]


def _simulator(playbook: str) -> ArmSimulator:
    case = CASES[playbook]
    estate = estate_for([case.signal])
    case.prepare(estate)
    return ArmSimulator(estate)


def _worker(sim: ArmSimulator, store: Path, die_at: int) -> int:
    return run_worker(store, sim.base_url, sim.ca_path, sim.estate.subscription_id, die_at)


def _queue_fix(sim: ArmSimulator, store: Path, playbook: str) -> None:
    """Ingest the case's signal and approve the fix if policy asks; the workers run it."""
    engine, arms = engine_on_simulator(
        sim.base_url, sim.ca_path, sim.estate.subscription_id, store=SqliteStore(store)
    )
    engine.ingest(CASES[playbook].signal)
    for approval in engine.approvals.pending():
        assert engine.decide(approval["id"], "approve", REPLAY_APPROVER).accepted
    assert [run["playbook"] for run in engine.runs.all()] == [playbook]
    arms.close()  # this process never runs a step: the workers do


def _the_run(store: Path) -> dict[str, Any]:
    (run,) = [r.data for r in SqliteStore(store).query("runs")]
    return run


def _view(state: dict[str, Any]) -> dict[str, Any]:
    """The estate without generated names, ids and times."""
    return {
        "locks": state["locks"],
        "collections": sorted(
            (c["resource_group"], c["source_vm_id"].lower(), len(c["restore_points"]))
            for c in state["restore_point_collections"]
        ),
        "migration_items": state["migration_items"],
        "replication_jobs": sorted((j["item"], j["state"]) for j in state["replication_jobs"]),
        "backup_requests": sorted(r["vm"] for r in state["backup_requests"]),
        "backup_jobs": sorted(
            (j["vm"], j["status"], *j["error_codes"]) for j in state["backup_jobs"]
        ),
        "extensions": state["extensions"],
    }


def _outcome(state: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    assert run["state"] == "succeeded", run["failure"]
    return {"estate": _view(state), "findings": run["context"].get("findings")}


@pytest.fixture(scope="module")
def clean_outcome(tmp_path_factory) -> Callable[[str], dict[str, Any]]:
    """Each playbook's outcome without a crash, computed once per module."""
    outcomes: dict[str, dict[str, Any]] = {}

    def outcome(playbook: str) -> dict[str, Any]:
        if playbook not in outcomes:
            store = tmp_path_factory.mktemp(playbook) / "store.db"
            with _simulator(playbook) as sim:
                initial = _view(sim.estate.to_state())
                _queue_fix(sim, store, playbook)
                assert _worker(sim, store, -1) == 0
                final = sim.estate.to_state()
            clean = outcomes[playbook] = _outcome(final, _the_run(store))
            changed = {part for part, value in clean["estate"].items() if value != initial[part]}
            assert changed == CASES[playbook].changes
            if not changed:
                assert clean["findings"], "a playbook that changes nothing reports findings"
        return outcomes[playbook]

    return outcome


@pytest.fixture(scope="module")
def proved() -> Iterator[tuple[Counter[str], set[str]]]:
    """What the module showed (counts, playbooks), for the end-of-run reliability summary."""
    tally: Counter[str] = Counter()
    playbooks: set[str] = set()
    yield tally, playbooks
    record("crash-resume", playbooks=len(playbooks), **tally)


def test_every_playbook_has_a_crash_case():
    assert set(CASES) == set(PLAYBOOKS)


@pytest.mark.parametrize(("playbook", "die_at"), CRASHES)
def test_a_crash_after_any_step_is_resumed_to_the_clean_result(
    tmp_path, clean_outcome, proved, playbook, die_at
):
    expected, (tally, playbooks) = clean_outcome(playbook), proved
    store = tmp_path / "store.db"
    with _simulator(playbook) as sim:
        initial = sim.estate.to_state()
        _queue_fix(sim, store, playbook)
        assert _worker(sim, store, die_at) == CRASH_EXIT
        last = _the_run(store)["journal"][-1]
        assert (last["step"], last["phase"]) == (PLAYBOOKS[playbook].steps[die_at].name, "start")
        tally["crashes"] += 1
        tally["crashes_with_a_lock_lifted"] += int(
            sim.estate.to_state()["locks"] != initial["locks"]
        )
        assert _worker(sim, store, -1) == 0
        final = sim.estate.to_state()
    assert final["locks"] == initial["locks"]
    assert _outcome(final, _the_run(store)) == expected
    tally["resumed_to_the_clean_result"] += 1
    playbooks.add(playbook)
