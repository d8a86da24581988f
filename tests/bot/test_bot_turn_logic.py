"""Handler-facing logic in process with botbuilder's TestAdapter, and activity -> Turn mapping."""

import asyncio

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes

from bot.activity import BadActivity, parse_activity, turn_from_activity
from bot.adapter import turn_logic
from bot.model import Turn, invoke_card_response, invoke_error_response, reply_text
from tests.botkit.activities import sample
from tests.botkit.servers import run_async

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": []}


async def echo(turn: Turn):
    if turn.kind == "message":
        await turn.send(reply_text(f"echo: {turn.text}"))
        return None
    if turn.trigger == "automatic":
        return invoke_card_response(CARD)
    return invoke_error_response(403, "NotApprover", f"{turn.user_aad_object_id} may not approve")


@run_async
async def test_replies_reach_the_sdk_pipeline():
    adapter = TestAdapter(turn_logic(echo))
    await adapter.receive_activity(Activity().deserialize(sample("message_channel")))
    [reply] = adapter.activity_buffer
    assert reply.type == ActivityTypes.message
    assert reply.text.startswith("echo: ")
    assert reply.reply_to_id == "1761900000001"


@pytest.mark.parametrize(
    "trigger, status_code", [("automatic", 200), ("manual", 403)], ids=["refresh", "click"]
)
@run_async
async def test_invoke_responses_become_sdk_invoke_response_activities(trigger, status_code):
    adapter = TestAdapter(turn_logic(echo))
    invoke = sample("invoke_action_execute")
    invoke["value"]["trigger"] = trigger
    await adapter.receive_activity(Activity().deserialize(invoke))
    [response] = adapter.activity_buffer
    assert response.type == ActivityTypes.invoke_response
    assert response.value.status == 200
    assert response.value.body["statusCode"] == status_code


def test_bot_mention_is_removed_but_other_mentions_stay():
    activity = sample("message_channel", text="<at>Remediation</at> ask <at>Sam</at> about vm-1")
    activity["entities"].append(
        {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam", "name": "Sam"}}
    )
    assert turn_from_activity(activity).text == "ask <at>Sam</at> about vm-1"


def test_personal_chat_message_has_no_team():
    activity = sample(
        "message_channel",
        conversation={"id": "a:1personal", "conversationType": "personal", "tenantId": "t-1"},
        channelData={"tenant": {"id": "t-1"}},
        entities=None,
        text="status",
    )
    turn = turn_from_activity(activity)
    assert (turn.text, turn.conversation_type, turn.team_id, turn.tenant_id) == (
        "status",
        "personal",
        None,
        "t-1",
    )


def test_unknown_activity_types_are_other():
    turn = turn_from_activity(sample("message_channel", type="messageReaction"))
    assert turn.kind == "other"
    assert turn_from_activity(sample("installation_update_add", action="weird")).kind == "other"


def test_detached_turn_cannot_send():
    turn = turn_from_activity(sample("message_channel"))
    with pytest.raises(RuntimeError, match="detached"):
        asyncio.run(turn.send(reply_text("x")))


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"", "not valid JSON"),
        (b'"a string"', "not a JSON object"),
        (b'{"type": 5}', "'type'"),
        (b'{"type": "message", "serviceUrl": "u", "channelId": "c", "conversation": {}}', "conv"),
        (b'{"type":"message","serviceUrl":"u","channelId":"c","conversation":{"id":1}}', "conv"),
        (b'{"type":"message","serviceUrl":"u","channelId":"c","conversation":{"id":"1"}}', "recip"),
    ],
)
def test_parse_activity_names_what_is_wrong(body, reason):
    with pytest.raises(BadActivity, match=reason):
        parse_activity(body)
