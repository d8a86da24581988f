"""Teams' side of `/api/messages`: the activities Teams sends to the bot, signed like Teams.

Installing the bot in the dev channel, a message from the dev user in the personal chat, and
an Action.Execute click on a card; each goes through the real endpoint with a Bot Framework
token for the dev connector's service URL, so the bot's own validation is exercised.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from devtools.localhost.devchat.botframework import BotFrameworkIssuer, post_signed
from devtools.localhost.devchat.channel import DevChannel

BOT_NAME = "Remediation"
CARD_ACTION = "adaptiveCard/action"


class TeamsSide:
    def __init__(
        self,
        issuer: BotFrameworkIssuer,
        channel: DevChannel,
        *,
        service_url: str,
        messages_url: str,
        tenant_id: str,
        user: dict[str, str],
    ) -> None:
        self._issuer = issuer
        self._channel = channel
        self.service_url = service_url
        self._messages_url = messages_url
        self._tenant = {"id": tenant_id}
        self._user = {
            "id": "29:dev-" + user["object_id"],
            "name": user["name"],
            "aadObjectId": user["object_id"],
        }
        self._bot = {"id": "28:" + issuer.app_id, "name": BOT_NAME}

    def installation(self) -> dict[str, Any]:
        """The bot added to the dev team, with the dev channel selected (installationUpdate)."""
        team, channel = self._channel.team, self._channel.channel
        return {
            **self._activity("installationUpdate", self._channel_conversation(team["id"])),
            "action": "add",
            "channelData": {
                "settings": {"selectedChannel": {"id": channel["id"]}},
                "channel": {"id": channel["id"]},
                "team": team,
                "tenant": self._tenant,
            },
        }

    def message(self, text: str) -> dict[str, Any]:
        """The dev user writing to the bot in their personal chat."""
        conversation = {
            "id": self._channel.chat_id,
            "conversationType": "personal",
            "tenantId": self._tenant["id"],
        }
        return {
            **self._activity("message", conversation),
            "text": text,
            "textFormat": "plain",
            "channelData": {"tenant": self._tenant},
        }

    def invoke(self, record: dict[str, Any], verb: str, data: dict[str, Any]) -> dict[str, Any]:
        """The dev user clicking an Action.Execute button on the message `record`."""
        if record["kind"] == "thread":
            conversation = self._channel_conversation(record["conversationId"])
            channel_data = {
                "channel": {"id": self._channel.channel["id"]},
                "team": {"id": self._channel.team["id"]},
                "tenant": self._tenant,
            }
        else:
            conversation = {"id": record["conversationId"], "conversationType": "personal",
                            "tenantId": self._tenant["id"]}  # fmt: skip
            channel_data = {"tenant": self._tenant}
        action = {"type": "Action.Execute", "verb": verb, "data": data}
        return {
            **self._activity("invoke", conversation),
            "name": CARD_ACTION,
            "replyToId": record["id"],
            "value": {"action": action, "trigger": "manual"},
            "channelData": channel_data,
        }

    async def post(
        self, session: aiohttp.ClientSession, activity: dict[str, Any]
    ) -> tuple[int, Any]:
        """POST to /api/messages with a fresh token; the status and the JSON body (or None)."""
        return await post_signed(session, self._issuer, self._messages_url, activity)

    def _activity(self, kind: str, conversation: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": kind,
            "id": self._channel.new_id(),
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "from": self._user,
            "recipient": self._bot,
            "conversation": conversation,
            "locale": "en-GB",
        }

    def _channel_conversation(self, conversation_id: str) -> dict[str, Any]:
        return {
            "id": conversation_id,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": self._tenant["id"],
        }
