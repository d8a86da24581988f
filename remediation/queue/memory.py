"""In-process queue for local runs and replays: scheduled delivery, duplicate detection."""

from __future__ import annotations

import asyncio
import contextlib
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
    a 30-second backoff); `next_due()` serves a consumer in real time (the local host's).
    Sends of a message id already queued are dropped, like Service Bus duplicate detection.
    """

    def __init__(
        self, monotonic: Callable[[], float] = time.monotonic, time_scale: float = 1.0
    ) -> None:
        """`time_scale` shortens scheduled waits (a simulated estate's demo runs its hours of
        waiting for Azure in seconds); 1.0 in production."""
        self._heap: list[tuple[float, int, Message]] = []
        self._ids: set[str] = set()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._virtual_offset = 0.0
        self._wake: Callable[[], object] | None = None
        self.time_scale = time_scale

    def now(self) -> float:
        return self._monotonic() + self._virtual_offset

    def send(self, message: Message) -> None:
        with self._lock:
            if message.message_id in self._ids:
                return
            self._ids.add(message.message_id)
            due = self.now() + max(0.0, message.delay_seconds) * self.time_scale
            heapq.heappush(self._heap, (due, next(self._seq), message))
        wake = self._wake
        if wake is not None:
            with contextlib.suppress(RuntimeError):  # the consumer's loop has just closed
                wake()

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

    async def next_due(self) -> Message:
        """The next message once it is due, for a consumer on an event loop (the local host's)
        while sends arrive from any thread: a send wakes it through the loop."""
        loop = asyncio.get_running_loop()
        sent = asyncio.Event()
        self._wake = lambda: loop.call_soon_threadsafe(sent.set)
        try:
            while True:
                with self._lock:
                    if self._heap and self._heap[0][0] <= self.now():
                        return self._pop()
                    wait = self._heap[0][0] - self.now() if self._heap else None
                    sent.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sent.wait(), wait)
        finally:
            self._wake = None
