"""Queues: in-process scheduling and dedup; Service Bus messages at the SDK boundary."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from azure.servicebus import ServiceBusMessage

from remediation.queue.base import (
    MAX_ID_CHARS,
    IngestMessage,
    QueueError,
    StepMessage,
    bounded_id,
    parse_message,
)
from remediation.queue.memory import InProcessQueue
from remediation.queue.servicebus import ServiceBusQueue, settle_failure, to_servicebus


def test_in_process_queue_orders_by_due_time_and_drops_resent_ids():
    queue, seen = InProcessQueue(), []
    queue.send(StepMessage("run-a", 1, delay_seconds=300))
    queue.send(StepMessage("run-b", 0))
    queue.send(StepMessage("run-b", 0))  # the same message id again
    assert queue.drain(seen.append) == 2
    assert [m.run_id for m in seen] == ["run-b", "run-a"]
    assert queue.now() - InProcessQueue().now() >= 299  # the wait was skipped, not slept


def test_step_message_round_trip_and_rejects_garbage():
    message = StepMessage("run-1", 2, 3, session_id="/subscriptions/s/vm1")
    back = StepMessage.from_json(message.to_json(), session_id=message.session_id)
    assert back == message
    for body in (b"not json", b"[]", b'{"run_id": 1, "step": 0}', b'{"step": 0}'):
        try:
            StepMessage.from_json(body)
        except QueueError:
            continue
        raise AssertionError(f"{body!r} was accepted")


def test_both_kinds_round_trip_and_are_told_apart():
    step = StepMessage("run-1", 2, 3, session_id="vm1", extra={"note": "kept"})
    ingest = IngestMessage("0123456789abcdef0123456789abcdef", 2, session_id="vm1")
    assert parse_message(step.to_json(), "vm1") == step
    assert parse_message(ingest.to_json(), "vm1") == ingest
    assert ingest.message_id != IngestMessage(ingest.dedup_key, 3).message_id
    legacy = b'{"run_id": "run-1", "step": 2, "attempt": 3, "note": "kept"}'
    assert parse_message(legacy, "vm1") == step, "a step sent before `kind` existed"


def test_unreadable_messages_of_either_kind_raise_queue_error():
    for body in (
        b'{"kind": "teleport", "run_id": "r", "step": 0}',
        b'{"kind": "ingest"}',
        b'{"kind": "ingest", "dedup_key": 7}',
        b'{"kind": "ingest", "dedup_key": "k", "attempt": "1"}',
        b'{"kind": "step", "run_id": "r", "step": true}',
        b"[1]",
        b"\xff",
    ):
        try:
            parse_message(body)
        except QueueError:
            continue
        raise AssertionError(f"{body!r} was accepted")


def test_session_ids_fit_service_bus_and_keep_one_resource_one_session():
    item = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v" + (
        "/replicationFabrics/f/replicationProtectionContainers/c/replicationMigrationItems/i" * 2
    )
    assert len(item) > MAX_ID_CHARS
    bounded = bounded_id(item)
    assert len(bounded) == MAX_ID_CHARS and bounded == bounded_id(item)
    assert bounded != bounded_id(item[:-1] + "j")
    assert bounded_id("vm1") == "vm1"
    sb = to_servicebus(IngestMessage("k" * 32, session_id=item))
    assert sb.session_id == bounded and sb.subject == "ingest"
    assert parse_message(str(sb), sb.session_id).dedup_key == "k" * 32


def test_servicebus_message_carries_session_id_and_schedule():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    step = StepMessage("run-1", 4, 2, session_id="/subscriptions/s/vms/vm1", delay_seconds=90)
    sb = to_servicebus(step, now)
    assert isinstance(sb, ServiceBusMessage)
    assert sb.session_id == "/subscriptions/s/vms/vm1"
    assert sb.message_id == "run-1:4:2"
    assert sb.scheduled_enqueue_time_utc == now + timedelta(seconds=90)
    assert StepMessage.from_json(str(sb), sb.session_id).step == 4


class _Sender:
    def __init__(self):
        self.sent = []

    def send_messages(self, message):
        self.sent.append(message)


class _Receiver:
    def __init__(self):
        self.calls = []

    def abandon_message(self, message):
        self.calls.append(("abandon", None))

    def dead_letter_message(self, message, reason, error_description):
        self.calls.append(("dead-letter", error_description))


class _Received:
    def __init__(self, delivery_count):
        self.delivery_count = delivery_count


def test_servicebus_queue_sends_through_one_sender():
    created = []

    def factory():
        created.append(_Sender())
        return created[-1]

    queue = ServiceBusQueue(factory)
    queue.send(StepMessage("run-1", 0, session_id="vm1"))
    queue.send(StepMessage("run-1", 1, session_id="vm1"))
    assert len(created) == 1
    assert [m.message_id for m in created[0].sent] == ["run-1:0:0", "run-1:1:0"]


def test_servicebus_async_sends_from_the_loop_share_one_sender_one_at_a_time():
    """The webhooks send from the event loop through worker threads: one sender, never two
    sends inside it at once (the SDK does not promise a thread-safe sender)."""
    created, inside, overlaps = [], [], []

    class SlowSender(_Sender):
        def send_messages(self, message):
            inside.append(1)
            overlaps.append(len(inside) > 1)
            time.sleep(0.01)
            super().send_messages(message)
            inside.pop()

    def factory():
        created.append(SlowSender())
        return created[-1]

    queue = ServiceBusQueue(factory)

    async def send_all():
        await asyncio.gather(*(queue.asend(IngestMessage(f"key-{n}")) for n in range(8)))

    asyncio.run(send_all())
    assert len(created) == 1 and not any(overlaps)
    assert sorted(m.message_id for m in created[0].sent) == [f"ingest:key-{n}:0" for n in range(8)]


def test_failure_is_abandoned_then_dead_lettered_with_reason():
    receiver = _Receiver()
    assert settle_failure(receiver, _Received(1), "boom") == "abandoned"
    assert settle_failure(receiver, _Received(4), "ARM kept answering 503") == "dead-lettered"
    assert receiver.calls[-1] == ("dead-letter", "ARM kept answering 503")


def test_a_consumer_on_an_event_loop_gets_messages_sent_from_other_threads_when_due():
    queue = InProcessQueue()
    later = StepMessage("run-1", 1, session_id="vm1", delay_seconds=0.3)
    now = IngestMessage("key-1")

    async def consume() -> list[tuple[str, float]]:
        started, got = time.monotonic(), []
        sender = threading.Timer(0.1, lambda: [queue.send(m) for m in (later, now, now)])
        sender.start()
        for _ in range(2):
            message = await asyncio.wait_for(queue.next_due(), timeout=5)
            got.append((message.message_id, time.monotonic() - started))
        sender.join()
        return got

    (first, at_first), (second, at_second) = asyncio.run(consume())
    assert (first, second) == ("ingest:key-1:0", "run-1:1:0")
    assert 0.09 < at_first < 0.25, "woken by the send, not by polling"
    assert at_second >= 0.39, "a delayed message waits for its time"
    assert len(queue) == 0, "the repeated send was dropped as a duplicate"
