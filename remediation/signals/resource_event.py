"""Event Grid system events (any `Microsoft.*` event type) about a resource that is not one we
parse in full: Resource Notifications (resource snapshots, health availability changes),
resource group or subscription events
(`Microsoft.Resources.Resource{Write,Delete,Action}{Success,Failure,Cancel}`) and the events of
other services (a blob created in a storage account...).

They become one signal naming the resource, its service (Backup or Migrate, or None) and
what happened, so the scope filter can keep Backup and Migrate failures and record the rest
as out of scope, instead of the webhook refusing a well-formed event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from remediation.signals import service as services
from remediation.signals.arm_id import ArmId
from remediation.signals.build import make_signal
from remediation.signals.model import Signal, SignalError, SourceKind
from remediation.signals.wrapper import ArmResource, DictWrapper, str_field

SYSTEM_PREFIX = "microsoft."
AVAILABLE = ("available",)


class ResourceInfo(ArmResource):
    """`data.resourceInfo` of a Resource Notifications event: an ARM resource snapshot."""

    @property
    def properties(self) -> DictWrapper:
        return self._properties(DictWrapper)

    @property
    def target_resource_id(self) -> str | None:
        return self.properties._str("targetResourceId")

    @property
    def availability_state(self) -> str | None:
        return self.properties._str("availabilityState")


class ResourceEventData(DictWrapper):
    resource_uri = str_field("resourceUri")
    resource_provider = str_field("resourceProvider")
    operation_name = str_field("operationName")
    status = str_field("status")

    @property
    def resource_info(self) -> ResourceInfo | None:
        return self._wrap(ResourceInfo, "resourceInfo")


class EventHeader(NamedTuple):
    """What an event's envelope (either schema) says about it, read once."""

    type: str | None
    id: str | None
    subject: str | None
    origin: str | None  # the topic (Event Grid schema) or the source (CloudEvents)
    time: datetime | None


class ResourceEvent:
    """System event data with what its envelope says: type, subject, id, time."""

    def __init__(self, header: EventHeader, data: object) -> None:
        self.event_type: str = header.type or ""
        self.subject = header.subject
        self.origin = header.origin
        self.event_id = header.id
        self.event_time = header.time
        if not isinstance(data, Mapping):
            raise SignalError(f"{self.event_type} event without an object data")
        self.data = ResourceEventData(data, "$.data")

    def to_signal(self) -> Signal:
        data, info = self.data, self.data.resource_info
        candidates = (
            (info.target_resource_id or info.id) if info else None,
            data.resource_uri,
            self.subject,
            self.origin,  # the topic: the resource a service event (a blob created) comes from
        )
        resource = next((c for c in candidates if ArmId.parse(c)), None)
        arm = ArmId.parse(resource)
        if arm is None or resource is None:
            raise SignalError(f"{self.event_type} event names no ARM resource")
        state = (info.availability_state if info else None) or data.status
        what = data.operation_name or (info.type if info else None) or "resource"
        return make_signal(
            SourceKind.RESOURCE_EVENT,
            f"{self.event_type}: {what} {state or 'changed'} on {resource}",
            resource_id=resource,
            vm=arm.get("virtualMachines"),
            time=self.event_time,
            resolved=(state or "").lower() in AVAILABLE,
            source_id=self.event_id,
            service=services.of_resource(resource),
            status=state,
            extra={"event_type": self.event_type},
        )


def is_system_event(event_type: str | None) -> bool:
    return (event_type or "").lower().startswith(SYSTEM_PREFIX)
