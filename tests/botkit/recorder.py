"""An echo bot for protocol tests: it remembers the turns it saw and answers in a known way."""

from __future__ import annotations

from bot.model import Turn, invoke_card_response, invoke_message_response, reply_text

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "ok"}]}


class Recorder:
    """Messages get `echo: <text>`; an approve click gets CARD, a snooze a message, others none."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    async def __call__(self, turn: Turn):
        self.turns.append(turn)
        if turn.kind == "message":
            await turn.send(reply_text(f"echo: {turn.text}"))
        if turn.kind == "invoke" and turn.verb == "approve":
            return invoke_card_response(CARD)
        if turn.kind == "invoke" and turn.verb == "snooze":
            return invoke_message_response("snoozed")
        return None
