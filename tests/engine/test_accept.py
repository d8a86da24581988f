"""Accept now, process on the queue: the record is durable before the ack, processing is once.

A webhook must answer fast, so `accept` only records the signal and queues its processing;
`process` does the rest when the message arrives, at most once per signal however often the
message comes; a signal recorded but never queued (a crash, a queue outage) is sent again by
the timer's sweep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from remediation.classify import default_classifier
from remediation.engine import MAX_REQUEUES, REQUEUE_GRACE, SEEN, Accepted, Engine
from remediation.notify import RecordingNotifier
from remediation.playbooks import PLAYBOOKS
from remediation.queue.base import IngestMessage, Message, QueueError, QueueUnavailable
from remediation.queue.memory import InProcessQueue
from remediation.signals import Signal, parse_payload
from remediation.store import SqliteStore
from remediation.store.base import MAX_DOCUMENT_CHARS
from tests.engine.signals import backup_alert_payload, rp_limit_alert


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class FlakyQueue(InProcessQueue):
    """The in-process queue, with sends that fail while `down` is set."""

    down = False

    def send(self, message: Message) -> None:
        if self.down:
            raise ConnectionError("queue unreachable")
        super().send(message)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> SqliteStore:
    return SqliteStore(":memory:")


def new_engine(store, policy, clock) -> Engine:
    """An engine on `store`: a second one on the same store is a restarted process."""
    return Engine(
        store, default_classifier(), lambda: policy, FlakyQueue(), RecordingNotifier(), PLAYBOOKS,
        arm_for=lambda run: pytest.fail("no ARM call expected"), clock=clock,
    )  # fmt: skip


@pytest.fixture
def engine(store, policy, clock) -> Engine:
    return new_engine(store, policy, clock)


def accept(engine: Engine, signal: Signal) -> Accepted:
    """What a webhook does for one signal (accept is a coroutine: the webhooks are async)."""
    return asyncio.run(engine.accept(signal))


def _state(engine: Engine, key: str) -> str:
    return engine.store.get(SEEN, key[:2], key).data["state"]


def test_accept_records_and_queues_without_processing(engine):
    signal = rp_limit_alert()
    accepted = accept(engine, signal)
    assert not accepted.duplicate and accepted.dedup_key == signal.dedup_key
    assert engine.incidents.open_incidents() == [] and engine.notifier.posts == []
    assert len(engine.queue) == 1
    assert _state(engine, signal.dedup_key) == "accepted"

    assert engine.queue.drain(engine.handle) == 1
    [incident] = engine.incidents.open_incidents()
    assert incident["vms"] == ["erp-app-03"]
    assert len(engine.notifier.posts) == 1
    assert _state(engine, signal.dedup_key) == "processed"
    record = engine.store.get(SEEN, signal.dedup_key[:2], signal.dedup_key)
    assert "signal" not in record.data, "the incident holds it now"


def test_a_duplicate_accept_sends_nothing_more(engine):
    first, second = accept(engine, rp_limit_alert()), accept(engine, rp_limit_alert())
    assert (first.duplicate, second.duplicate) == (False, True)
    assert len(engine.queue) == 1
    engine.queue.drain(engine.handle)
    assert accept(engine, rp_limit_alert()).duplicate
    assert len(engine.queue) == 0, "a processed signal is never queued again"
    assert engine.counters.duplicates == 2


def test_a_redelivered_ingest_message_is_processed_once(engine):
    accept(engine, rp_limit_alert())
    [message] = _sent(engine)
    for _ in range(3):
        engine.handle(message)
    [incident] = engine.incidents.open_incidents()
    assert incident["signal_count"] == 1
    assert len(engine.notifier.posts) == 1
    assert engine.notifier.updates == 0


def test_a_crash_between_record_and_send_is_recovered_by_the_sweep(store, policy, clock):
    dying = new_engine(store, policy, clock)
    dying.queue.down = True  # the send never happens: the process died right after the claim
    with pytest.raises(QueueUnavailable, match="recorded but not queued"):
        accept(dying, rp_limit_alert())

    restarted = new_engine(store, policy, clock)
    assert restarted.requeue_unprocessed() == 0, "within the grace period the send may be late"
    clock.now += REQUEUE_GRACE
    assert restarted.requeue_unprocessed() == 1
    assert restarted.requeue_unprocessed() == 0, "a re-sent signal gets a new grace period"
    restarted.queue.drain(restarted.handle)
    assert len(restarted.incidents.open_incidents()) == 1
    clock.now += REQUEUE_GRACE
    assert restarted.requeue_unprocessed() == 0


def test_a_sweep_during_a_queue_outage_tries_again_next_cycle(engine, clock):
    engine.queue.down = True
    with pytest.raises(QueueUnavailable):
        accept(engine, rp_limit_alert())
    clock.now += REQUEUE_GRACE
    assert engine.requeue_unprocessed() == 0
    engine.queue.down = False
    clock.now += REQUEUE_GRACE
    assert engine.requeue_unprocessed() == 1


def test_a_retry_after_a_failed_send_queues_at_once(engine):
    engine.queue.down = True
    with pytest.raises(QueueUnavailable):
        accept(engine, rp_limit_alert())
    engine.queue.down = False
    assert accept(engine, rp_limit_alert()).duplicate  # the sender's retry
    assert len(engine.queue) == 1, "the recorded signal is sent now, not after the sweep's wait"
    engine.queue.drain(engine.handle)
    assert len(engine.incidents.open_incidents()) == 1


def test_the_sweep_gives_up_on_a_signal_that_never_gets_processed(engine, clock, caplog):
    signal = rp_limit_alert()
    accept(engine, signal)
    ids = set()
    for _ in range(MAX_REQUEUES):
        engine.queue.drain(lambda message: ids.add(message.message_id))  # lost every time
        clock.now += REQUEUE_GRACE
        assert engine.requeue_unprocessed() == 1
    engine.queue.drain(lambda message: ids.add(message.message_id))
    assert len(ids) == MAX_REQUEUES + 1, "each re-send has its own message id"
    clock.now += REQUEUE_GRACE
    with caplog.at_level(logging.ERROR):
        assert engine.requeue_unprocessed() == 0
    assert "never processed" in caplog.text
    assert _state(engine, signal.dedup_key) == "abandoned"
    engine.handle(IngestMessage(signal.dedup_key))
    assert engine.incidents.open_incidents() == []


def test_a_signal_with_huge_extras_is_recorded_without_them(engine):
    payload = backup_alert_payload("erp-app-05")
    payload["data"]["alertContext"]["extendedInfo"]["possibleCauses"] = "é" * 100_000
    signal = parse_payload(payload)
    assert len(json.dumps(signal.to_dict())) > MAX_DOCUMENT_CHARS
    accept(engine, signal)
    engine.queue.drain(engine.handle)
    [incident] = engine.incidents.open_incidents()
    assert incident["vms"] == ["erp-app-05"]


def test_inline_ingest_leaves_nothing_for_the_sweep(engine, clock):
    signal = rp_limit_alert()
    assert engine.ingest(signal).incident_id
    assert _state(engine, signal.dedup_key) == "processed"
    clock.now += REQUEUE_GRACE
    assert engine.requeue_unprocessed() == 0
    assert engine.ingest(signal).duplicate


def test_a_failed_processing_stays_recorded_for_the_sweep(engine, clock):
    signal = rp_limit_alert()
    accept(engine, signal)

    def teams_down(view):
        raise RuntimeError("Teams is down")

    engine.notifier.post = teams_down
    with pytest.raises(RuntimeError, match="Teams is down"):
        engine.queue.drain(engine.handle)
    assert _state(engine, signal.dedup_key) == "accepted"
    del engine.notifier.post
    clock.now += REQUEUE_GRACE + timedelta(seconds=1)
    assert engine.requeue_unprocessed() == 1


def test_an_unknown_message_or_an_unreadable_record_is_refused(engine, caplog):
    with pytest.raises(QueueError):
        engine.handle("run step 1")  # type: ignore[arg-type]
    signal = rp_limit_alert()
    accept(engine, signal)
    engine.store.update(SEEN, signal.dedup_key[:2], signal.dedup_key,
                        lambda doc: {**doc, "signal": {"source": "carrier-pigeon"}})  # fmt: skip
    with caplog.at_level(logging.ERROR):
        engine.queue.drain(engine.handle)
    assert "cannot be read" in caplog.text
    assert _state(engine, signal.dedup_key) == "abandoned"
    assert engine.incidents.open_incidents() == []


def test_a_signal_recorded_under_an_older_dedup_rule_is_settled_where_it_was_recorded(engine):
    """An upgrade that changes how dedup keys are computed must not strand recorded signals."""
    signal = rp_limit_alert()
    accept(engine, signal)
    [message] = _sent(engine)
    old_key = "0f" + "0" * 30  # what an older rule called this signal
    record = engine.store.get(SEEN, signal.dedup_key[:2], signal.dedup_key)
    engine.store.insert(SEEN, old_key[:2], old_key, record.data)

    engine.handle(IngestMessage(old_key, 0, message.session))
    assert _state(engine, old_key) == "processed"
    assert len(engine.incidents.open_incidents()) == 1
    resent = engine.requeue_unprocessed(older_than=timedelta(0))
    assert resent == 1, "only the copy under today's key, never processed, is sent again"


def _sent(engine: Engine) -> list[Message]:
    messages: list[Message] = []
    engine.queue.drain(messages.append)
    return messages
