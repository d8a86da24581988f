"""Stand-ins for the queue worker's process, in a module light enough for a spawned child to
import quickly: they speak the worker's pipe protocol without running a function."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection

from remediation.queue.base import StepMessage

NEXT_STEP = StepMessage("run-1", 1, 0, session_id="vm-1", delay_seconds=30.0)


def dies_on_delivery(conn: Connection, function_name: str) -> None:
    conn.recv()
    os._exit(3)


def sends_then_fails(conn: Connection, function_name: str) -> None:
    """Each delivery sends NEXT_STEP back, then reports the function as failed."""
    while conn.recv()[0] == "deliver":
        conn.send(("send", NEXT_STEP.to_json(), NEXT_STEP.session, NEXT_STEP.delay_seconds))
        conn.send(("failed", f"ValueError: {function_name} broke"))


def hangs(conn: Connection, function_name: str) -> None:
    """Never answers a delivery, like a function stuck on a call without a timeout; a stop
    before any delivery ends it."""
    while conn.recv()[0] == "deliver":
        time.sleep(3600)
