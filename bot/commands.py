"""Chat commands, forgiving of phrasing and spelling, in English and French.

`parse` turns free text into a `Command`: command words with a typo or two are recognised
("statsu", "whyy"), and the VM named is validated before any lookup; a VM no incident names,
of which Azure says nothing either, gets "did you mean" the known VM names nearest to it.
`Commands.answer` runs it against the engine (synchronously: the turn handler calls it in a
worker thread) and returns the reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot import answers, digest
from bot.cards import answer_card, clip, line
from bot.fuzzy import closest, corrected
from bot.incident_card import assessment
from bot.model import reply_card
from bot.vmfacts import VmFacts
from remediation.approvals import Approver, refused_because
from remediation.engine import SEEN
from remediation.explain import explain
from remediation.outcomes import latest_run_per_vm
from remediation.scope import ignored_counts
from remediation.vmnames import InvalidVmName, checked_vm_name

if TYPE_CHECKING:
    from remediation.engine import Engine
    from remediation.records import Incident

Name = Literal[
    "why", "failed", "who", "explain", "status", "digest", "pause", "resume", "dry_run", "help",
    "unknown",
]  # fmt: skip

_FRENCH = re.compile(
    r"\b(pourquoi|échou\w*|echou\w*|passé|arrivé|aide|état|etat|statut|expliqu\w*|reprendre|"
    r"suspendre|quoi|qui|corrections?|résumé|bilan|problème|va pas)\b|qu'"
)
_VM = r"(?:the\s+|la\s+|le\s+|l')?(?:vm\s+|machine\s+|server\s+|serveur\s+)?(?P<vm>\S+)"
_WHY = (
    re.compile(r"\b(?:why|pourquoi)\b.*?\b(?:vm|machine|server|serveur)\s+(?P<vm>\S+)", re.I),
    re.compile(r"\bwhy\s+(?:did|does|do|is|was|has)\s+(?:the\s+)?(?P<vm>\S+)", re.I),
    re.compile(r"\bwhy\s+(?P<vm>\S+)\s+(?:fail|failed|failing|broke|broken)\b", re.I),
    re.compile(r"\bwhat\s+happened\s+(?:to|with)\s+" + _VM, re.I),
    re.compile(r"\bwhat(?:'s|\s+is)\s+(?:wrong|up|going\s+on)\s+(?:with|on)\s+" + _VM, re.I),
    re.compile(r"\bpourquoi\s+(?:la\s+|le\s+|l')?(?P<vm>\S+)\s+(?:a\b|est\b|échoue|echoue)", re.I),
    re.compile(
        r"\b(?:que\s+s'est-il\s+passé|qu'est-il\s+arrivé)\s+(?:avec|pour|à|a)\s+" + _VM, re.I
    ),
    re.compile(
        r"\b(?:qu'est-ce\s+qui\s+ne\s+va\s+pas|quel\s+est\s+le\s+problème)\s+(?:avec|sur)\s+"
        + _VM, re.I,
    ),
)  # fmt: skip
_WHO = (
    re.compile(r"\bwho\s+(?:approved|decided|rejected|snoozed)\s+(?:(?:the\s+)?fix(?:es)?\s+"
               r"(?:for|of|on)\s+)?" + _VM, re.I),
    re.compile(r"\bqui\s+a\s+(?:approuvé|décidé|refusé|reporté)\s+(?:(?:la\s+)?correction\s+"
               r"(?:de|pour|sur)\s+)?" + _VM, re.I),
)  # fmt: skip
_FAILED = re.compile(
    r"^(?:show\s+|list\s+)?(?:me\s+)?(?:the\s+|all\s+)?failed\s+(?:fix(?:es)?|runs?|remediations?)"
    r"\W*$|^(?:les\s+)?corrections?\s+(?:échouées?|en\s+échec)\W*$"
)
_EXPLAIN = re.compile(r"^(?:explain|explique[rz]?)\s*:?\s+(?P<arg>.+)$", re.S | re.I)
_STATUS = re.compile(r"^(?:status|incidents|open incidents|état|etat|statut)\W*$")
_DIGEST = re.compile(
    r"^(?:weekly\s+)?digest\W*$|^(?:le\s+)?(?:résumé|bilan)(?:\s+(?:de\s+la\s+)?semaine"
    r"|\s+hebdo\w*)?\W*$"
)
_PAUSE = re.compile(r"^(?:pause|suspend|suspendre)\b")
_RESUME = re.compile(r"^(?:resume|reprendre|reprise|unpause)\b")
_DRY_RUN = re.compile(
    r"^(?:dry[- ]?run|simulation)\s+(?P<value>on|off|true|false|oui|non|activée?|désactivée?)\W*$"
)
_HELP = re.compile(r"^(?:help|aide|\?|hi|hello|bonjour|salut)\W*$")
# Commands about one VM, whose patterns name it, then the commands of a few fixed words.
_ABOUT_A_VM: tuple[tuple[Name, tuple[re.Pattern[str], ...]], ...] = (("who", _WHO), ("why", _WHY))
_WORDS: tuple[tuple[Name, re.Pattern[str]], ...] = (
    ("failed", _FAILED), ("status", _STATUS), ("digest", _DIGEST),
    ("pause", _PAUSE), ("resume", _RESUME), ("help", _HELP),
)  # fmt: skip
_ON = {"on", "true", "oui", "activé", "activée"}
# Words a question without a VM name leaves where the name goes ("why did the vm fail?").
_NO_NAME = {"fail", "failed", "failing", "it", "a", "est", "échoué", "échoue", "echoue"}
_TRAILING = "?!.,;:"
# The words commands are made of: a typo in one of these is corrected before matching.
VOCABULARY = frozenset(
    (
        *("why", "did", "does", "fail", "failed", "failing", "happened", "what", "wrong", "with"),
        *("who", "approved", "decided", "rejected", "show", "fix", "fixes", "explain", "status"),
        *("incidents", "digest", "pause", "resume", "help", "hello", "pourquoi", "échoué"),
        *("échoue", "explique", "état", "statut", "aide", "reprendre", "suspendre", "résumé"),
        *("bilan", "approuvé", "correction", "corrections", "échouées", "passé", "arrivé"),
    )
)


@dataclass(frozen=True, slots=True)
class Command:
    name: Name
    arg: str = ""
    lang: str = "en"
    timezone: str | None = None  # the sender's, as Teams sends it: for local times


def parse(text: str, locale: str | None = None) -> Command:
    """The command a chat message asks for; `unknown` when none fits. The language is the
    message's own, else the sender's Teams locale."""
    said = " ".join((text or "").split())
    low = said.lower()
    lang = "fr" if _FRENCH.search(low) or (locale or "").lower().startswith("fr") else "en"
    explained = _EXPLAIN.match(said)
    if explained:
        return Command("explain", explained["arg"].strip(), lang)
    fixed = _corrected(said)
    for name, patterns in _ABOUT_A_VM:
        for pattern in patterns:
            found = pattern.search(fixed)
            if found:
                vm = found["vm"].rstrip(_TRAILING)
                return Command(name, "" if vm.lower() in _NO_NAME else vm, lang)
    fixed_low = fixed.lower()
    for name, word in _WORDS:
        if word.match(fixed_low):
            return Command(name, "", lang)
    dry_run = _DRY_RUN.match(fixed_low)
    if dry_run:
        return Command("dry_run", "on" if dry_run["value"] in _ON else "off", lang)
    return Command("unknown", said, lang)


def _corrected(text: str) -> str:
    """`text` with each word that is a typo of a command word spelt right; words with digits,
    dashes or dots (VM names) are left alone."""
    out = []
    for word in text.split(" "):
        bare = word.rstrip(_TRAILING)
        if bare and bare.isalpha():
            fixed = corrected(bare.lower(), VOCABULARY)
            word = word if fixed == bare.lower() else fixed + word[len(bare) :]
        out.append(word)
    return " ".join(out)


SWITCHES = ("pause", "resume", "dry_run")  # the commands that need approval rights


class Commands:
    """Answers chat commands from the engine's store and, for "why", live Azure facts."""

    def __init__(self, engine: Engine, facts: VmFacts | None = None) -> None:
        self._engine = engine
        self._facts = facts

    def answer(self, command: Command, who: Approver) -> dict[str, Any]:
        """The reply activity (a card) for `command` asked by `who`."""
        handler = {
            "why": self._why,
            "failed": self._failed,
            "who": self._who,
            "explain": self._explain,
            "status": self._status,
            "digest": self._digest,
            **dict.fromkeys(SWITCHES, self._switch),
        }.get(command.name)
        if handler is None:
            return reply_card(answers.help_card(command.lang, command.name == "unknown"))
        return reply_card(handler(command, who))

    def _vm(self, command: Command, title: str) -> str | dict[str, Any]:
        """The VM a command names, or the card that says why it is no VM name."""
        w = answers.words(command.lang)
        try:
            return checked_vm_name(command.arg)
        except InvalidVmName:
            said = w["invalid_vm"].format(name=clip(command.arg, 80, command.lang))
            if not command.arg:
                said = w["name_a_vm"].format(example=w[f"{command.name}_example"])
            return answer_card(w[title].format(vm="?"), [line(said, color="attention")])

    def _why(self, command: Command, who: Approver) -> dict[str, Any]:
        vm = self._vm(command, "why_title")
        if not isinstance(vm, str):
            return vm
        incidents = self._engine.incidents.for_vm(vm)
        vm = _as_recorded(vm, incidents)
        incidents.sort(key=lambda i: i["status"] != "open")  # open first, then most recent
        views = [self._engine.view(i["id"]) for i in incidents[: answers.SHOWN_INCIDENTS]]
        facts = None
        if self._facts is not None:
            facts = self._facts.gather(
                vm, [i.get("vault_id") for i in incidents], _resource_ids(vm, incidents)
            )
        known = incidents or (facts is not None and facts.about_the_vm)
        suggestions = None if known else closest(vm, self._known_vms())
        return answers.why_card(vm, views, facts, command.lang, now=self._engine.clock(),
                                suggestions=suggestions, timezone=command.timezone)  # fmt: skip

    def _known_vms(self) -> set[str]:
        return {vm for incident in self._engine.incidents.all() for vm in incident["vms"]}

    def _failed(self, command: Command, who: Approver) -> dict[str, Any]:
        latest = latest_run_per_vm(self._engine.runs.all(state="failed"))
        current = latest_run_per_vm(self._engine.runs.all())
        failed = [r for vm, r in latest.items() if current.get(vm, r)["id"] == r["id"]]
        failed.sort(key=lambda r: r["updated"], reverse=True)
        views = {i: self._engine.view(i) for i in {r["incident_id"] for r in failed[:20]}}
        pairs = [(views[r["incident_id"]], r) for r in failed[:20]]
        return answers.failed_fixes_card(pairs, command.lang, self._engine.clock())

    def _who(self, command: Command, who: Approver) -> dict[str, Any]:
        vm = self._vm(command, "who_title")
        if not isinstance(vm, str):
            return vm
        incidents = self._engine.incidents.for_vm(vm)
        vm = _as_recorded(vm, incidents)
        approvals = [
            a
            for incident in incidents
            for a in self._engine.approvals.all_for(incident["id"])
            if any((t.get("vm") or "").lower() == vm.lower() for t in a.get("targets") or [])
        ]
        return answers.who_approved_card(vm, approvals, command.lang, self._engine.clock())

    def _explain(self, command: Command, who: Approver) -> dict[str, Any]:
        lang = command.lang if command.lang == "fr" else None
        return answers.explain_card(explain(command.arg[:2000], lang, self._engine.classifier))

    def _status(self, command: Command, who: Approver) -> dict[str, Any]:
        judged = []
        for incident in self._engine.incidents.open_incidents():
            found, _ = assessment(self._engine.view(incident["id"]))
            judged.append((incident, found))
        return answers.status_card(
            judged, self._engine.approvals.pending(), self._engine.policy(), command.lang,
            self._engine.clock(), ignored_counts(self._engine.store, SEEN),
        )  # fmt: skip

    def _digest(self, command: Command, who: Approver) -> dict[str, Any]:
        return digest.digest_card(digest.week_of(self._engine, self._engine.clock()),
                                  command.lang)  # fmt: skip

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


def _as_recorded(vm: str, incidents: list[Incident]) -> str:
    """`vm` spelt as the incidents name it: Azure VM names ignore case, and what an incident
    tells of a VM (its approval, its fix) is keyed by the recorded spelling."""
    name = vm.lower()
    return next((v for i in incidents for v in i["vms"] if v.lower() == name), vm)


def _resource_ids(vm: str, incidents: list[Incident]) -> list[str]:
    """The resources the incidents name for `vm` (its VM, or its migration item)."""
    name = vm.lower()
    return [
        resource_id
        for incident in incidents
        for listed, resource_id in (incident.get("resources") or {}).items()
        if listed.lower() == name
    ]
