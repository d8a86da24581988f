"""The turn handler given to BotEndpoint.process: installs, card clicks, chat.

It runs on the bot loop (see bot.runtime); every engine call is synchronous and may post or
edit cards through that same loop, so it runs in a worker thread (`asyncio.to_thread`).
Card clicks carry only ids (an approval's, an incident's, a run's); who clicked comes from the
authenticated activity, and which card from where Teams sent the click (bot.clicked): a click
acts only on the incident whose card it was made on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.cards import notice_card
from bot.clicked import clicked_card
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
from remediation.approvals import (
    VERBS,
    Approver,
    Membership,
    Outcome,
    audit_click,
    with_group_membership,
)
from remediation.oncall import VERBS as ON_CALL_VERBS

if TYPE_CHECKING:
    from remediation.engine import Engine

log = logging.getLogger(__name__)

CARD_ACTION = "adaptiveCard/action"
# Approval ids are "apr-" and 16 characters; far longer text is no id and must not reach the
# store, whose keys are bounded (it would fail the turn instead of answering).
MAX_APPROVAL_ID = 64
ID_KEYS = ("approvalId", "incidentId", "runId")
NOT_THIS_CARD = "This card's buttons act on its own incident only: nothing was changed."


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
        named = self._engine.incidents_named(data)
        clicked, bound = clicked_card(self._engine.incidents, turn, named)
        if turn.trigger != "manual" or turn.verb not in VERBS.keys() | ON_CALL_VERBS:
            # Automatic refreshes (and unknown verbs) only ever read.
            return self._current_card(clicked)
        if not bound:
            return self._not_this_card(turn, clicked)
        who = replace(self._approver(turn), card=turn.conversation_id)
        if turn.verb in ON_CALL_VERBS:
            acted = self._engine.act(turn.verb, data, who).outcome
        else:
            acted = self._engine.decide(data.get("approvalId"), turn.verb, who, data.get("choice"))
        log.info("card click %s on %s: %s", turn.verb, _target(data), acted.message)
        return self._card_with(clicked, acted.accepted, acted.message)

    def _not_this_card(self, turn: Turn, clicked: str | None) -> InvokeResponse:
        """Refuse a click whose data names an incident other than the clicked card's own
        (or a message other than the card): nothing is decided, and it is audited."""
        who = replace(self._approver(turn, rights=False), card=turn.conversation_id)
        kind = "approval" if turn.verb in VERBS else "on-call"
        refused = Outcome(False, NOT_THIS_CARD, None)
        target = _target(turn.action_data)
        audit_click(self._engine.audit, who, f"{kind} {turn.verb}", target, refused,
                    card_incident=clicked, card_message=turn.reply_to_id)  # fmt: skip
        log.warning("card click %s on %s refused: made on the card of %s in %s",
                    turn.verb, target, clicked, turn.conversation_id[:120])  # fmt: skip
        return self._card_with(clicked, False, NOT_THIS_CARD)

    def _card_with(self, incident_id: str | None, accepted: bool, message: str) -> InvokeResponse:
        """The clicked card's incident as it is now; a refusal says why on top, in its
        language (alone when the clicked card is none of ours)."""
        if incident_id is None:
            return invoke_card_response(notice_card(message, color="attention"))
        view = self._engine.view(incident_id)
        lang = view["incident"].get("language") or "en"
        said = None if accepted else notice(message, lang)
        return invoke_card_response(incident_card(view, notice=said))

    def _current_card(self, incident_id: str | None) -> InvokeResponse:
        """The clicked card as it stands now."""
        if incident_id is None:
            return invoke_card_response(notice_card("This card is no longer current."))
        return invoke_card_response(incident_card(self._engine.view(incident_id)))


def _target(data: dict[str, Any]) -> str:
    """The first id a card's data carries, for the log and the audit."""
    return str(next((data[key] for key in ID_KEYS if data.get(key)), None))[:80]
