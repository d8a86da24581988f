"""A remediation worker in its own process, for crash tests.

`run_worker` starts a worker that resumes whatever runs the store holds and drains the queue.
With `die_at` >= 0 it kills itself (os._exit, no cleanup) the first time the step at index
`die_at` of a run's playbook returns: after that step has acted on Azure but before its end is
journaled, the worst moment for a crash.

Each worker is a new OS process forked from a forkserver that imported the SDKs once: a fresh
interpreter per worker spends over a second importing them, and a crash suite starts dozens.
The forkserver only imports, so every worker still starts from a state no run has touched.
Waits (polls, the retry-backup settle time) pass on the in-process queue's virtual clock, so
they cost nothing; production delays are left as they are.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

from devtools.replay import engine_on_simulator
from remediation.playbooks import cleanup_restore_points
from remediation.store import SqliteStore

CRASH_EXIT = 17
PRELOAD = [
    __name__,
    "wiring.services",
    "remediation.classify",
    "remediation.engine",
    "tests.simulator_fixtures",
    "azure.mgmt.compute",
    "azure.mgmt.network",
    "azure.mgmt.privatedns",
    "azure.mgmt.recoveryservicesbackup",
    "azure.mgmt.recoveryservicessiterecovery",
    "azure.mgmt.resource.locks",
    "azure.mgmt.resource.resources",
    "msal",
]
_PROCESSES = multiprocessing.get_context("forkserver")
_PROCESSES.set_forkserver_preload(PRELOAD)


class WorkerError(RuntimeError):
    """The worker neither finished nor crashed on purpose; carries its output."""


def run_worker(
    store: Path, base_url: str, ca_path: str, subscription: str, die_at: int, timeout: float = 120
) -> int:
    """Run one worker to its end; returns 0 (drained) or CRASH_EXIT (killed itself)."""
    log = store.with_suffix(".worker.log")
    process = _PROCESSES.Process(
        target=_main,
        args=(log, str(store), base_url, ca_path, subscription, die_at),
        name="remediation-worker",
    )
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
    if process.exitcode not in {0, CRASH_EXIT}:
        raise WorkerError(f"worker exit {process.exitcode}: {log.read_text()[-3000:]}")
    return process.exitcode


def _main(log: Path, store: str, base_url: str, ca_path: str, subscription: str, die_at: int):
    with log.open("a") as out:  # the worker's own stdout and stderr, for WorkerError
        os.dup2(out.fileno(), sys.stdout.fileno())
        os.dup2(out.fileno(), sys.stderr.fileno())
    cleanup_restore_points.CONFLICT_RETRY["initial_wait"] = 0.01  # a sleep inside one step
    engine, arms = engine_on_simulator(base_url, ca_path, subscription, store=SqliteStore(store))
    execute = engine.runner._execute

    def execute_then_die(playbook, run, step, interrupted):
        result = execute(playbook, run, step, interrupted)
        if run["step"] == die_at:
            os._exit(CRASH_EXIT)
        return result

    engine.runner._execute = execute_then_die
    engine.runner.resume_stale(sole_worker=True)
    engine.queue.drain(engine.handle)
    arms.close()
