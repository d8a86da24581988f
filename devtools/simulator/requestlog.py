"""Every request the simulator answered, to count ARM reads and writes and check write rates."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    route: str
    status: int
    at: float
    arm: bool
    fault: str | None = None
    request_id: str | None = None  # the answer's x-ms-request-id, if it carried one
    correlation_id: str | None = None  # its x-ms-correlation-request-id

    @property
    def write(self) -> bool:
        return self.method not in READ_METHODS


class RequestLog:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._clock = clock

    def record(
        self,
        method: str,
        path: str,
        route: str,
        status: int,
        *,
        arm: bool,
        fault: str | None,
        request_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        entry = LoggedRequest(
            method, path, route, status, self._clock(), arm, fault, request_id, correlation_id
        )
        with self._lock:
            self._entries.append(entry)

    def entries(self, *, arm_only: bool = True) -> list[LoggedRequest]:
        with self._lock:
            return [e for e in self._entries if e.arm or not arm_only]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @property
    def reads(self) -> int:
        return sum(1 for e in self.entries() if not e.write)

    @property
    def writes(self) -> int:
        return sum(1 for e in self.entries() if e.write)

    def count(self, route: str, method: str | None = None) -> int:
        return sum(
            1 for e in self.entries() if e.route == route and (not method or e.method == method)
        )

    def max_writes_in_window(self, seconds: float = 10.0) -> int:
        """The most ARM writes that arrived within any `seconds`-long window."""
        times = [e.at for e in self.entries() if e.write]
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    def summary(self) -> dict[str, Any]:
        return {
            "reads": self.reads,
            "writes": self.writes,
            "max_writes_10s": self.max_writes_in_window(10.0),
            "requests": [asdict(e) for e in self.entries(arm_only=False)[-200:]],
        }
