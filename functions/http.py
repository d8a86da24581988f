"""Translation between func.HttpRequest/HttpResponse and the core's plain replies."""

from __future__ import annotations

import azure.functions as func

from remediation.webhooks import Reply


def to_response(reply: Reply) -> func.HttpResponse:
    return func.HttpResponse(
        body=reply.json_bytes(),
        status_code=reply.status,
        headers=reply.headers,
        mimetype="application/json" if reply.body is not None else None,
    )


def headers_of(req: func.HttpRequest) -> dict[str, str]:
    return dict(req.headers.items())
