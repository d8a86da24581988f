"""The Service Bus-triggered function runs in a worker process of its own, as on Flex
Consumption: signals and fix steps are processed there, the steps it sends come back through the
host's queue, and a worker killed mid-message is replaced and the message delivered again.

The protocol tests give the host side stand-in workers (tests/localhost/stand_in_workers.py);
the others run `serve --simulate` with the real one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devtools.localhost.dead_letters import DeadLetters
from devtools.localhost.host import function_timeout
from devtools.localhost.queue_worker import (
    MAX_DELIVERIES,
    WORKER_NICENESS,
    FunctionFailed,
    QueueWorker,
)
from remediation.queue.base import IngestMessage, Message
from remediation.queue.memory import InProcessQueue
from tests.localhost.process import Served, alive, proc_stat
from tests.localhost.stand_in_workers import NEXT_STEP, dies_on_delivery, hangs, sends_then_fails
from tests.reliability.served import (
    Server,
    approve_last_card,
    eventually,
    hold_next,
    in_step,
    post_alert,
    running_server,
    runs,
)
from wiring import services as app

VM = "erp-app-03"


def _first_worker(served: Served) -> int:
    assert eventually(lambda: served.worker_pids(), timeout=20), served.log_text()
    return served.worker_pids()[0]


@contextmanager
def _frozen(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def _fixed(server: Server, before: dict[str, Any]) -> None:
    """The VM's fix ran to its end: two backups (Azure cleans up after the first), its
    collection below the limit, the lock back exactly."""
    assert eventually(lambda: [r["state"] for r in runs(server)] == ["succeeded"], timeout=45), (
        runs(server)
    )
    after = server.simulator_state()
    assert [r["vm"] for r in after["backup_requests"]] == [VM, VM]
    assert after["locks"] == before["locks"], "the lifted lock is back, exactly"
    (collection,) = [c for c in after["restore_point_collections"]
                     if c["source_vm_id"].endswith("/" + VM)]  # fmt: skip
    assert len(collection["restore_points"]) < 18


def test_install_makes_services_return_the_given_ones(monkeypatch):
    monkeypatch.setattr(app, "_installed", None)  # restored after the test
    given = object()
    app.install(given)  # type: ignore[arg-type]
    try:
        assert app.services() is given
        app.services.cache_clear()
        assert app.services() is given, "a cleared cache still answers the installed services"
    finally:
        app.services.cache_clear()


@contextmanager
def _worker(queue: InProcessQueue, main, **options: Any) -> Iterator[QueueWorker]:
    worker = QueueWorker("remediation_step", queue, main=main, **options)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def _delivery(worker: QueueWorker) -> Callable[[Message], None]:
    """The worker's delivery as a plain call, for the queue's synchronous drain."""
    return lambda message: asyncio.run(worker.deliver(message))


def test_a_message_its_worker_dies_on_is_dead_lettered_after_five_deliveries(caplog):
    queue, restarts = InProcessQueue(), []
    with _worker(queue, dies_on_delivery, on_restart=lambda: restarts.append(1)) as worker:
        queue.send(IngestMessage("poison", session_id="vm-1"))
        delivered = queue.drain(_delivery(worker), max_messages=MAX_DELIVERIES + 1)
        assert delivered == MAX_DELIVERIES, "delivered again after each death, then no more"
    assert len(queue) == 0 and len(restarts) == MAX_DELIVERIES
    assert "message ingest:poison:0 dead-lettered" in caplog.text


def test_dead_lettered_work_is_not_delivered_again_by_a_restarted_host(tmp_path, caplog):
    dead_letters = tmp_path / "dead-letters.jsonl"
    queue = InProcessQueue()
    with _worker(queue, dies_on_delivery, dead_letters=DeadLetters(dead_letters)) as worker:
        queue.send(IngestMessage("poison", session_id="vm-1"))
        assert queue.drain(_delivery(worker), max_messages=MAX_DELIVERIES + 1) == MAX_DELIVERIES
    restarted = DeadLetters(dead_letters)  # a new host: a new queue, the same state folder
    assert len(restarted) == 1
    queue = InProcessQueue()
    with _worker(queue, dies_on_delivery, dead_letters=restarted) as worker:
        pid = worker.pid
        queue.send(IngestMessage("poison", attempt=1, session_id="vm-1"))  # the sweep's re-send
        assert queue.drain(_delivery(worker)) == 1
        assert worker.pid == pid, "the re-sent poison was not delivered to the worker"
    assert "message ingest:poison:1 not delivered: its work is dead-lettered" in caplog.text


def test_a_failing_function_is_reported_and_its_sends_reach_the_queue():
    queue = InProcessQueue()
    with _worker(queue, sends_then_fails) as worker:
        pid = worker.pid
        for _ in range(2):  # a failure is not a crash: the same worker serves the next one
            with pytest.raises(FunctionFailed, match="ValueError: remediation_step broke"):
                _delivery(worker)(IngestMessage("key"))
        assert worker.pid == pid
    received: list[Any] = []
    queue.drain(received.append)
    assert received == [NEXT_STEP], "sent once (the second send has the same message id)"
    assert not alive(pid), "stopped"


def test_a_worker_that_does_not_answer_within_the_function_timeout_is_replaced(caplog):
    queue = InProcessQueue()
    with _worker(queue, hangs, function_timeout=0.3) as worker:
        hung = worker.pid
        _delivery(worker)(IngestMessage("slow"))
        assert worker.pid != hung and not alive(hung), "killed and replaced"
        assert len(queue) == 1, "the message is queued again"
    assert "no answer within 0.3 s" in caplog.text


@pytest.mark.parametrize(
    ("setting", "seconds"),
    [({"functionTimeout": "00:10:00"}, 600.0), ({"functionTimeout": "-1"}, None), ({}, 1800.0)],
)
def test_the_function_timeout_comes_from_host_json(tmp_path, setting, seconds):
    host_json = tmp_path / "host.json"
    host_json.write_text(json.dumps({"version": "2.0", **setting}))
    assert function_timeout(host_json) == seconds


def test_the_projects_host_json_gives_the_queue_function_ten_minutes(tmp_path):
    assert function_timeout(Path(app.__file__).parents[1] / "host.json") == 600.0
    bad = tmp_path / "host.json"
    bad.write_text('{"functionTimeout": "ten minutes"}')
    with pytest.raises(ValueError, match="not hh:mm:ss"):
        function_timeout(bad)


def test_alerts_are_processed_in_the_workers_process(tmp_path):
    with running_server(tmp_path) as server:
        served = server.served
        worker, host = _first_worker(served), served.host_pid()
        assert worker != host
        assert int(proc_stat(worker)[1]) == host, "the worker is the host's child"
        nice = 16  # /proc/<pid>/stat field 19, counted after the command name
        lowest = min(19, int(proc_stat(host)[nice]) + WORKER_NICENESS)
        assert int(proc_stat(worker)[nice]) == lowest, "the worker yields the CPU to the host"
        threads = len(server.threads())
        with _frozen(worker):
            post_alert(server)  # the host answers while its worker is frozen...
            with pytest.raises(AssertionError):  # ...and nothing processes the signal
                served.wait_processed(timeout=1.0)
        served.wait_processed()
        assert len(server.threads()) == threads + 1, "the worker posted the incident's card"
        assert served.worker_pids() == [worker]


def test_a_fix_sends_its_steps_through_the_hosts_queue(tmp_path):
    """The approval (in the host) queues the first step; every later one is sent by the
    worker, so the run ends only if those come back to the host's queue."""
    with running_server(tmp_path) as server:
        before = server.simulator_state()
        post_alert(server)
        server.served.wait_processed()
        approve_last_card(server)
        _fixed(server, before)
        assert len(server.served.worker_pids()) == 1, "no worker died on the way"


