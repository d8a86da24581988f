"""Fencing of ARM writes: a worker that no longer holds its run writes nothing.

A worker can outlive its lease (a host killed while its queue worker runs on, a step held up
by a throttled retry) while another worker resumes the same run. The runner therefore sets a
fence for the duration of each step, a check that the run is still this worker's, and the
SDK pipeline calls it immediately before every write attempt on the wire, retries included
(see clients.py). A stale worker's write is refused before it reaches Azure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Fence = Callable[[], None]
_current: ContextVar[Fence | None] = ContextVar("arm_write_fence", default=None)


class StaleLease(RuntimeError):
    """The run moved on to another worker: this worker must not write for it."""


@contextmanager
def fenced(check: Fence) -> Iterator[None]:
    """Run the block with `check` guarding every ARM write it makes."""
    token = _current.set(check)
    try:
        yield
    finally:
        _current.reset(token)


def check_fence() -> None:
    """Raise StaleLease when the block's run is no longer held; no-op outside a step."""
    check = _current.get()
    if check is not None:
        check()
