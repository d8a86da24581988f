"""A failure storm through the whole pipeline, against the ARM simulator.

`python -m bench.storm_bench`: 10,000 payloads from 500 VMs: 300 migrating VMs behind 3
appliances whose DisposeArtefactsTimedOut health error the poller sees 30 times each, and 200
Backup VMs in 2 vaults whose restore-point-limit alert the action group delivers 5 times each,
all within 60 s of event time. Every fix waiting for approval is approved. Prints incidents and
notifications (target: one per root cause and vault, so 3: the appliances share the Azure
Migrate project's replication vault), ARM writes in any 10 s window
against the client's write budget, peak RSS (target < 200 MB) and wall time.
"""

from __future__ import annotations

import copy
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from devtools.replay import REPLAY_APPROVER, estate_for, simulated_engine
from remediation.signals import Signal, signals_from_payload

EVENTS = Path(__file__).resolve().parents[1] / "tests" / "events"
APPLIANCES, MIGRATING, POLLS = 3, 300, 30
VAULTS, BACKED_UP, REDELIVERIES = 2, 200, 5
# One card per root cause and vault (remediation/incidents.py): the appliances' VMs replicate
# into one Azure Migrate vault, the Backup VMs are protected by VAULTS vaults.
CARDS = 1 + VAULTS


def _sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def migration_payloads() -> list[dict[str, Any]]:
    item = _sample("migration_item_dispose_artefacts.json")
    prefix = item["id"].split("/replicationFabrics/")[0]
    out = []
    for n in range(MIGRATING):
        appliance = n % APPLIANCES
        vm = f"mig-{n:03}"
        copy_ = copy.deepcopy(item)
        copy_["id"] = (
            f"{prefix}/replicationFabrics/appliance-{appliance}/replicationProtectionContainers/"
            f"appliance-{appliance}-container/replicationMigrationItems/{vm}-item"
        )
        copy_["name"] = f"{vm}-item"
        copy_["properties"]["machineName"] = vm
        copy_["properties"]["healthErrors"] = [
            {
                "errorCode": "181008",
                "errorLevel": "Error",
                "creationTimeUtc": f"2026-11-23T10:00:{n % 60:02}Z",
                "errorMessage": f"VM: {vm}. Error: Encountered timeout event "
                "'DisposeArtefactsTimeout' in the state &'['Gateway.Service.StateMachine."
                "SnapshotReplication.SnapshotReplicationEngine+WaitingForArtefactsDisposalPreCycle'"
                " ('WaitingForArtefactsDisposalPreCycle')]'.",
            }
        ]
        out.append(copy_)
    return out


def backup_payloads() -> list[dict[str, Any]]:
    alert = _sample("common_alert_backup_failure_rp_limit.json")
    essentials = alert["data"]["essentials"]
    vault_id = essentials["alertTargetIDs"][0]
    out = []
    for n in range(BACKED_UP):
        vm = f"bak-{n:03}"
        copy_ = copy.deepcopy(alert)
        ess, ctx = copy_["data"]["essentials"], copy_["data"]["alertContext"]
        ess["alertId"] = ess["alertId"].rsplit("/", 1)[0] + f"/storm-{n}"
        ess["alertTargetIDs"] = [vault_id.replace("rsv-prod-weu", f"rsv-prod-{n % VAULTS}")]
        ess["firedDateTime"] = f"2026-11-23T10:00:{n % 60:02}Z"
        ctx["linkedResourceId"] = ctx["linkedResourceId"].replace(ctx["linkedResourceName"], vm)
        ctx["linkedResourceName"] = vm
        out.append(copy_)
    return out


def storm() -> list[Signal]:
    migrations = [s for p in migration_payloads() for s in signals_from_payload(p)]
    backups = [s for p in backup_payloads() for s in signals_from_payload(p)]
    stream = [s for _ in range(POLLS) for s in migrations]
    stream += [s for _ in range(REDELIVERIES) for s in backups]
    return stream


def main(argv: list[str]) -> int:
    signals = storm()
    started = time.perf_counter()
    with simulated_engine(estate_for(signals)) as (engine, sim):
        for signal in signals:
            engine.ingest(signal)
        ingested = time.perf_counter()
        for approval in engine.approvals.pending():
            engine.decide(approval["id"], "approve", REPLAY_APPROVER)
        engine.queue.drain(engine.runner.handle)
        finished = time.perf_counter()
        runs = engine.runs.all()
        result = {
            "signals": len(signals),
            "vms": MIGRATING + BACKED_UP,
            "duplicates": engine.counters.duplicates,
            "incidents": len(engine.incidents.open_incidents()),
            "notifications": engine.counters.notifications,
            "target_notifications": CARDS,
            "fix_runs": len(runs),
            "fixes_succeeded": sum(r["state"] == "succeeded" for r in runs),
            "arm_writes": sim.requests.writes,
            "max_writes_10s": sim.requests.max_writes_in_window(10.0),
            "write_budget_10s": 100 + 5 * 10,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target_rss_mb": 200,
            "ingest_s": round(ingested - started, 2),
            "wall_s": round(finished - started, 2),
        }
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps({"bench": "storm", **result}))
    ok = (
        result["notifications"] == result["target_notifications"]
        and result["max_writes_10s"] <= result["write_budget_10s"]
        and result["peak_rss_mb"] < result["target_rss_mb"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