def test_a_killed_worker_is_replaced_and_its_message_delivered_again(tmp_path):
    with running_server(tmp_path) as server:
        served = server.served
        before = server.simulator_state()
        first = _first_worker(served)
        # Killed with a signal's processing handed to it (frozen, so it cannot finish first).
        os.kill(first, signal.SIGSTOP)
        post_alert(server)
        os.kill(first, signal.SIGKILL)
        assert eventually(lambda: len(served.worker_pids()) == 2, timeout=20), served.log_text()
        served.wait_processed()
        assert len(server.threads()) == 1, "the redelivered signal posted its card"
        assert f"queue worker {first} died" in served.log_text()

        # Killed in the middle of a fix's step, its backup trigger held by the simulator (which
        # still carries it out): the host resumes the run the dead worker held instead of
        # waiting out its lease, and the resumed run adopts that backup, never a second one.
        hold_next(server, "backup.trigger", seconds=5)
        approve_last_card(server)
        assert eventually(lambda: in_step(server, "trigger-backup"), timeout=20)
        second = served.worker_pids()[1]
        os.kill(second, signal.SIGKILL)
        _fixed(server, before)
        assert "resumed 1 interrupted fix run(s)" in served.log_text()
        workers = served.worker_pids()
        assert len(workers) == 3
    assert eventually(lambda: not any(alive(pid) for pid in workers), timeout=10)
    assert f"queue worker {workers[-1]} stopped" in served.log_text(), "a polite stop"
