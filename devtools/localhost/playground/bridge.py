"""The dev-only route between the Agents Playground and `/api/messages` (loopback only).

The Playground sends activities with no token at all (it asks the real Entra for one only
when given credentials), so `/api/messages` refuses them, as it must. This route accepts an
activity only when its serviceUrl is the Playground's own loopback connector, signs it with
the dev issuer's key for that serviceUrl, and posts it to `/api/messages`, which validates it
exactly as it validates the Bot Connector in Azure. A card click from the Playground carries
no `value.trigger`, which the bot reads as an automatic refresh; Teams sends "manual" for a
click, so the bridge supplies it for the Playground's `adaptiveCard/action` invokes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from aiohttp import web

from devtools.localhost.devchat.botframework import BotFrameworkIssuer, post_signed

log = logging.getLogger("devtools.localhost.playground")

CARD_ACTION = "adaptiveCard/action"
MESSAGES_PATH = "/api/messages"


def with_click_trigger(activity: dict[str, Any]) -> dict[str, Any]:
    """A card action invoke without a trigger gets Teams' trigger for a click."""
    value = activity.get("value")
    if (
        activity.get("type") == "invoke"
        and activity.get("name") == CARD_ACTION
        and isinstance(value, dict)
        and "trigger" not in value
    ):
        return {**activity, "value": {**value, "trigger": "manual"}}
    return activity


class PlaygroundBridge:
    """Serves POST `MESSAGES_PATH` for the Playground whose connector is `service_url`."""

    def __init__(self, issuer: BotFrameworkIssuer, messages_url: str, service_url: str) -> None:
        self._issuer = issuer
        self._messages_url = messages_url
        self.service_url = service_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        """Mount it under an app that answers loopback clients only."""
        app = web.Application()
        app.router.add_post(MESSAGES_PATH, self._relay)
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _start(self, _: web.Application) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))

    async def _stop(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def _relay(self, request: web.Request) -> web.Response:
        try:
            activity = json.loads(await request.read())
        except (ValueError, RecursionError):  # RecursionError: nested too deep to decode
            return _refuse(400, "the body is not JSON")
        if not isinstance(activity, dict):
            return _refuse(400, "the body is not a JSON object")
        service_url = activity.get("serviceUrl")
        if not isinstance(service_url, str) or service_url.rstrip("/") != self.service_url:
            return _refuse(403, f"serviceUrl is not the Playground's connector {self.service_url}")
        assert self._session is not None, "the bridge has not started"
        status, body = await post_signed(
            self._session, self._issuer, self._messages_url, with_click_trigger(activity)
        )
        if status >= 400:
            log.warning(
                "the bot answered %s to a Playground %s: %s", status, activity.get("type"), body
            )
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("Playground bridge refused a request: %s", reason)
    error = "Forbidden" if status == 403 else "BadRequest"
    return web.json_response({"error": error, "reason": reason}, status=status)
