"""A Bot Connector (REST v3) for the dev team: what the bot calls, answered like Teams.

New channel thread (`POST /v3/conversations`), send and reply, and edit in place
(`PUT .../activities/{id}`); each call must carry a bearer token the bot obtained through its
own client-credentials flow (`token_check` says whether the token endpoint issued it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from devtools.localhost.devchat.channel import DevChannel, UnknownConversation
from remediation.jsonbody import BadJson, loads

log = logging.getLogger("devtools.localhost.devchat")

TokenCheck = Callable[[str | None], bool]


class DevConnector:
    def __init__(self, channel: DevChannel, token_check: TokenCheck) -> None:
        self._channel = channel
        self._token_check = token_check

    def routes(self, prefix: str) -> list[web.RouteDef]:
        activities = prefix + "/v3/conversations/{conversation}/activities"
        return [
            web.post(prefix + "/v3/conversations", self._create),
            web.post(activities, self._send),
            web.post(activities + "/{activity}", self._send),
            web.put(activities + "/{activity}", self._update),
        ]

    async def _create(self, request: web.Request) -> web.Response:
        body, refused = await self._read(request)
        if refused:
            return refused
        channel_id = ((body.get("channelData") or {}).get("channel") or {}).get("id")
        if channel_id != self._channel.channel["id"]:
            return _error(403, "BotNotInConversationRoster", f"bot is not in channel {channel_id}")
        activity = body.get("activity")
        if not isinstance(activity, dict):
            return _error(400, "BadArgument", "the new conversation needs an activity")
        root = self._channel.new_thread(activity)
        thread_id = root["conversationId"]
        log.info("dev connector: new thread %s", thread_id)
        return web.json_response({"id": thread_id, "activityId": root["id"]}, status=201)

    async def _send(self, request: web.Request) -> web.Response:
        activity, refused = await self._read(request)
        if refused:
            return refused
        reply_to = request.match_info.get("activity") or activity.get("replyToId")
        try:
            sent = self._channel.add(
                request.match_info["conversation"], {**activity, "id": None, "replyToId": reply_to}
            )
        except UnknownConversation as exc:
            return _error(404, "ConversationNotFound", str(exc))
        return web.json_response({"id": sent["id"]}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        activity, refused = await self._read(request)
        if refused:
            return refused
        activity_id = request.match_info["activity"]
        try:
            self._channel.edit(request.match_info["conversation"], activity_id, activity)
        except UnknownConversation as exc:
            return _error(404, "ConversationNotFound", str(exc))
        return web.json_response({"id": activity_id})

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """The JSON body, or the refusal to answer with (bad token, not a JSON object)."""
        if not self._token_check(request.headers.get("Authorization")):
            return {}, _error(401, "Unauthorized", "missing or unknown bearer token")
        try:
            body = loads(await request.read())
        except BadJson:
            body = None
        if not isinstance(body, dict):
            return {}, _error(400, "BadArgument", "the body must be a JSON object")
        return body, None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
