"""`python -m remediation replay FILE --simulate` as the design's contract describes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.engine.signals import backup_alert_payload, load

ROOT = Path(__file__).resolve().parents[2]


def _replay(
    tmp_path: Path, payloads: list, *args: str, env: dict[str, str] | None = None
) -> tuple[dict, dict, str]:
    source = tmp_path / "signals.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    state = tmp_path / "state.json"
    done = subprocess.run(
        [sys.executable, "-m", "remediation", "replay", str(source), "--simulate", "--json",
         "--state-out", str(state), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return summary, json.loads(state.read_text()), done.stderr


def test_same_alert_five_times_one_incident_one_card_one_fix(tmp_path):
    summary, state, _ = _replay(tmp_path, [backup_alert_payload()] * 5, "--approve", "all")
    assert summary["signals"] == 5
    assert summary["duplicates"] == 4
    assert summary["incidents"] == 1
    assert summary["notifications"] == 1
    assert summary["card_updates"] >= 1
    assert summary["remediations"] == {"cleanup-restore-points": {"succeeded": 1}}
    # lock lifted, a first backup (Azure then cleans up), a second backup, the lock put back
    assert summary["arm"]["writes"] == 4 and summary["arm"]["reads"] > 0
    (lock,) = state["locks"]
    assert lock["level"] == "CanNotDelete"
    (collection,) = state["restore_point_collections"]
    assert len(collection["restore_points"]) == 3  # the two Azure kept, and the new one
    assert [r["vm"] for r in state["backup_requests"]] == ["erp-app-03", "erp-app-03"]
    assert all(r["job_id"] for r in state["backup_requests"])
    assert set(state) >= {"locks", "restore_point_collections", "migration_items"}


def test_a_dry_run_writes_nothing_and_no_fix_claims_success(tmp_path):
    payloads = [backup_alert_payload("erp-app-03"), backup_alert_payload("erp-db-02")]
    summary, state, _ = _replay(tmp_path, payloads, "--approve", "all", env={"DRY_RUN": "true"})
    assert summary["remediations"] == {"cleanup-restore-points": {"dry-run": 2}}
    assert summary["arm"]["writes"] == 0
    assert all(len(c["restore_points"]) == 18 for c in state["restore_point_collections"])


def test_without_approval_nothing_is_written(tmp_path):
    summary, state, _ = _replay(tmp_path, [backup_alert_payload()], "--approve", "none")
    assert summary["remediations"] == {}
    assert summary["arm"]["writes"] == 0
    (collection,) = state["restore_point_collections"]
    assert len(collection["restore_points"]) == 18
    assert state["backup_requests"] == []


def test_storm_behind_one_appliance_is_one_incident(tmp_path):
    item = load("migration_item_dispose_artefacts.json")
    payloads = []
    for cycle in range(2):
        for n in range(150):
            copy = json.loads(json.dumps(item))
            copy["id"] = item["id"].rsplit("/", 1)[0] + f"/vm-{n:03}-item"
            copy["properties"]["machineName"] = f"vm-{n:03}"
            copy["properties"]["healthErrors"] = [{
                "errorCode": "181008", "errorLevel": "Error",
                "creationTimeUtc": f"2025-06-0{cycle + 1}T20:00:00Z",
                "errorMessage": f"VM: vm-{n:03}. Error: Encountered timeout event "
                "'DisposeArtefactsTimeout' in the state &'['Gateway.Service.StateMachine."
                "SnapshotReplication.SnapshotReplicationEngine+WaitingForArtefactsDisposalPreCycle'"
                " ('WaitingForArtefactsDisposalPreCycle')]'.",
            }]  # fmt: skip
            payloads.append(copy)
    summary, _, _ = _replay(tmp_path, payloads)
    assert summary["signals"] == 300
    assert summary["incidents"] <= 3
    assert summary["notifications"] == summary["incidents"]


def test_unreadable_lines_are_reported_and_the_rest_replayed(tmp_path):
    source = tmp_path / "mixed.jsonl"
    source.write_text("{broken\n" + json.dumps(backup_alert_payload()) + "\n" + '{"a": 1}\n')
    done = subprocess.run(
        [sys.executable, "-m", "remediation", "replay", str(source), "--simulate", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["signals"], summary["unreadable"]) == (1, 2)
    assert "line 1" in done.stderr


def test_missing_file_is_a_clear_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "remediation", "replay", str(tmp_path / "nope"), "--simulate"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_replay_refuses_to_run_without_simulate(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "remediation", "replay", str(tmp_path / "x")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "--simulate" in done.stderr
