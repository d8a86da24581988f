"""`/api/messages` over real HTTP on loopback: auth, parsing, replies and invoke responses,
on each bot SDK (the `sdk` fixture)."""

import json

import pytest

from bot.model import Turn, invoke_card_response, reply_card
from tests.botkit.activities import BOT_APP_ID, sample
from tests.botkit.recorder import CARD, Recorder
from tests.botkit.servers import run_async
from tests.botkit.stack import TENANT_ID, bot_stack


@run_async
async def test_message_is_answered_with_a_threaded_reply_through_the_connector(sdk):
    bot = Recorder()
    async with bot_stack(bot, sdk) as stack:
        status, body = await stack.post(sample("message_channel", stack.connector.url))
        assert (status, body) == (200, None)
        [reply] = stack.connector.calls
    assert reply.kind == "reply"
    assert reply.conversation_id == "19:ops-channel@thread.tacv2;messageid=1761900000001"
    assert reply.activity_id == "1761900000001"
    assert reply.body["text"] == "echo: why did VM app-01 fail"
    assert reply.body["replyToId"] == "1761900000001"
    assert reply.body["from"]["id"] == f"28:{BOT_APP_ID}"
    assert reply.authorization.removeprefix("Bearer ") in stack.connector.tokens
    [turn] = bot.turns
    assert (turn.kind, turn.user_aad_object_id, turn.tenant_id) == (
        "message",
        "6f1c5b1e-2a4d-4c55-9d1e-0b9b8f0c1a01",
        TENANT_ID,
    )
    assert (turn.team_id, turn.teams_channel_id) == (
        "19:ops-team@thread.tacv2",
        "19:ops-channel@thread.tacv2",
    )


@run_async
async def test_action_execute_gets_the_card_in_the_http_response(sdk):
    bot = Recorder()
    async with bot_stack(bot, sdk) as stack:
        status, body = await stack.post(sample("invoke_action_execute", stack.connector.url))
        assert stack.connector.calls == []
    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": CARD,
    }
    [turn] = bot.turns
    assert (turn.verb, turn.action_data, turn.trigger, turn.reply_to_id) == (
        "approve",
        {"approvalId": "apr-42"},
        "manual",
        "1761900000500",
    )


@run_async
async def test_action_execute_can_answer_with_a_message(sdk):
    async with bot_stack(Recorder(), sdk) as stack:
        invoke = sample("invoke_action_execute", stack.connector.url)
        invoke["value"]["action"]["verb"] = "snooze"
        status, body = await stack.post(invoke)
    assert (status, body["type"], body["value"]) == (
        200,
        "application/vnd.microsoft.activity.message",
        "snoozed",
    )


@run_async
async def test_invoke_without_a_response_is_501(sdk):
    async with bot_stack(Recorder(), sdk) as stack:
        invoke = sample("invoke_action_execute", stack.connector.url)
        invoke["value"]["action"]["verb"] = "unknown"
        status, body = await stack.post(invoke)
    assert status == 501
    assert body["reason"] == "no invoke response"


@run_async
async def test_card_edit_from_a_turn_is_a_put_on_the_clicked_message(sdk):
    async def handler(turn: Turn):
        await turn.update(turn.reply_to_id, reply_card(CARD))
        return invoke_card_response(CARD)

    async with bot_stack(handler, sdk) as stack:
        status, _ = await stack.post(sample("invoke_action_execute", stack.connector.url))
        [edit] = stack.connector.calls
    assert status == 200
    assert (edit.kind, edit.method, edit.activity_id) == ("update", "PUT", "1761900000500")
    assert edit.conversation_id == "19:ops-channel@thread.tacv2;messageid=1761900000500"
    assert edit.body["attachments"][0]["content"] == CARD


BAD_TOKENS = {
    "missing": None,
    "expired": {"expired": True},
    "wrong audience": {"audience": "another-bot"},
    "wrong issuer": {"issuer": "https://login.microsoftonline.com/x/v2.0"},
    "bad signature": {"wrong_key": True},
    "foreign service url": {"claims": {"serviceurl": "https://evil.example/"}},
}


