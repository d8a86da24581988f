"""Service Bus queue trigger: one playbook step or recorded signal per message, sessions per
resource."""

from __future__ import annotations

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("remediation_step")
@bp.service_bus_queue_trigger(
    arg_name="msg",
    queue_name="%REMEDIATION_QUEUE_NAME%",
    connection="ServiceBusConnection",
    is_sessions_enabled=True,
)
def remediation_step(msg: func.ServiceBusMessage) -> None:
    from remediation.queue.base import QueueError, parse_message
    from wiring.services import services

    try:
        message = parse_message(msg.get_body(), session_id=msg.session_id or "")
    except QueueError as exc:
        log.error("remediation message %s dropped: %s", msg.message_id, exc)
        return
    services().engine.handle(message)
