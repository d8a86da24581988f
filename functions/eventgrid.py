"""Event Grid: the trigger for custom topics, and webhook delivery with its handshakes."""

from __future__ import annotations

import logging

import azure.functions as func

from functions.http import headers_of, to_response
from remediation.webhooks import handle_eventgrid

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("eventgrid_webhook")
@bp.route(route="eventgrid", methods=["POST", "OPTIONS"], auth_level=func.AuthLevel.FUNCTION)
async def eventgrid_webhook(req: func.HttpRequest) -> func.HttpResponse:
    from wiring.services import services

    reply = await handle_eventgrid(
        req.method, req.get_body(), headers_of(req), services().engine.accept
    )
    return to_response(reply)


@bp.function_name("eventgrid_trigger")
@bp.event_grid_trigger(arg_name="event")
async def eventgrid_trigger(event: func.EventGridEvent) -> None:
    from remediation.signals import SignalError, signals_from_payload
    from wiring.services import services

    envelope = {
        "id": event.id,
        "topic": event.topic,
        "subject": event.subject,
        "eventType": event.event_type,
        "eventTime": event.event_time.isoformat() if event.event_time else None,
        "dataVersion": event.data_version,
        "data": event.get_json(),
    }
    try:
        signals = signals_from_payload(envelope)
    except SignalError as exc:
        log.warning("event %s ignored: %s", event.id, exc)
        return
    for signal in signals:  # a failed send raises, so Event Grid delivers the event again
        await services().engine.accept(signal)
