"""Proactive posts (new channel thread, send, update) against the fake Bot Connector."""

import email.utils
import time

import pytest

from bot.activity import reference_from_activity
from bot.connector import (
    BotRemoved,
    ConnectorError,
    ConnectorUnavailable,
    ConversationNotFound,
    MessageTooLarge,
    RetryPolicy,
    Throttled,
    parse_retry_after,
)
from bot.endpoint import BotEndpoint
from bot.model import ConversationRef, reply_card, reply_text
from tests.botkit.activities import sample
from tests.botkit.connector import running_connector
from tests.botkit.servers import run_async
from tests.botkit.stack import FAST_RETRY, settings_for

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}]}


def _channel_ref(service_url: str) -> ConversationRef:
    """The address stored at install time, round-tripped through its dict form like the store."""
    ref = reference_from_activity(sample("installation_update_add", service_url))
    return ConversationRef.from_dict(ref.to_dict())


def _adapter(connector, retry: RetryPolicy = FAST_RETRY) -> BotEndpoint:
    # Proactive calls never validate inbound tokens, so the metadata URL is never fetched.
    return BotEndpoint(settings_for("http://127.0.0.1:9/unused"), connector.token_provider, retry)


@run_async
async def test_new_thread_then_update_then_reply_in_it():
    async with running_connector() as connector:
        adapter = _adapter(connector)
        channel = _channel_ref(connector.url)
        thread_id, root_id = await adapter.create_thread(channel, reply_card(CARD))
        thread = channel.in_conversation(thread_id)
        await adapter.update(thread, root_id, reply_card({**CARD, "body": []}))
        reply_id = await adapter.send(thread, reply_text("fix finished"))
        await adapter.close()
    assert thread_id == f"19:ops-channel@thread.tacv2;messageid={root_id}"
    create, update, send = connector.calls
    assert (create.kind, create.method) == ("create", "POST")
    assert create.body["isGroup"] is True
    assert create.body["channelData"] == {"channel": {"id": "19:ops-channel@thread.tacv2"}}
    assert create.body["activity"]["attachments"][0]["content"] == CARD
    assert create.body["activity"]["type"] == "message"
    assert (update.kind, update.conversation_id, update.activity_id) == (
        "update",
        thread_id,
        root_id,
    )
    assert update.body["id"] == root_id and update.body["attachments"][0]["content"]["body"] == []
    assert (send.kind, send.conversation_id, send.body["text"]) == (
        "send",
        thread_id,
        "fix finished",
    )
    assert reply_id and reply_id != root_id
    assert all(c.authorization.removeprefix("Bearer ") in connector.tokens for c in connector.calls)


@run_async
async def test_a_card_outside_the_adaptive_cards_schema_is_refused_as_teams_does():
    async with running_connector() as connector:
        adapter = _adapter(connector)
        full_width = {**CARD, "msteams": {"width": "Full"}}  # Teams-only, not in the schema
        with pytest.raises(ConnectorError, match="invalid Adaptive Card"):
            await adapter.send(_channel_ref(connector.url), reply_card(full_width))
        await adapter.close()
        assert connector.card_problems == [
            "/: Additional properties are not allowed ('msteams' was unexpected)"
        ]
        connector.card_problems.clear()  # seen here: the connector's own check would fail


@run_async
async def test_thread_goes_to_the_general_channel_when_only_the_team_is_known():
    async with running_connector() as connector:
        adapter = _adapter(connector)
        ref = ConversationRef.from_dict(
            {**_channel_ref(connector.url).to_dict(), "teams_channel_id": None}
        )
        await adapter.create_thread(ref, reply_text("hello"))
        await adapter.close()
    assert connector.calls[0].body["channelData"]["channel"]["id"] == "19:ops-team@thread.tacv2"


@run_async
async def test_thread_needs_a_team_or_channel():
    async with running_connector() as connector:
        adapter = _adapter(connector)
        personal = ConversationRef(connector.url, "a:1on1-chat", "28:bot")
        with pytest.raises(ValueError, match="no Teams channel"):
            await adapter.create_thread(personal, reply_text("hello"))
        await adapter.close()
    assert connector.calls == []


@pytest.mark.parametrize(
    "status, error, code",
    [
        (403, BotRemoved, "BotNotInConversationRoster"),
        (404, ConversationNotFound, "ConversationNotFound"),
        (413, MessageTooLarge, "MessageSizeTooBig"),
        (400, ConnectorError, "BadArgument"),
    ],
)
@run_async
async def test_connector_refusals_map_to_typed_errors_without_retry(status, error, code):
    async with running_connector() as connector:
        adapter = _adapter(connector)
        connector.fail_next(status, times=2, code=code if status == 400 else None)
        with pytest.raises(error) as raised:
            await adapter.send(_channel_ref(connector.url), reply_text("x"))
        await adapter.close()
    assert type(raised.value) is error
    assert (raised.value.status, raised.value.code) == (status, code)
    assert len(connector.calls) == 1


@run_async
async def test_throttling_is_retried_honouring_retry_after():
    async with running_connector() as connector:
        adapter = _adapter(connector, RetryPolicy(attempts=3, base_delay=0.01, max_delay=5))
        connector.fail_next(429, retry_after="1")
        started = time.monotonic()
        await adapter.update(_channel_ref(connector.url), "123", reply_text("x"))
        elapsed = time.monotonic() - started
        await adapter.close()
    assert elapsed >= 1.0
    assert [c.status for c in connector.calls] == [429, 200]


@run_async
async def test_persistent_throttling_raises_throttled_with_retry_after():
    async with running_connector() as connector:
        adapter = _adapter(connector)
        connector.fail_next(429, times=5, retry_after="0")
        with pytest.raises(Throttled) as raised:
            await adapter.send(_channel_ref(connector.url), reply_text("x"))
        await adapter.close()
    assert raised.value.retry_after == 0
    assert len(connector.calls) == FAST_RETRY.attempts


@run_async
async def test_server_errors_are_retried_a_bounded_number_of_times():
    async with running_connector() as connector:
        adapter = _adapter(connector)
        connector.fail_next(503)
        thread_id, _ = await adapter.create_thread(_channel_ref(connector.url), reply_text("x"))
        connector.fail_next(500, times=10)
        with pytest.raises(ConnectorUnavailable):
            await adapter.send(
                _channel_ref(connector.url).in_conversation(thread_id), reply_text("y")
            )
        await adapter.close()
    assert [c.status for c in connector.calls] == [503, 201, 500, 500, 500]


@run_async
async def test_unreachable_connector_is_unavailable():
    async def fixed_token() -> str:
        return "t"

    adapter = BotEndpoint(settings_for("http://127.0.0.1:9/unused"), fixed_token, FAST_RETRY)
    with pytest.raises(ConnectorUnavailable, match="cannot reach"):
        await adapter.send(_channel_ref("http://127.0.0.1:9"), reply_text("x"))
    await adapter.close()


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= parse_retry_after(in_a_minute) <= 60


def test_reference_dict_round_trip_and_validation():
    ref = _channel_ref("https://smba.trafficmanager.net/emea/")
    assert ConversationRef.from_dict({**ref.to_dict(), "future_field": 1}) == ref
    with pytest.raises(ValueError, match="service_url"):
        ConversationRef.from_dict({"conversation_id": "c", "bot_id": "b"})