@pytest.mark.parametrize("options", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@run_async
async def test_unauthenticated_requests_get_401_and_never_reach_the_bot(options, sdk):
    bot = Recorder()
    async with bot_stack(bot, sdk) as stack:
        activity = sample("message_channel", stack.connector.url)
        auth = stack.issuer.header(activity["serviceUrl"], **options) if options else None
        status, body = await stack.post(activity, auth=auth)
        assert stack.connector.calls == []
    assert status == 401
    assert body["error"] == "Unauthorized" and body["reason"]
    assert bot.turns == []


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "message"}', "serviceUrl"),
        (b'{"type": "message", "serviceUrl": "http://x", "channelId": "msteams"}', "conversation"),
        (b'{"type": "message", "text": "\xff"}', "not UTF-8"),
        (b'{"type": "message", "text": "evil\\ud800vm"}', "lone UTF-16 surrogate"),
        (b"[" * 300 + b"]" * 300, "nested more than"),
        (json.dumps(sample("message_channel", timestamp="yesterday")).encode(), "schema"),
        (json.dumps(sample("message_channel", entities="none")).encode(), "schema"),
    ],
)
@run_async
async def test_malformed_bodies_get_400_with_a_reason(raw, reason, sdk):
    async with bot_stack(Recorder(), sdk) as stack:
        status, body = await stack.post(raw, auth="Bearer irrelevant")
    assert status == 400
    assert reason in body["reason"]


@run_async
async def test_a_failing_reply_is_reported_as_bad_gateway(sdk):
    async with bot_stack(Recorder(), sdk) as stack:
        stack.connector.fail_next(403)
        status, body = await stack.post(sample("message_channel", stack.connector.url))
    assert status == 502
    assert "BotNotInConversationRoster" in body["reason"]


@run_async
async def test_a_crashing_handler_is_500_without_details(sdk):
    async def handler(turn: Turn):
        raise RuntimeError("secret internals")

    async with bot_stack(handler, sdk) as stack:
        status, body = await stack.post(sample("message_channel", stack.connector.url))
    assert status == 500
    assert "secret" not in str(body)


@pytest.mark.parametrize(
    "name, fields, action",
    [
        ("installation_update_add", {}, "add"),
        ("installation_update_add", {"action": "add-upgrade"}, "add"),
        ("installation_update_add", {"action": "remove"}, "remove"),
        ("installation_update_add", {"action": "remove-upgrade"}, "upgrade"),
        ("conversation_update_bot_added", {}, "add"),
        (
            "conversation_update_bot_added",
            {"membersAdded": None, "membersRemoved": [{"id": f"28:{BOT_APP_ID}"}]},
            "remove",
        ),
    ],
)
@run_async
async def test_installs_and_removals_hand_the_reference_to_the_bot(name, fields, action, sdk):
    bot = Recorder()
    async with bot_stack(bot, sdk) as stack:
        status, _ = await stack.post(sample(name, stack.connector.url, **fields))
        service_url = stack.connector.url
    assert status == 200
    [turn] = bot.turns
    assert (turn.kind, turn.install_action) == ("installation", action)
    ref = turn.reference
    assert ref.service_url == service_url
    assert (ref.tenant_id, ref.team_id, ref.bot_id) == (
        TENANT_ID,
        "19:ops-team@thread.tacv2",
        f"28:{BOT_APP_ID}",
    )
    assert ref.conversation_id == "19:ops-team@thread.tacv2"


@run_async
async def test_other_conversation_updates_are_not_installs(sdk):
    bot = Recorder()
    async with bot_stack(bot, sdk) as stack:
        await stack.post(sample("conversation_update_channel_created", stack.connector.url))
    [turn] = bot.turns
    assert (turn.kind, turn.event_type, turn.install_action) == (
        "conversation_update",
        "channelCreated",
        None,
    )
    assert turn.teams_channel_id == "19:new-channel@thread.tacv2"
