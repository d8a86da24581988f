"""The storm of storm_bench in the deployed configuration: Table storage and concurrent workers.

`python -m bench.storm_tables_bench [--workers N]` (N >= 2, default 2): the same 10,000
signals from 500 VMs are accepted as the webhooks accept them (16 at a time, each recorded in
Azure Table storage, Azurite here, and queued), then N worker processes take the queued
messages concurrently, as Flex Consumption scales the Service Bus trigger out: one session
(one resource) at a time per worker, sessions handed out as workers free up. Every worker has
its own engine on the same tables, so correlating 100 VMs into one incident races on the
same documents, which ETags settle.

Prints: incidents and cards (target: one per root cause and vault, so 3), signals lost
(accepted but never processed) and doubled (a VM in two incidents, a card posted twice), the
ETag conflicts the workers retried, the fix runs started per incident against the policy's
blast radius (max VMs per fix), and wall times. Fix runs are not driven here (storm_bench
does): their first steps are counted as queued (a step two workers queue alike is one
message for Service Bus's duplicate detection).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.storm_bench import CARDS, storm
from remediation.engine import PROCESSED, SEEN
from remediation.store import Conflict
from remediation.store.tables import TablesStore

ACCEPT_CONCURRENCY = 16


class CountingTablesStore(TablesStore):
    """The store STORE_KIND=tables opens, counting the writes refused for a stale ETag."""

    conflicts = 0

    def replace(self, table, partition, key, data, *, etag):
        try:
            return super().replace(table, partition, key, data, etag=etag)
        except Conflict:
            self.conflicts += 1
            raise

    def delete(self, table, partition, key, *, etag=None):
        try:
            return super().delete(table, partition, key, etag=etag)
        except Conflict:
            self.conflicts += 1
            raise


def _engine(sim: dict[str, str], connection: str, prefix: str):
    from devtools.replay import engine_on_simulator

    store = CountingTablesStore.from_connection_string(connection, prefix=prefix)
    engine, arms = engine_on_simulator(
        sim["base_url"], sim["ca_path"], sim["subscription_id"], store=store
    )
    return engine, arms, store


def worker(sessions, results, sim: dict[str, str], connection: str, prefix: str) -> None:
    """One Functions instance: takes a session's messages at a time until told to stop."""
    from remediation.queue.base import parse_message

    engine, arms, store = _engine(sim, connection, prefix)
    handled = 0
    try:
        while (batch := sessions.get()) is not None:
            session, bodies = batch
            for body in bodies:
                engine.handle(parse_message(body.encode(), session))
                handled += 1
    finally:
        arms.close()
    steps: list[str] = []
    engine.queue.drain(lambda message: steps.append(message.message_id))
    results.put(
        {
            "handled": handled,
            "cards_posted": len(engine.notifier.posts),
            "card_updates": engine.notifier.updates,
            "conflicts": store.conflicts,
            "steps": steps,
        }
    )


async def _accept_all(engine, signals) -> None:
    gate = asyncio.Semaphore(ACCEPT_CONCURRENCY)

    async def accept(signal) -> None:
        async with gate:
            await engine.accept(signal)

    await asyncio.gather(*(accept(s) for s in signals))


def _sessions(engine) -> dict[str, list[str]]:
    """The ingest messages the webhooks queued, by session, in the order they were sent."""
    by_session: dict[str, list[str]] = {}
    engine.queue.drain(lambda m: by_session.setdefault(m.session, []).append(m.to_json()))
    return by_session


def _outcome(engine, distinct: int) -> dict[str, Any]:
    incidents = engine.incidents.open_incidents()
    vms = Counter(vm for incident in incidents for vm in incident["vms"])
    processed = len(engine.store.query(SEEN, where={"state": PROCESSED}))
    runs = engine.runs.all()
    return {
        "fix_runs": len(runs),
        "most_runs_per_incident": max(Counter(r["incident_id"] for r in runs).values(), default=0),
        "max_vms_per_fix": engine.policy().limits.max_vms_per_fix,
        "incidents": len(incidents),
        # listed VMs and those counted past an incident's listing limit alike
        "vms_in_incidents": sum(incident["vm_count"] for incident in incidents),
        "vms_in_two_incidents": sum(1 for n in vms.values() if n > 1),
        "signals_lost": distinct - processed,
    }


def run(workers: int) -> dict[str, Any]:
    from devtools.replay import estate_for
    from devtools.simulator import ArmSimulator
    from tests.store.azurite import start_azurite

    signals = storm()
    distinct = len({s.dedup_key for s in signals})
    with tempfile.TemporaryDirectory() as tmp, ArmSimulator(estate_for(signals)) as sim:
        connection, stop = start_azurite(Path(tmp) / "azurite")
        try:
            prefix = "storm" + uuid.uuid4().hex[:8]
            where = {
                "base_url": sim.base_url,
                "ca_path": sim.ca_path,
                "subscription_id": sim.estate.subscription_id,
            }
            engine, arms, _ = _engine(where, connection, prefix)
            started = time.perf_counter()
            asyncio.run(_accept_all(engine, signals))
            accepted = time.perf_counter()
            batches = _sessions(engine)
            context = multiprocessing.get_context("spawn")
            sessions, results = context.Queue(), context.Queue()
            for batch in batches.items():
                sessions.put(batch)
            for _ in range(workers):
                sessions.put(None)
            processes = [
                context.Process(target=worker, args=(sessions, results, where, connection, prefix))
                for _ in range(workers)
            ]
            for process in processes:
                process.start()
            reports = [results.get(timeout=900) for _ in processes]
            for process in processes:
                process.join(timeout=60)
            finished = time.perf_counter()
            outcome = _outcome(engine, distinct)
            arms.close()
        finally:
            stop()
    cards = sum(r["cards_posted"] for r in reports)
    return {
        "signals": len(signals),
        "distinct_signals": distinct,
        "duplicates": engine.counters.duplicates,
        "workers": workers,
        "messages_per_worker": [r["handled"] for r in reports],
        "messages_handled": sum(r["handled"] for r in reports),
        **outcome,
        "cards_posted": cards,
        "target_cards": CARDS,
        "card_updates": sum(r["card_updates"] for r in reports),
        "etag_conflicts_retried": sum(r["conflicts"] for r in reports),
        "fix_steps_queued": sum(len(r["steps"]) for r in reports),
        "distinct_fix_steps": len({step for r in reports for step in r["steps"]}),
        "accept_s": round(accepted - started, 2),
        "workers_s": round(finished - accepted, 2),
    }


def main(argv: list[str]) -> int:
    workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 2
    if workers < 2:
        print("--workers must be 2 or more: the point is concurrent workers", file=sys.stderr)
        return 2
    result = run(workers)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps({"bench": "storm_tables", **result}))
    ok = (
        result["incidents"] == result["cards_posted"] == result["target_cards"]
        and result["signals_lost"] == 0
        and result["messages_handled"] == result["distinct_signals"]
        and result["vms_in_two_incidents"] == 0
        and result["vms_in_incidents"] == result["distinct_signals"]
        and result["most_runs_per_incident"] <= result["max_vms_per_fix"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
