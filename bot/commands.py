"""Chat commands, forgiving of phrasing, in English and French, and what each one answers.

`parse` turns free text into a `Command`; `Commands.answer` runs it against the engine
(synchronously: the turn handler calls it in a worker thread) and returns the reply activity.
The VM name of "why did VM X fail" is validated before any lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot import answers
from bot.cards import answer_card, line
from bot.model import reply_card
from bot.vmfacts import VmFacts
from remediation.approvals import Approver, refused_because
from remediation.engine import SEEN
from remediation.explain import explain
from remediation.scope import ignored_counts
from remediation.vmnames import InvalidVmName, checked_vm_name

Name = Literal["why", "explain", "status", "pause", "resume", "dry_run", "help", "unknown"]

_FRENCH = re.compile(
    r"\b(pourquoi|échou\w*|echou\w*|passé|arrivé|aide|état|etat|statut|expliqu\w*|reprendre|"
    r"suspendre|quoi)\b|qu'"
)
_WHY = (
    re.compile(r"\b(?:why|pourquoi)\b.*?\b(?:vm|machine|server|serveur)\s+(?P<vm>\S+)", re.I),
    re.compile(r"\bwhy\s+(?:did|does|do|is|was|has)\s+(?:the\s+)?(?P<vm>\S+)", re.I),
    re.compile(r"\bwhy\s+(?P<vm>\S+)\s+(?:fail|failed|failing|broke|broken)\b", re.I),
    re.compile(r"\bwhat\s+happened\s+(?:to|with)\s+(?:the\s+)?(?:vm\s+)?(?P<vm>\S+)", re.I),
    re.compile(r"\bpourquoi\s+(?:la\s+|le\s+|l')?(?P<vm>\S+)\s+(?:a\b|est\b|échoue|echoue)", re.I),
    re.compile(
        r"\b(?:que\s+s'est-il\s+passé|qu'est-il\s+arrivé)\s+(?:avec|pour|à|a)\s+"
        r"(?:la\s+|le\s+)?(?:vm\s+)?(?P<vm>\S+)",
        re.I,
    ),
)
_EXPLAIN = re.compile(r"^(?:explain|explique[rz]?)\s*:?\s+(?P<arg>.+)$", re.S | re.I)
_STATUS = re.compile(r"^(?:status|incidents|open incidents|état|etat|statut)\W*$")
_PAUSE = re.compile(r"^(?:pause|suspend|suspendre)\b")
_RESUME = re.compile(r"^(?:resume|reprendre|reprise|unpause)\b")
_DRY_RUN = re.compile(
    r"^(?:dry[- ]?run|simulation)\s+(?P<value>on|off|true|false|oui|non|activée?|désactivée?)\W*$"
)
_HELP = re.compile(r"^(?:help|aide|\?|hi|hello|bonjour|salut)\W*$")
_ON = {"on", "true", "oui", "activé", "activée"}
_TRAILING = "?!.,;:"


@dataclass(frozen=True, slots=True)
class Command:
    name: Name
    arg: str = ""
    lang: str = "en"


def parse(text: str) -> Command:
    """The command a chat message asks for; `unknown` when none fits."""
    said = " ".join((text or "").split())
    low = said.lower()
    lang = "fr" if _FRENCH.search(low) else "en"
    explained = _EXPLAIN.match(said)
    if explained:
        return Command("explain", explained["arg"].strip(), lang)
    for pattern in _WHY:
        found = pattern.search(said)
        if found:
            return Command("why", found["vm"].rstrip(_TRAILING), lang)
    for name, pattern in (
        ("status", _STATUS),
        ("pause", _PAUSE),
        ("resume", _RESUME),
        ("help", _HELP),
    ):
        if pattern.match(low):
            return Command(name, "", lang)  # type: ignore[arg-type]
    dry_run = _DRY_RUN.match(low)
    if dry_run:
        return Command("dry_run", "on" if dry_run["value"] in _ON else "off", lang)
    return Command("unknown", said, lang)


SWITCHES = ("pause", "resume", "dry_run")  # the commands that need approval rights


class Commands:
    """Answers chat commands from the engine's store and, for "why", live Azure facts."""

    def __init__(self, engine: Any, facts: VmFacts | None = None) -> None:
        self._engine = engine
        self._facts = facts

    def answer(self, command: Command, who: Approver) -> dict[str, Any]:
        """The reply activity (a card) for `command` asked by `who`."""
        handler = {
            "why": self._why,
            "explain": self._explain,
            "status": self._status,
            **dict.fromkeys(SWITCHES, self._switch),
        }.get(command.name)
        if handler is None:
            return reply_card(answers.help_card(command.lang, command.name == "unknown"))
        return reply_card(handler(command, who))

    def _why(self, command: Command, who: Approver) -> dict[str, Any]:
        w = answers.words(command.lang)
        try:
            vm = checked_vm_name(command.arg)
        except InvalidVmName as exc:
            said = w["invalid_vm"].format(reason=exc)
            return answer_card(w["why_title"].format(vm="?"), [line(said, color="attention")])
        incidents = self._engine.incidents.for_vm(vm)
        incidents.sort(key=lambda i: i["status"] != "open")  # open first, then most recent
        views = [self._engine.view(i["id"]) for i in incidents[: answers.SHOWN_INCIDENTS]]
        facts = None
        if self._facts is not None:
            facts = self._facts.gather(vm, [i.get("vault_id") for i in incidents])
        return answers.why_card(vm, views, facts, command.lang)

    def _explain(self, command: Command, who: Approver) -> dict[str, Any]:
        lang = command.lang if command.lang == "fr" else None
        return answers.explain_card(explain(command.arg[:2000], lang, self._engine.classifier))

    def _status(self, command: Command, who: Approver) -> dict[str, Any]:
        return answers.status_card(
            self._engine.incidents.open_incidents(),
            self._engine.approvals.pending(),
            self._engine.policy(),
            command.lang,
            ignored_counts(self._engine.store, SEEN),
        )

    def _switch(self, command: Command, who: Approver) -> dict[str, Any]:
        w = answers.words(command.lang)
        because = refused_because(who, self._engine.policy())
        if because:
            said = w["not_approver"]
            if because == "membership_unknown":
                said = w["membership_unavailable"].format(reason=who.membership_error)
            return answer_card(w["status_title"], [line(said, color="attention")])
        if command.name == "dry_run":
            name, value, what = "dry_run", command.arg == "on", w["dry_what"]
        else:
            name, value, what = "paused", command.name == "pause", w["pause_what"]
        self._engine.set_switch(name, value, f"user:{who.object_id}")
        shown = (
            (w["on"] if value else w["off"])
            if name == "dry_run"
            else (w["paused"] if value else w["running"])
        )
        said = w["switched"].format(what=what, value=shown, name=who.name)
        policy = self._engine.policy()
        state = w["switches"].format(
            paused=w["paused"] if policy.paused else w["running"],
            dry_run=w["on"] if policy.dry_run else w["off"],
        )
        return answer_card(
            w["status_title"], [line(said, weight="Bolder", color="good"), line(state)]
        )
