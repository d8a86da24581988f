"""kill -9 of the local host: its queue worker dies with it, whatever it was doing.

An orphaned worker would finish its step for a host that is gone, writing to Azure and the
store while a restarted host resumes the same run (a lock put back, then deleted by the
orphan's late DELETE). Each timing is tried on a real `serve --simulate`."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest

from tests.localhost.process import alive
from tests.reliability.served import (
    Server,
    approve_last_card,
    eventually,
    hold_next,
    in_step,
    post_alert,
    running_server,
)
from tests.reliability.summary import record

GONE_WITHIN_SECONDS = 3.0


def _idle(server: Server, worker: int) -> None:
    """Waiting for a message: it reads from the pipe."""


def _frozen_with_a_message(server: Server, worker: int) -> None:
    """Handed a message it has not read: stopped, as a process busy elsewhere would be."""
    os.kill(worker, signal.SIGSTOP)
    post_alert(server)


def _in_an_arm_call(server: Server, worker: int) -> None:
    """In a fix's step, waiting for ARM to answer the backup trigger's POST."""
    post_alert(server)
    server.served.wait_processed()
    hold_next(server, "backup.trigger", seconds=60)
    approve_last_card(server)
    assert eventually(lambda: in_step(server, "trigger-backup"), timeout=20)


TIMINGS: dict[str, Callable[[Server, int], None]] = {
    "idle": _idle,
    "frozen with a message": _frozen_with_a_message,
    "in an ARM call": _in_an_arm_call,
}


@pytest.mark.parametrize("timing", TIMINGS)
def test_the_queue_worker_dies_with_its_host(tmp_path, timing):
    with running_server(tmp_path) as server:
        served = server.served
        assert eventually(served.worker_pids, timeout=20), served.log_text()
        [worker] = served.worker_pids()
        TIMINGS[timing](server, worker)
        os.kill(served.host_pid(), signal.SIGKILL)
        gone = eventually(lambda: not alive(worker), timeout=GONE_WITHIN_SECONDS)
    if not gone:  # not left behind by this test
        os.kill(worker, signal.SIGKILL)
    record("host crash", tries=1, workers_left_alive=int(not gone))
    assert gone, f"worker {worker} outlived its host by {GONE_WITHIN_SECONDS:g} s ({timing})"
