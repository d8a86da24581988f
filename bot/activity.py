"""Inbound Bot Framework activity JSON -> the neutral `Turn` (wire format only, no SDK).

Teams specifics handled here: the team/channel/tenant ids live in `channelData`, the bot's own
@mention is part of `text`, and a bot install arrives either as `installationUpdate` or as a
`conversationUpdate` that adds/removes the bot itself.
"""

from __future__ import annotations

from typing import Any

from bot.model import ConversationRef, InstallAction, Turn, TurnKind
from remediation.jsonbody import BadJson, loads

_INSTALL_ACTIONS: dict[str, InstallAction] = {
    "add": "add",
    "add-upgrade": "add",
    "remove": "remove",
    # An upgrade removes the old version then adds the new one: the bot stays installed.
    "remove-upgrade": "upgrade",
}


class BadActivity(ValueError):
    """The request body is not a Bot Framework activity this bot can process: answer 400."""


def parse_activity(body: bytes | str) -> dict[str, Any]:
    """Decode and check the fields every later step relies on."""
    try:
        activity = loads(body)
    except BadJson as exc:  # not UTF-8 or JSON, unencodable text, nested too deep
        raise BadActivity(str(exc)) from exc
    if not isinstance(activity, dict):
        raise BadActivity("body is not a JSON object")
    for key in ("type", "serviceUrl", "channelId"):
        if not isinstance(activity.get(key), str) or not activity[key]:
            raise BadActivity(f"activity lacks {key!r}")
    for key in ("conversation", "recipient"):
        if not isinstance(activity.get(key), dict) or not isinstance(activity[key].get("id"), str):
            raise BadActivity(f"activity lacks {key}.id")
    return activity


def reference_from_activity(activity: dict[str, Any]) -> ConversationRef:
    channel_data = _obj(activity.get("channelData"))
    conversation = _obj(activity.get("conversation"))
    recipient = _obj(activity.get("recipient"))
    return ConversationRef(
        service_url=activity["serviceUrl"],
        conversation_id=conversation["id"],
        bot_id=recipient["id"],
        bot_name=recipient.get("name"),
        channel_id=activity.get("channelId") or "msteams",
        tenant_id=_obj(channel_data.get("tenant")).get("id") or conversation.get("tenantId"),
        conversation_type=conversation.get("conversationType"),
        team_id=_obj(channel_data.get("team")).get("id"),
        teams_channel_id=_obj(channel_data.get("channel")).get("id"),
    )


def turn_from_activity(activity: dict[str, Any]) -> Turn:
    """The neutral view of `activity` (not yet able to send: the adapter binds `io`)."""
    kind, install_action = _kind(activity)
    sender = _obj(activity.get("from"))
    value = activity.get("value")
    action = _obj(_obj(value).get("action"))
    return Turn(
        kind=kind,
        activity_type=activity["type"],
        reference=reference_from_activity(activity),
        activity_id=activity.get("id"),
        text=_text_without_bot_mention(activity),
        user_id=sender.get("id"),
        user_name=sender.get("name"),
        user_aad_object_id=sender.get("aadObjectId"),
        invoke_name=activity.get("name") if kind == "invoke" else None,
        verb=action.get("verb"),
        action_data=_obj(action.get("data")),
        trigger=_obj(value).get("trigger"),
        reply_to_id=activity.get("replyToId"),
        install_action=install_action,
        event_type=_obj(activity.get("channelData")).get("eventType"),
        value=value,
        locale=_str(activity.get("locale")),
        local_timezone=_str(activity.get("localTimezone")),
    )


def _kind(activity: dict[str, Any]) -> tuple[TurnKind, InstallAction | None]:
    kind = activity["type"]
    if kind == "message":
        return "message", None
    if kind == "invoke":
        return "invoke", None
    if kind == "installationUpdate":
        action = _INSTALL_ACTIONS.get(str(activity.get("action")))
        return ("installation", action) if action else ("other", None)
    if kind == "conversationUpdate":
        bot_id = activity["recipient"]["id"]
        if _names_member(activity.get("membersAdded"), bot_id):
            return "installation", "add"
        if _names_member(activity.get("membersRemoved"), bot_id):
            return "installation", "remove"
        return "conversation_update", None
    return "other", None


def _names_member(members: Any, member_id: str) -> bool:
    return isinstance(members, list) and any(_obj(m).get("id") == member_id for m in members)


def _text_without_bot_mention(activity: dict[str, Any]) -> str:
    text = activity.get("text") or ""
    if not isinstance(text, str):
        return ""
    bot_id = activity["recipient"]["id"]
    for entity in activity.get("entities") or ():
        entity = _obj(entity)
        mentioned = _obj(entity.get("mentioned"))
        if entity.get("type") == "mention" and mentioned.get("id") == bot_id:
            text = text.replace(str(entity.get("text") or ""), "")
    return text.strip()


def _str(value: Any) -> str | None:
    return value[:64] if isinstance(value, str) and value else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
