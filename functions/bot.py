"""Bot Framework endpoint: POST /api/messages.

Anonymous at the Functions level because Azure Bot Service cannot send a function key; the
Bot Framework token in the Authorization header is always validated by the adapter, which
answers 400 for malformed activities and 401 for missing or invalid tokens.
"""

from __future__ import annotations

import json
import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("messages")
@bp.route(route="messages", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
async def messages(req: func.HttpRequest) -> func.HttpResponse:
    from wiring.bot import handler_for
    from wiring.services import services

    try:
        handler = handler_for(services())
    except (RuntimeError, ValueError) as exc:  # bot settings missing or invalid
        log.error("%s", exc)
        return _json(503, {"error": "ServiceUnavailable", "reason": str(exc)})
    runtime = handler.notifier.runtime
    result = await runtime.process(req.get_body(), req.headers.get("Authorization"), handler)
    return _json(result.status, result.body)


def _json(status: int, body: dict | None) -> func.HttpResponse:
    if body is None:
        return func.HttpResponse(status_code=status)
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")
