"""Action-group webhook for Azure Monitor alerts (common alert schema)."""

from __future__ import annotations

import azure.functions as func

from functions.http import headers_of, to_response
from remediation.webhooks import handle_alert

bp = func.Blueprint()


@bp.function_name("alerts")
@bp.route(route="alerts", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
async def alerts(req: func.HttpRequest) -> func.HttpResponse:
    from wiring.services import services

    app = services()
    secret = app.settings.get("ALERTS_SHARED_SECRET")
    reply = await handle_alert(
        req.get_body(), headers_of(req), app.engine.accept, secret, dict(req.params)
    )
    return to_response(reply)
