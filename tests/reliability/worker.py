"""A remediation worker as its own process, for crash tests.

    python -m tests.reliability.worker STORE BASE_URL CA_PATH SUBSCRIPTION DIE_AFTER

It resumes whatever runs the store holds and drains the queue; with DIE_AFTER >= 0 it kills
itself (os._exit, no cleanup) right after the DIE_AFTER-th step has acted on Azure but before
that step's end is journaled: the worst moment for a crash.
"""

from __future__ import annotations

import os
import sys

from remediation.playbooks import cleanup_restore_points
from remediation.replay import engine_on_simulator
from remediation.store import SqliteStore

CRASH_EXIT = 17


def main(store_path: str, base_url: str, ca_path: str, subscription: str, die_after: str) -> int:
    cleanup_restore_points.CONFLICT_RETRY["initial_wait"] = 0.01
    engine, arms = engine_on_simulator(
        base_url, ca_path, subscription, store=SqliteStore(store_path)
    )
    budget = int(die_after)
    execute = engine.runner._execute
    done = {"steps": 0}

    def execute_then_die(*args, **kwargs):
        result = execute(*args, **kwargs)
        done["steps"] += 1
        if 0 <= budget < done["steps"]:
            os._exit(CRASH_EXIT)
        return result

    engine.runner._execute = execute_then_die
    engine.runner.resume_stale(sole_worker=True)
    engine.queue.drain(engine.runner.handle)
    arms.close()
    print(f"steps={done['steps']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
