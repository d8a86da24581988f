"""In-process queue for local runs and replays: scheduled delivery, one worker per session."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from remediation.queue.base import Message

Handler = Callable[[Message], None]


class InProcessQueue:
    """A priority queue by due time.

    `drain()` runs everything synchronously on a virtual clock (a replay must not sleep through
    a 30-second backoff); `start()` serves messages on a thread in real time for the local host.
    Sends of a message id already queued are dropped, like Service Bus duplicate detection.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._heap: list[tuple[float, int, Message]] = []
        self._ids: set[str] = set()
        self._seq = itertools.count()
        self._lock = threading.Condition()
        self._monotonic = monotonic
        self._virtual_offset = 0.0
        self._thread: threading.Thread | None = None
        self._stopping = False

    def now(self) -> float:
        return self._monotonic() + self._virtual_offset

    def send(self, message: Message) -> None:
        with self._lock:
            if message.message_id in self._ids:
                return
            self._ids.add(message.message_id)
            due = self.now() + max(0.0, message.delay_seconds)
            heapq.heappush(self._heap, (due, next(self._seq), message))
            self._lock.notify_all()

    async def asend(self, message: Message) -> None:
        """Inline: an in-memory push is shorter than any hop to a thread."""
        self.send(message)

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)

    def _pop(self) -> Message:
        _, _, message = heapq.heappop(self._heap)
        self._ids.discard(message.message_id)
        return message

    def drain(self, handler: Handler, max_messages: int = 1_000_000) -> int:
        """Deliver every message, jumping the virtual clock over waits; returns the count."""
        handled = 0
        while handled < max_messages:
            with self._lock:
                if not self._heap:
                    return handled
                due = self._heap[0][0]
                if due > self.now():
                    self._virtual_offset += due - self.now()
                message = self._pop()
            handler(message)
            handled += 1
        return handled

    def start(self, handler: Handler, on_error: Callable[[Exception], None]) -> None:
        """Serve in real time on a daemon thread until `stop()`."""
        self._stopping = False
        self._thread = threading.Thread(
            target=self._serve, args=(handler, on_error), name="remediation-queue", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread:
            self._thread.join(timeout=5)

    def _serve(self, handler: Handler, on_error: Callable[[Exception], None]) -> None:
        while True:
            with self._lock:
                while not self._stopping and (not self._heap or self._heap[0][0] > self.now()):
                    wait = self._heap[0][0] - self.now() if self._heap else None
                    self._lock.wait(timeout=wait)
                if self._stopping:
                    return
                message = self._pop()
            try:
                handler(message)
            except Exception as exc:  # the worker must survive one bad step
                on_error(exc)
