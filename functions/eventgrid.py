"""Event Grid: the trigger for custom topics, and webhook delivery with its handshakes.

Who may deliver: the webhook checks ALERTS_SHARED_SECRET (in the subscription's URL as
`?secret=`, or in a secret delivery property `x-alert-secret`) on top of its function key.
The trigger's endpoint, /runtime/webhooks/eventgrid, is the Functions host's own: it admits
only a request carrying the host's `eventgrid_extension` system key (`?code=`), before this
code runs, so Event Grid subscriptions to the trigger use that key in their URL.
"""

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

    app = services()
    reply = await handle_eventgrid(
        req.method, req.get_body(), headers_of(req), app.engine.accept,
        app.settings.get("ALERTS_SHARED_SECRET"), dict(req.params),
    )  # fmt: skip
    return to_response(reply)


@bp.function_name("eventgrid_trigger")
@bp.event_grid_trigger(arg_name="event")
async def eventgrid_trigger(event: func.EventGridEvent) -> None:
    from remediation.jsonbody import BadJson, check
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
        check(envelope)  # decoded by the runtime: the text may still not encode
        signals = signals_from_payload(envelope)
    except (BadJson, SignalError) as exc:
        log.warning("event %s ignored: %s", event.id, exc)
        return
    for signal in signals:  # a failed send raises, so Event Grid delivers the event again
        await services().engine.accept(signal)
