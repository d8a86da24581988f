"""The Service Bus-triggered function in a process of its own, as Flex Consumption runs it.

Flex Consumption scales the HTTP-triggered functions as one group and every other function on
instances of its own, so queue work never competes with the webhooks for a process (and its
GIL). The local host mirrors that: its InProcessQueue (due times, duplicate detection) stays in
the host, and its event loop hands each message, once due, over a pipe to a worker process that
runs the function. The worker's own sends (a fix's next step) travel back over the pipe to that
queue.

The pipe carries tuples, one delivery at a time:
    host -> worker: ("deliver", body, session, message_id) | ("stop",)
    worker -> host: ("send", body, session, delay_seconds) ... then ("done",) | ("failed", reason)
A worker that dies mid-message (the pipe reads EOF), or that does not answer within host.json's
functionTimeout (it is killed), is replaced and the message queued again, as Service Bus
redelivers a message whose lock expired, up to MAX_DELIVERIES times; then its work is
dead-lettered (see dead_letters) and never delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from azure.functions.servicebus import ServiceBusMessage

from devtools.localhost import logs
from devtools.localhost.dead_letters import DeadLetters
from devtools.localhost.invocation import invoke
from remediation.queue.base import Message, QueueError, parse_message

log = logging.getLogger("devtools.localhost")

MAX_DELIVERIES = 5  # Service Bus's default is 10; five crashes in a row say enough
STOP_TIMEOUT = 10.0
WORKER_NICENESS = 19  # the lowest CPU priority: the host's requests go first
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
ORPHANED_EXIT = 70
ORPHAN_CHECK_SECONDS = 0.5
# A fresh interpreter: a fork would copy the host's threads' locks (simulator, bot loop) mid-use.
_SPAWN = multiprocessing.get_context("spawn")


class FunctionFailed(Exception):
    """The function raised in the worker; the reason names the exception."""


class QueueWorker:
    """The host's side: owns the worker process and the pipe to it.

    `serve` runs on the host's event loop until `finish`; `start` and `stop` may run anywhere.
    A delivery count per message id bounds redelivery after crashes;
    `on_restart` runs once a dead worker is replaced (the host resumes the fixes it held).
    `main` is the worker process's entry, a module-level function the child can import.
    """

    def __init__(
        self,
        function_name: str,
        queue: Any,
        on_restart: Callable[[], None] | None = None,
        *,
        function_timeout: float | None = None,
        main: Callable[[Connection, str], None] | None = None,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self._function_name = function_name
        self._dead_letters = dead_letters if dead_letters is not None else DeadLetters()
        self._function_timeout = function_timeout
        self._queue = queue
        self._on_restart = on_restart
        self._main = main or run_worker
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._deliveries: Counter[str] = Counter()
        self._stopping = False
        self._idle = True  # waiting for a message, not delivering one
        self._lock = threading.Lock()  # the process and pipe change hands under it

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        with self._lock:
            self._stopping = False
            self._spawn()

    async def serve(self, on_error: Callable[[Exception], None]) -> None:
        """Deliver the queue's messages as they fall due, one at a time, until `finish`."""
        while not self._stopping:
            self._idle = True
            message = await self._queue.next_due()
            self._idle = False
            try:
                await self.deliver(message)
            except Exception as exc:  # the queue is served on, whatever one message did
                on_error(exc)

    async def finish(self, serving: asyncio.Task, timeout: float = STOP_TIMEOUT) -> None:
        """Let the message in flight end (or `timeout` pass), then stop the worker."""
        self._stopping = True
        if self._idle:
            serving.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(serving, timeout)
        await asyncio.to_thread(self.stop, timeout)

    async def deliver(self, message: Message) -> None:
        """Run `message` in the worker and wait for its end; raises FunctionFailed when the
        function raised there. A worker death is handled here, not raised."""
        message_id = message.message_id
        if message in self._dead_letters:
            log.warning("message %s not delivered: its work is dead-lettered", message_id)
            return
        self._deliveries[message_id] += 1
        try:
            reason = await self._exchange(message)
        except (EOFError, OSError) as exc:
            await self._died(message, exc)
            return
        del self._deliveries[message_id]
        if reason is not None:
            raise FunctionFailed(reason)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the worker to finish its message and exit; terminate it after `timeout`."""
        with self._lock:
            self._stopping = True
            process, conn = self._process, self._conn
            if process is None or conn is None:
                return
            with contextlib.suppress(OSError):  # already gone
                conn.send(("stop",))
        _end(process, timeout)
        conn.close()

    def _spawn(self) -> None:
        host_end, worker_end = _SPAWN.Pipe()
        process = _SPAWN.Process(
            target=self._main,
            args=(worker_end, self._function_name),
            name="remediation-queue-worker",
            daemon=True,  # multiprocessing ends it if the host exits without stopping it
        )
        process.start()
        worker_end.close()  # the host's copy: the worker's death must read as EOF here
        self._process, self._conn = process, host_end

    async def _exchange(self, message: Message) -> str | None:
        """Send one delivery and serve the worker's sends until it ends; the failure reason.

        On the event loop, waiting for the pipe to be readable: a thread of its own here would
        trade the GIL with the loop at every message and slow the webhooks down."""
        conn = self._conn
        if conn is None:
            raise EOFError("no queue worker")
        conn.send(("deliver", message.to_json(), message.session, message.message_id))
        loop = asyncio.get_running_loop()
        deadline = None if self._function_timeout is None else loop.time() + self._function_timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                await asyncio.wait_for(_readable(conn), left)
            except TimeoutError:
                raise TimeoutError(f"no answer within {self._function_timeout:g} s") from None
            reply = conn.recv()
            if reply[0] == "send":
                self._requeue_from_worker(*reply[1:])
            elif reply[0] == "done":
                return None
            else:
                return str(reply[1])

    def _requeue_from_worker(self, body: str, session: str, delay_seconds: float) -> None:
        try:
            message = parse_message(body, session)
        except QueueError as exc:  # never from our own worker; the pipe stays in step
            log.error("message from the queue worker dropped: %s", exc)
            return
        self._queue.send(replace(message, delay_seconds=delay_seconds))

    async def _died(self, message: Message, exc: BaseException) -> None:
        """Replace the dead worker and queue the message again, or dead-letter it.

        The old process is reaped off the loop; the new one is spawned on the loop's thread,
        which lives as long as the host: a worker's parent-death signal fires when the thread
        that started it ends, not only the process."""
        code = await asyncio.to_thread(self._reap, isinstance(exc, TimeoutError))
        with self._lock:
            if self._stopping:
                log.warning("queue worker ended while stopping; message %s not finished",
                            message.message_id)  # fmt: skip
                return
            reason = str(exc) or type(exc).__name__
            log.error("queue worker %s died (exit code %s, %s) handling message %s: restarting",
                      self.pid, code, reason, message.message_id)  # fmt: skip
            if self._conn is not None:
                self._conn.close()
            self._spawn()
        message_id = message.message_id
        if self._deliveries[message_id] >= MAX_DELIVERIES:
            del self._deliveries[message_id]
            log.error("message %s dead-lettered: the worker died on each of its %d deliveries",
                      message_id, MAX_DELIVERIES)  # fmt: skip
            self._dead_letters.add(message, f"the worker died on {MAX_DELIVERIES} deliveries")
        else:
            self._queue.send(replace(message, delay_seconds=0.0))  # its delay was served
        if self._on_restart is not None:
            await asyncio.to_thread(self._on_restart)

    def _reap(self, hung: bool) -> int | None:
        """End the worker that stopped answering (killed if `hung`); its exit code."""
        with self._lock:
            process = self._process
            if process is None:
                return None
            if hung:  # the Functions host recycles a hung worker too
                process.kill()
            _end(process, STOP_TIMEOUT)  # reaped; ended if it only closed the pipe
            return process.exitcode


async def _readable(conn: Connection) -> None:
    """Wait on the loop until `conn` has data (or its end: recv then raises EOFError)."""
    if conn.poll():
        return
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())


def _end(process: BaseProcess, timeout: float) -> None:
    """Wait up to `timeout` for `process` to exit, then terminate it."""
    process.join(timeout)
    if process.is_alive():
        log.warning("queue worker %d did not stop in %.0fs: terminated", process.pid, timeout)
        process.terminate()
        process.join(timeout)


class HostQueue:
    """The worker's queue: a send goes back to the host, whose queue schedules it."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()  # the function's thread sends, the main thread replies

    def send(self, message: Message) -> None:
        self.post("send", message.to_json(), message.session, message.delay_seconds)

    async def asend(self, message: Message) -> None:
        self.send(message)

    def post(self, *fields: Any) -> None:
        with self._lock:
            self._conn.send(fields)


