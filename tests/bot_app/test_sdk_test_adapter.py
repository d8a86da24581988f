"""The real turn handler (the app's BotHandler over the engine, the store and the ARM simulator)
run by botbuilder's own TestAdapter, the SDK's harness for turn logic: chat and card clicks
answer as they do over HTTP (test_chat.py, test_incident_flow.py), without the endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes

from bot.adapter import turn_logic
from tests.bot_app.harness import STRANGER, bot_app
from tests.bot_app.test_incident_flow import decisions, texts
from tests.botkit.servers import run_async


async def _turn(adapter: TestAdapter, activity: dict[str, Any]) -> list[Activity]:
    """What the handler sent in the turn of `activity` (replies and the invoke response)."""
    adapter.activity_buffer.clear()
    await adapter.receive_activity(Activity().deserialize(activity))
    return list(adapter.activity_buffer)


async def _invoke_card(adapter: TestAdapter, activity: dict[str, Any]) -> dict[str, Any]:
    [response] = await _turn(adapter, activity)
    assert response.type == ActivityTypes.invoke_response
    assert (response.value.status, response.value.body["statusCode"]) == (200, 200)
    return response.value.body["value"]


@pytest.mark.timeout(60)
@run_async
async def test_chat_and_card_clicks_on_botbuilders_test_adapter(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim) as app:
        _, approval_id = await app.proposed_cleanup()
        adapter = TestAdapter(turn_logic(app.handler))

        question = app.message("why did VM erp-app-03 fail?")
        [reply] = await _turn(adapter, question)
        assert (reply.type, reply.reply_to_id) == (ActivityTypes.message, question["id"])
        answer = texts(reply.attachments[0].content)
        assert answer == texts(await app.say("why did VM erp-app-03 fail?"))  # as over HTTP
        assert "Why erp-app-03 failed" in answer and "Waiting for an approver" in answer

        refresh = await _invoke_card(adapter, app.card_action(approval_id, trigger="automatic"))
        assert {v for v, _ in decisions(refresh)} == {
            "approve",
            "reject",
            "snooze",
        }  # a refresh only reads
        refused = await _invoke_card(adapter, app.card_action(approval_id, user=STRANGER))
        assert "not an approver" in texts(refused)
        assert app.engine.approvals.get(approval_id)["state"] == "pending"

        approved = await _invoke_card(adapter, app.card_action(approval_id))
        assert "Approved by Alex Operator" in texts(approved) and decisions(approved) == []
        assert app.engine.approvals.get(approval_id)["state"] == "executing"
        assert "Approved by Alex Operator" in texts(app.latest_card())  # edited for everyone
