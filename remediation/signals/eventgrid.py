"""Event Grid schema events and CloudEvents 1.0 whose `data` is a payload we understand (a
custom topic carrying alerts, migration items, jobs or rows; a Resource Notifications snapshot).
Subscription validation events are not signals: they raise ValidationHandshake."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from remediation.signals.model import Signal, SignalError
from remediation.signals.resource_event import EventHeader, ResourceEvent, is_system_event
from remediation.signals.wrapper import DictWrapper, str_field, text_field

VALIDATION_EVENT_TYPE = "Microsoft.EventGrid.SubscriptionValidationEvent"
MAX_DATA_BASE64 = 1024 * 1024

DataParser = Callable[[object], list[Signal]]


class ValidationHandshake(SignalError):
    """An Event Grid subscription validation event: answer {"validationResponse": code}."""

    def __init__(self, code: str, url: str | None = None) -> None:
        super().__init__(f"Event Grid subscription validation handshake (code {code})")
        self.code = code
        self.url = url


class _Envelope(DictWrapper):
    """What both schemas share: an id, a type, a subject, a time and the data."""

    type_key = ""
    time_key = ""
    origin_key = ""
    schema = ""

    @property
    def id(self) -> str | None:
        return self._text("id")

    subject = str_field("subject")

    @property
    def data(self) -> Any:
        return self._value("data")

    @property
    def event_type_name(self) -> str | None:
        return self._str(self.type_key)

    @property
    def event_time(self) -> datetime | None:
        return self._time(self.time_key)

    @property
    def origin(self) -> str | None:
        return self._str(self.origin_key)

    @property
    def payload(self) -> Any:
        return self.data

    def header(self, event_type: str | None) -> EventHeader:
        return EventHeader(event_type, self.id, self.subject, self.origin, self.event_time)

    def envelope(self, header: EventHeader) -> dict[str, Any]:
        """What a signal records about the event that carried it."""
        fields = {
            "schema": self.schema,
            "id": header.id,
            "type": header.type,
            "subject": header.subject,
            self.origin_key: header.origin,
            "time": header.time.isoformat() if header.time else None,
        }
        return {k: v for k, v in fields.items() if v}

    def signals(self, parse_data: DataParser) -> list[Signal]:
        event_type = self.event_type_name
        if event_type == VALIDATION_EVENT_TYPE:
            raise ValidationHandshake(*validation_details(self))
        payload = self.payload
        if payload is None:
            raise SignalError(f"{self.schema} event {self.id!r} has no data")
        if isinstance(payload, Mapping) and is_envelope(payload):
            raise SignalError(f"{self.schema} event {self.id!r} wraps another event envelope")
        if isinstance(payload, Mapping) and isinstance(payload.get("resourceInfo"), Mapping):
            payload = payload["resourceInfo"]
        try:
            inner = parse_data(payload)
        except ValidationHandshake:
            raise
        except SignalError as exc:
            if not is_system_event(event_type):
                raise SignalError(f"{self.schema} event {event_type!r}: {exc}") from exc
            inner = None
        header = self.header(event_type)
        if inner is None:
            inner = [ResourceEvent(header, self.data).to_signal()]
        envelope = self.envelope(header)
        event_time = header.time
        for signal in inner:
            # The parser's signals are new and their extras their own: the envelope is added
            # in place, not by building each signal again.
            signal.extra["envelope"] = envelope
        return [
            dataclasses.replace(signal, time=event_time)
            if signal.time is None and event_time is not None
            else signal
            for signal in inner
        ]


class EventGridEvent(_Envelope):
    type_key, time_key, origin_key, schema = "eventType", "eventTime", "topic", "eventgrid"

    @property
    def event_type(self) -> str | None:
        return self.event_type_name

    @property
    def topic(self) -> str | None:
        return self.origin

    data_version = text_field("dataVersion")
    metadata_version = text_field("metadataVersion")


class CloudEvent(_Envelope):
    type_key, time_key, origin_key, schema = "type", "time", "source", "cloudevents"

    specversion = text_field("specversion")

    @property
    def type(self) -> str | None:
        return self.event_type_name

    @property
    def source(self) -> str | None:
        return self.origin

    @property
    def time(self) -> datetime | None:
        return self.event_time

    datacontenttype = str_field("datacontenttype")

    @property
    def data_base64(self) -> str | None:
        return self._str("data_base64")

    @property
    def payload(self) -> Any:
        """`data`, or `data_base64` decoded as UTF-8 JSON (or text when it is not JSON)."""
        encoded = self.data_base64
        if self.data is not None or encoded is None:
            return self.data
        if len(encoded) > MAX_DATA_BASE64:
            raise SignalError(f"cloudevents data_base64 is larger than {MAX_DATA_BASE64} bytes")
        try:
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise SignalError("cloudevents data_base64 is not base64 UTF-8 text") from None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text


def is_eventgrid_event(data: Mapping[str, Any]) -> bool:
    return "eventType" in data and "data" in data and "id" in data


def is_cloudevent(data: Mapping[str, Any]) -> bool:
    return "specversion" in data


def is_envelope(data: Mapping[str, Any]) -> bool:
    return is_eventgrid_event(data) or is_cloudevent(data)


def wrap(data: Mapping[str, Any]) -> _Envelope:
    return CloudEvent(data) if is_cloudevent(data) else EventGridEvent(data)


def validation_details(event: _Envelope) -> tuple[str, str | None]:
    data = event.data
    code = data.get("validationCode") if isinstance(data, Mapping) else None
    if not isinstance(code, str) or not code:
        raise SignalError("subscription validation event without a string data.validationCode")
    url = data.get("validationUrl")
    return code, url if isinstance(url, str) else None


def is_validation_event(value: object) -> bool:
    """True for a validation event, or a batch whose first event is one (EG sends one alone)."""
    if isinstance(value, list):
        value = value[0] if value else None
    return (
        isinstance(value, Mapping)
        and is_eventgrid_event(value)
        and value.get("eventType") == VALIDATION_EVENT_TYPE
    )