def die_with_host() -> None:
    """End this process the moment its host dies, whatever it is doing.

    Between messages the worker reads EOF from the pipe and stops; in the middle of a fix's
    step it would carry on, writing to Azure and the store for a host that is gone, while a
    restarted host resumes the same run. On Linux the kernel sends SIGKILL when the parent
    dies (prctl PR_SET_PDEATHSIG); elsewhere a watchdog thread exits once the process is
    re-parented. Either way a host that died before this ran is noticed here."""
    parent = multiprocessing.parent_process()
    host = parent.pid if parent is not None else os.getppid()
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=_exit_when_orphaned, args=(host,), daemon=True).start()
    if os.getppid() != host:  # the host died before the signal was armed
        os._exit(ORPHANED_EXIT)


def _exit_when_orphaned(host: int) -> None:
    while os.getppid() == host:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(ORPHANED_EXIT)


def run_worker(conn: Connection, function_name: str) -> None:
    """The worker process: serve deliveries until the host says stop or goes away."""
    die_with_host()
    # Ctrl-C reaches the whole process group; the host stops its worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # On Azure this function has instances of its own; here it shares the machine's cores
    # with the host, whose webhook senders wait for their 202 while queued work can wait.
    os.nice(WORKER_NICENESS)
    logs.configure()
    import function_app
    from wiring.services import build_services, install

    function = _queue_function(function_app.app, function_name)
    queue = HostQueue(conn)
    services = install(build_services(queue=queue))
    log.info("queue worker %d started for function %s", os.getpid(), function_name)
    loop = asyncio.new_event_loop()
    try:
        _serve(conn, queue, loop, function)
    finally:
        loop.close()
        bot_runtime = getattr(services.engine.notifier, "runtime", None)
        if bot_runtime is not None:
            bot_runtime.close()
        log.info("queue worker %d stopped", os.getpid())


def _queue_function(app: Any, name: str) -> Any:
    for function in app.get_functions():
        if function.get_function_name() == name:
            return function
    raise LookupError(f"function_app registers no function {name!r}")


def _serve(conn: Connection, queue: HostQueue, loop: asyncio.AbstractEventLoop, function: Any):
    arg_name = function.get_trigger().name
    while True:
        try:
            request = conn.recv()
        except EOFError:
            log.warning("queue worker %d: the host went away", os.getpid())
            return
        if request[0] == "stop":
            return
        _, body, session, message_id = request
        message = ServiceBusMessage(
            body=body.encode(), message_id=message_id, session_id=session,
            content_type="application/json", application_properties={}, user_properties={},
        )  # fmt: skip
        try:
            loop.run_until_complete(invoke(function, **{arg_name: message}))
        except Exception as exc:  # reported to the host, which logs it as before
            queue.post("failed", f"{type(exc).__name__}: {exc}")
        else:
            queue.post("done")
