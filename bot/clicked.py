"""Which incident card a click was made on, from where Teams says the click came from.

Teams sends an Action.Execute invoke from the card's own message: for a card that starts a
channel thread, `conversation.id` is that thread (`<channel>;messageid=<root>`), the id the
Bot Connector gave when the card was posted and the store kept in the incident's card
reference; `replyToId` names the clicked message. The Teams client stamps `replyToId`, and it
has been seen missing or differing from the id the post returned (msteams-docs#6139), so it
is compared when sent but never trusted alone: the thread decides.
"""

from __future__ import annotations

from typing import Any

from bot.model import Turn
from remediation.incidents import Incidents


def in_thread(card: Any, turn: Turn) -> bool:
    """Whether `turn` came from the thread where the card `card` was posted."""
    return (
        bool(turn.conversation_id)
        and isinstance(card, dict)
        and (card.get("conversation_id") == turn.conversation_id)
    )


def made_on(card: Any, turn: Turn) -> bool:
    """Whether `turn`'s click was made on the card message `card` itself."""
    return in_thread(card, turn) and (
        not turn.reply_to_id or turn.reply_to_id == card.get("activity_id")
    )


def clicked_card(incidents: Incidents, turn: Turn, named: list[str]) -> tuple[str | None, bool]:
    """The incident whose card `turn` was clicked on (None when no card of ours started the
    click's thread), and whether the click may act: every incident its data `named` is that
    one, and the click was made on the card message itself."""
    cards = {n: _card_of(incidents, n) for n in dict.fromkeys(named)}
    own = next((n for n, card in cards.items() if in_thread(card, turn)), None)
    if own is None:  # the data names another incident, or none: whose thread is this?
        own = next((i["id"] for i in incidents.all() if in_thread(i.get("card"), turn)), None)
    return own, all(made_on(card, turn) for card in cards.values())


def _card_of(incidents: Incidents, incident_id: str) -> Any:
    found = incidents.get(incident_id)
    return found.get("card") if found else None
