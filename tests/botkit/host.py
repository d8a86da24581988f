"""A minimal `/api/messages` endpoint around the adapter, standing in for the Functions glue."""

from __future__ import annotations

from aiohttp import web

from bot.endpoint import BotEndpoint
from bot.model import Handler


def messages_app(adapter: BotEndpoint, handler: Handler) -> web.Application:
    async def messages(request: web.Request) -> web.Response:
        result = await adapter.process(
            await request.read(), request.headers.get("Authorization"), handler
        )
        if result.body is None:
            return web.Response(status=result.status)
        return web.json_response(result.body, status=result.status)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app
