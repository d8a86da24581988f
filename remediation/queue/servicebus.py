"""Azure Service Bus transport for the remediation queue.

One message per playbook step or recorded signal; the session id is the resource so one VM's
messages never run concurrently; waits and backoffs are scheduled messages; the message id
lets Service Bus duplicate detection drop a re-sent message. The Functions trigger settles messages;
`settle_failure` is for a worker that receives itself, dead-lettering with the reason after
the last attempt.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from remediation.queue.base import Message, bounded_id
from remediation.settings import Settings

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.servicebus import (
        ServiceBusMessage,
        ServiceBusReceivedMessage,
        ServiceBusReceiver,
        ServiceBusSender,
    )

MAX_DELIVERIES = 5
# A webhook waits on the send: a few quick retries, then QueueUnavailable and a 503 that the
# sender retries later (the signal is recorded and the timer's sweep sends it too).
CLIENT_RETRY = {"retry_total": 2, "retry_backoff_factor": 0.4, "retry_backoff_max": 4.0}


def to_servicebus(message: Message, now: datetime | None = None) -> ServiceBusMessage:
    """The SDK message for one step or signal, with its session, id and schedule."""
    from azure.servicebus import ServiceBusMessage

    sb = ServiceBusMessage(
        message.to_json(),
        content_type="application/json",
        session_id=bounded_id(message.session),
        message_id=message.message_id,
        subject=message.subject,
    )
    if message.delay_seconds > 0:
        moment = (now or datetime.now(UTC)) + timedelta(seconds=message.delay_seconds)
        sb.scheduled_enqueue_time_utc = moment
    return sb


class ServiceBusQueue:
    """Sends queue messages with a lazily created, reused sender.

    The SDK does not promise that a sender is thread-safe, and sync functions and `asend` call
    from several threads: one lock covers creating the sender and each send.
    """

    def __init__(self, sender_factory: Callable[[], ServiceBusSender]) -> None:
        self._sender_factory = sender_factory
        self._sender: ServiceBusSender | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, credential: TokenCredential) -> ServiceBusQueue:
        """The queue the settings name, reached with `credential` (the app's identity).

        SERVICEBUS_CUSTOM_ENDPOINT sends the AMQP connection elsewhere than the namespace's
        own host (a local stand-in, trusted through ARM_CA_BUNDLE); Azure needs neither.
        """
        namespace = settings.get("ServiceBusConnection__fullyQualifiedNamespace")
        queue_name = settings.get("REMEDIATION_QUEUE_NAME")
        options: dict[str, Any] = dict(CLIENT_RETRY)
        custom = settings.get("SERVICEBUS_CUSTOM_ENDPOINT")
        if custom:
            options["custom_endpoint_address"] = custom
            options["connection_verify"] = settings.get("ARM_CA_BUNDLE") or None

        def factory() -> ServiceBusSender:
            from azure.servicebus import ServiceBusClient, TransportType

            if custom:  # the SDK would otherwise assume AMQP over WebSockets
                options["transport_type"] = TransportType.Amqp
            client = ServiceBusClient(namespace, credential, **options)
            return client.get_queue_sender(queue_name)

        return cls(factory)

    def send(self, message: Message) -> None:
        with self._lock:
            if self._sender is None:
                self._sender = self._sender_factory()
            self._sender.send_messages(to_servicebus(message))

    async def asend(self, message: Message) -> None:
        """The sync sender on a worker thread, so the event loop never waits on the network."""
        await asyncio.to_thread(self.send, message)


def settle_failure(
    receiver: ServiceBusReceiver, received: ServiceBusReceivedMessage, reason: str
) -> str:
    """Abandon for another try, or dead-letter with the reason after the last delivery."""
    if (received.delivery_count or 0) + 1 >= MAX_DELIVERIES:
        receiver.dead_letter_message(
            received, reason="RemediationStepFailed", error_description=reason[:1024]
        )
        return "dead-lettered"
    receiver.abandon_message(received)
    return "abandoned"
