"""The turn handler given to BotEndpoint.process: installs, card clicks, chat.

It runs on the bot loop (see bot.runtime); every engine call is synchronous and may post or
edit cards through that same loop, so it runs in a worker thread (`asyncio.to_thread`).
Card clicks carry only ids (an approval's, an incident's, a run's); who clicked comes from the
authenticated activity.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.cards import notice_card
from bot.commands import SWITCHES, Command, Commands, parse
from bot.incident_card import incident_card
from bot.model import (
    InvokeResponse,
    Turn,
    invoke_card_response,
    invoke_error_response,
)
from bot.teams_notifier import TeamsNotifier
from bot.wording import notice
from remediation.approvals import VERBS, Approver, Membership, with_group_membership
from remediation.oncall import VERBS as ON_CALL_VERBS

if TYPE_CHECKING:
    from remediation.engine import Engine

log = logging.getLogger(__name__)

CARD_ACTION = "adaptiveCard/action"
# Approval ids are "apr-" and 16 characters; far longer text is no id and must not reach the
# store, whose keys are bounded (it would fail the turn instead of answering).
MAX_APPROVAL_ID = 64
ID_KEYS = ("approvalId", "incidentId", "runId")


class BotHandler:
    def __init__(
        self,
        engine: Engine,
        notifier: TeamsNotifier,
        commands: Commands,
        membership: Callable[[], Membership] | None = None,
    ) -> None:
        """`membership` builds the approver-group client on first use (None: no directory)."""
        self._engine = engine
        self.notifier = notifier
        self._commands = commands
        self._membership = membership

    async def __call__(self, turn: Turn) -> InvokeResponse | None:
        if turn.kind == "installation":
            await asyncio.to_thread(self._installation, turn)
            return None
        if turn.kind == "invoke":
            return await self._invoke(turn)
        if turn.kind == "message" and turn.text:
            command = replace(parse(turn.text, turn.locale), timezone=turn.local_timezone)
            reply = await asyncio.to_thread(self._answer, command, turn)
            await turn.send(reply)
        return None

    def _answer(self, command: Command, turn: Turn) -> dict[str, Any]:
        # Only the switches need approval rights: other commands never wait on the directory.
        return self._commands.answer(command, self._approver(turn, command.name in SWITCHES))

    def _approver(self, turn: Turn, rights: bool = True) -> Approver:
        """Who acts; when `rights` matter, with the approver group filled in by the core."""
        who = Approver(turn.user_aad_object_id, (turn.user_name or "unknown")[:120], turn.tenant_id)
        if self._membership is None or not rights:
            return who
        return with_group_membership(who, self._engine.policy(), self._membership)

    def _installation(self, turn: Turn) -> None:
        conversations = self.notifier.conversations
        if turn.install_action == "remove":
            conversations.forget(turn.reference)
            return
        conversations.remember(turn.reference)
        if turn.team_id:
            # Incidents that arrived while no channel was known get their card now.
            self.notifier.catch_up(settle=timedelta(0))

    async def _invoke(self, turn: Turn) -> InvokeResponse:
        if turn.invoke_name != CARD_ACTION:
            return invoke_error_response(400, "NotSupported", f"{turn.invoke_name} not handled")
        return await asyncio.to_thread(self._card_action, turn)

    def _card_action(self, turn: Turn) -> InvokeResponse:
        data = turn.action_data
        for key in ID_KEYS:
            value = data.get(key)
            if isinstance(value, str) and len(value) > MAX_APPROVAL_ID:
                return invoke_error_response(
                    400, "BadRequest", f"{key} is {len(value)} characters; no id is that long"
                )
        if turn.trigger != "manual" or turn.verb not in VERBS.keys() | ON_CALL_VERBS:
            # Automatic refreshes (and unknown verbs) only ever read.
            return self._current_card(data)
        if turn.verb in ON_CALL_VERBS:
            return self._on_call(turn, turn.verb)
        approval_id = data.get("approvalId")
        approval = self._engine.approvals.get(approval_id) if isinstance(approval_id, str) else None
        outcome = self._engine.decide(
            approval_id, turn.verb, self._approver(turn), data.get("choice")
        )
        log.info("card click %s on %s: %s", turn.verb, str(approval_id)[:40], outcome.message)
        decided = outcome.approval or approval
        if decided is None:
            return invoke_card_response(notice_card(outcome.message, color="attention"))
        return self._card_with(decided["incident_id"], outcome.accepted, outcome.message)

    def _on_call(self, turn: Turn, verb: str) -> InvokeResponse:
        acted = self._engine.act(verb, turn.action_data, self._approver(turn))
        log.info("card click %s: %s", turn.verb, acted.outcome.message)
        if acted.incident_id is None:
            return invoke_card_response(notice_card(acted.outcome.message, color="attention"))
        return self._card_with(acted.incident_id, acted.outcome.accepted, acted.outcome.message)

    def _card_with(self, incident_id: str, accepted: bool, message: str) -> InvokeResponse:
        """The incident's card as it is now; a refusal says why on top, in its language."""
        view = self._engine.view(incident_id)
        lang = view["incident"].get("language") or "en"
        said = None if accepted else notice(message, lang)
        return invoke_card_response(incident_card(view, notice=said))

    def _current_card(self, data: dict[str, Any]) -> InvokeResponse:
        """The card as it stands now, for the incident the clicked card names."""
        incident_id = self._engine.incident_named(data)
        if incident_id is None:
            return invoke_card_response(notice_card("This card is no longer current."))
        return invoke_card_response(incident_card(self._engine.view(incident_id)))
