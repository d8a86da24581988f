"""The local host's dead-letter queue: messages the worker died on at every delivery.

Service Bus keeps a dead-lettered message out of the queue for good. Here the queue lives in
the host's memory and a restarted host sends its work again (signals recorded but never
processed, the current step of every run in flight), so without a record that outlives the
process a poison message came back after each restart. Each dead letter is one JSON line in
a file under the host's state folder, checked before every delivery.

A dead letter is keyed by the work it carries, not by its message id: a signal is sent again
under a new attempt number, a step under the same (run, step, attempt) id.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from remediation.clock import iso, utcnow
from remediation.queue.base import IngestMessage, Message

log = logging.getLogger("devtools.localhost")


def work_of(message: Message) -> str:
    """What `message` asks for: the signal it processes, or the run step it runs."""
    if isinstance(message, IngestMessage):
        return f"ingest:{message.dedup_key}"
    return message.message_id


class DeadLetters:
    """Dead-lettered work, loaded from `path` (when given) and appended to it."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._work: set[str] = set()
        if path is not None and path.exists():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    self._work.add(json.loads(line)["work"])
                except (ValueError, KeyError, TypeError) as exc:  # a line cut short by a crash
                    log.warning("%s line %d skipped: %s", path, number, exc)

    def __len__(self) -> int:
        return len(self._work)

    def __contains__(self, message: Message) -> bool:
        return work_of(message) in self._work

    def add(self, message: Message, reason: str) -> None:
        work = work_of(message)
        self._work.add(work)
        if self._path is None:
            return
        entry = {"work": work, "message_id": message.message_id, "reason": reason,
                 "time": iso(utcnow())}  # fmt: skip
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(entry) + "\n")
