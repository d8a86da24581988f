"""The incident card: one per incident, edited in place, and only ever as true as its runs.

Its colour, headline, counts and buttons follow the incident's state (remediation.outcomes):
a resolved card has no decision buttons and says why; a failed one says why in one sentence,
with Azure's evidence folded under Details, and offers to retry, to run the other fix a retry
revealed, or to escalate. Each pending approval has its own buttons beside the VMs it binds.
The timeline of every step and the evidence stay collapsed until asked for. Every button
carries ids only; every untrusted text goes into TextRuns (bot.cards).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cards import (
    LONG_TEXT,
    MAX_CARD_BYTES,
    SHORT_TEXT,
    bullets,
    buttons,
    card,
    clip,
    execute,
    fact,
    heading,
    hidden,
    line,
    open_url,
    portal_url,
    rich,
    run,
    size_of,
    toggle,
)
from bot.details import details_blocks
from bot.timeline import last_step, timeline_blocks
from bot.wording import (
    OUTCOMES,
    STATES,
    ago,
    humanize,
    in_language,
    minute,
    moment,
    name_of,
    playbook_label,
    severity,
    step_label,
    until,
)
from bot.wording import words as table
from remediation.clock import utcnow
from remediation.notify import View
from remediation.outcomes import SETTLED, Assessment, assess, run_outcome
from remediation.playbooks.cleanup_restore_points import KEEP_LOCK_OFF, RESTORE_LOCK
from remediation.playbooks.preconditions import describe
from remediation.policy import PAUSED
from remediation.records import Approval, Incident, Person, Run

SHOWN_VMS = 5
SHOWN_FAILURES = 3
SHOWN_RUNS = 10
SHOWN_FINDINGS = 6
SHOWN_APPROVALS = 3
PRIMARY_ACTIONS = 2  # what fits beside the overflow button on a phone

_STYLE = {"open": "warning", "fixing": "accent", "resolved": "good", "failed": "attention",
          "needs-attention": "warning", "snoozed": "emphasis"}  # fmt: skip
_COLOR = {"open": "warning", "fixing": "accent", "resolved": "good", "failed": "attention",
          "needs-attention": "warning", "snoozed": "default"}  # fmt: skip
_SEVERITY_COLOR = {"critical": "attention", "warning": "warning", "info": "accent"}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "unclassified": "Unrecognised error",
        "fixed": "Fixed: Azure shows the fix worked for {vms}.",
        "recovered": "Resolved: Azure reports {vms} healthy again.",
        "alone": "Healthy again without a fix: {vms}.",
        "not-confirmed": "Withdrawn: Azure does not show this failure; nothing was changed.",
        "by-hand": "Resolved by hand by {name}: {note}",
        "fixing": "Fix running for {vms}.",
        "fix-failed": "Fix failed for {vm}: {why}",
        "fix-failed-generic": "Fix failed for {vm} at step \u201c{step}\u201d.",
        "escalated": "Escalated by {name}: to be handled by hand, no fix runs automatically.",
        "rejected": "Fix rejected: apply the steps by hand.",
        "expired": "Nobody decided before the approval expired.",
        "manual": "No automatic fix for this error: apply the steps by hand.",
        "manual-paused": "Automation was paused when this failure came in, so no fix was "
        "proposed: apply the steps by hand.",
        "manual-policy": "The policy has this fixed by hand here: apply the steps by hand.",
        "in-doubt": "Signals disagree on which resource {vm} is: no fix runs until a person "
        "checks.",
        "dry-run": "Dry run: nothing was written to Azure.",
        "not-started": "The fix could not start: {note}",
        "counted": "{n} VMs beyond those listed are failing: no automatic fix for them.",
        "flood": "A flood of new incidents was held back.",
        "snoozed": "Snoozed until {when}.",
        "awaiting-approval": "Waiting for an approver to decide on the fix.",
        "failing": "The automatic fix starts when policy allows.",
        "owner": "Owned by {name}",
        "acknowledged": "acknowledged {when}",
        "unowned": "Nobody has acknowledged it yet.",
        "vms": "VMs ({n})",
        "reported_failing": "{n} reported failing",
        "more": "and {n} more",
        "first_seen": "First seen",
        "fired": "{when} (alert fired)",
        "received": "{when} (first received)",
        "last_signal": "Last signal",
        "vault": "Vault",
        "conflict": "{vm}: signals name different resources ({names})",
        "why_failed": "Why it failed",
        "revealed": "A backup of {vm} hit another known error: {title}.",
        "linked": "Its own incident is open: {title}.",
        "decision": "Decision needed for {vms}",
        "expires": "expires {when}",
        "will": "The fix will:",
        "checks_first": "Before its first write, it checks that:",
        "lock_cause": "The lock on the AzureBackupRG_* group is the cause: it stops Azure Backup "
        "from cleaning up old restore points. Microsoft's advice is to keep that group unlocked "
        "(the second choice).",
        "approved": "Approved by {name} {when}",
        "rejected_by": "Rejected by {name} {when}",
        "snoozed_by": "Snoozed by {name} until {until}",
        "withdrawn": "Approval withdrawn: {note}",
        "expired_line": "Approval expired {when}",
        "not_started_line": "Approved, but the fix could not start: {note}",
        "kept_off": "the lock stays off",
        "put_back": "the lock goes back",
        "progress": "Progress",
        "step_of": "step {n} of {total}: {label}",
        "queued": "waiting to start",
        "ended": "{outcome} {when}",
        "checks_ok": "{n} check(s) passed",
        "dry_run_banner": "DRY RUN: fixes are planned and reported, nothing is written to Azure.",
        "paused_banner": "AUTOMATION PAUSED: no fix starts until someone resumes it.",
        "approve": "Approve",
        "approve_lock": "Clean up, put the lock back",
        "approve_no_lock": "Clean up, keep the lock off",
        "reject": "Reject",
        "snooze": "Snooze",
        "retry": "Retry fix",
        "retried_by": "retried by {name} {when}",
        "other_fix": "Run the other fix",
        "acknowledge": "Acknowledge",
        "assign": "Assign to me",
        "resolve": "Resolve…",
        "resolve_note": "What was done (required)",
        "resolve_send": "Resolve",
        "escalate": "Escalate",
        "unsnooze": "Un-snooze",
        "timeline": "Timeline",
        "details": "Details",
        "alert": "Azure alert",
        "portal": "Portal",
        "docs": "Docs",
    },
    "fr": {
        "unclassified": "Erreur non reconnue",
        "fixed": "Corrigé : Azure montre que la correction a fonctionné pour {vms}.",
        "recovered": "Résolu : Azure signale {vms} de nouveau en bonne santé.",
        "alone": "De nouveau en bonne santé sans correction : {vms}.",
        "not-confirmed": "Retiré : Azure ne montre pas cet échec ; rien n'a été modifié.",
        "by-hand": "Résolu à la main par {name} : {note}",
        "fixing": "Correction en cours pour {vms}.",
        "fix-failed": "La correction a échoué pour {vm} : {why}",
        "fix-failed-generic": "La correction a échoué pour {vm} à l'étape « {step} ».",
        "escalated": "Escaladé par {name} : à traiter à la main, aucune correction automatique.",
        "rejected": "Correction refusée : appliquez les étapes à la main.",
        "expired": "Personne n'a décidé avant l'expiration de l'approbation.",
        "manual": "Pas de correction automatique pour cette erreur : appliquez les étapes "
        "à la main.",
        "manual-paused": "L'automatisation était suspendue à l'arrivée de cet échec, aucune "
        "correction n'a donc été proposée : appliquez les étapes à la main.",
        "manual-policy": "La stratégie prévoit ici une correction à la main : appliquez les "
        "étapes à la main.",
        "in-doubt": "Les signaux divergent sur la ressource {vm} : aucune correction avant "
        "vérification.",
        "dry-run": "Simulation : rien n'a été écrit dans Azure.",
        "not-started": "La correction n'a pas pu démarrer : {note}",
        "counted": "{n} VM au-delà de la liste sont en échec : pas de correction automatique.",
        "flood": "Un afflux de nouveaux incidents a été retenu.",
        "snoozed": "Reporté jusqu'au {when}.",
        "awaiting-approval": "En attente d'un approbateur pour la correction.",
        "failing": "La correction automatique démarre dès que la stratégie le permet.",
        "owner": "Pris en charge par {name}",
        "acknowledged": "pris en compte {when}",
        "unowned": "Personne ne l'a encore pris en compte.",
        "vms": "VM ({n})",
        "reported_failing": "{n} signalée(s) en échec",
        "more": "et {n} autres",
        "first_seen": "Première détection",
        "fired": "{when} (alerte déclenchée)",
        "received": "{when} (première réception)",
        "last_signal": "Dernier signal",
        "vault": "Coffre",
        "conflict": "{vm} : les signaux désignent des ressources différentes ({names})",
        "why_failed": "Pourquoi ça a échoué",
        "revealed": "Une sauvegarde de {vm} a rencontré une autre erreur connue : {title}.",
        "linked": "Son propre incident est ouvert : {title}.",
        "decision": "Décision requise pour {vms}",
        "expires": "expire {when}",
        "will": "La correction va :",
        "checks_first": "Avant sa première écriture, elle vérifie que :",
        "lock_cause": "Le verrou sur le groupe AzureBackupRG_* est la cause : il empêche "
        "Azure Backup de nettoyer les anciens points. Microsoft conseille de laisser ce groupe "
        "sans verrou (le second choix).",
        "approved": "Approuvé par {name} {when}",
        "rejected_by": "Refusé par {name} {when}",
        "snoozed_by": "Reporté par {name} jusqu'au {until}",
        "withdrawn": "Approbation retirée",
        "expired_line": "Approbation expirée {when}",
        "not_started_line": "Approuvé, mais la correction n'a pas pu démarrer",
        "kept_off": "le verrou reste levé",
        "put_back": "le verrou est remis",
        "progress": "Avancement",
        "step_of": "étape {n} sur {total} : {label}",
        "queued": "en attente de démarrage",
        "ended": "{outcome} {when}",
        "checks_ok": "{n} vérification(s) réussie(s)",
        "dry_run_banner": "SIMULATION : les corrections sont planifiées et décrites, rien n'est "
        "écrit dans Azure.",
        "paused_banner": "AUTOMATISATION SUSPENDUE : aucune correction ne démarre avant la "
        "reprise.",
        "approve": "Approuver",
        "approve_lock": "Nettoyer, remettre le verrou",
        "approve_no_lock": "Nettoyer, laisser le verrou levé",
        "reject": "Refuser",
        "snooze": "Reporter",
        "retry": "Réessayer",
        "retried_by": "relancée par {name} {when}",
        "other_fix": "Autre correction",
        "acknowledge": "Acquitter",
        "assign": "M'assigner",
        "resolve": "Résoudre…",
        "resolve_note": "Ce qui a été fait (obligatoire)",
        "resolve_send": "Résoudre",
        "escalate": "Escalader",
        "unsnooze": "Réactiver",
        "timeline": "Chronologie",
        "details": "Détails",
        "alert": "Alerte Azure",
        "portal": "Portail",
        "docs": "Doc",
    },
}

# What an approval's writes say (the playbooks' own phrases), in French.
_WRITES_FR = {
    "lift the lock(s) on the backup group": "lever le(s) verrou(s) du groupe de sauvegarde",
    "trigger an on-demand backup": "lancer une sauvegarde à la demande",
    "delete the collection, only if Azure Backup did not clean it up": "supprimer la "
    "collection, seulement si Azure Backup ne l'a pas nettoyée",
    "put the lock(s) back exactly (unless you keep them off)": "remettre le(s) verrou(s) à "
    "l'identique (sauf si vous les laissez levés)",
    "resync the migration item (VMwareCbt, CBT not reset)": "resynchroniser l'élément de "
    "migration (VMwareCbt, sans réinitialiser le CBT)",
    "remove the failed VMSnapshot extension": "retirer l'extension VMSnapshot en échec",
}


def words(lang: str | None) -> dict[str, str]:
    return table(WORDS, lang)


@dataclass(frozen=True)
class _Card:
    """What every section of one card reads."""

    view: View
    incident: Incident
    lang: str
    w: dict[str, str]
    now: datetime
    found: Assessment
    compact: bool

    @property
    def id(self) -> str:
        return self.incident["id"]

    def ago(self, value: Any) -> str:
        """ "12 min ago" while the card still changes; a settled card, edited no more, says
        when in UTC instead, so it never reads "12 min ago" a week later."""
        return minute(value) if self.found.settled else ago(value, self.now, self.lang)

    def until(self, value: Any) -> str:
        """When something ends: the UTC time, and how far off while the card still changes."""
        return minute(value) if self.found.settled else until(value, self.now, self.lang)


def assessment(view: View) -> tuple[Assessment, datetime]:
    """The incident's state as of the view (its engine's clock, else now)."""
    now = _now(view)
    approvals = view.get("approvals")
    if approvals is None:
        approvals = [view["approval"]] if view.get("approval") else []
    return assess(view["incident"], view.get("runs") or [], approvals, now), now


def incident_card(
    view: View, *, notice: str | None = None, compact: bool = False
) -> dict[str, Any]:
    """The card of `view`'s incident. `notice` is shown on top (e.g. why a click was
    refused); `compact` drops the catalogue's causes and steps, the evidence and most of the
    timeline, for when Teams refuses the full card as too large."""
    incident = view["incident"]
    lang = incident.get("language") or "en"
    found, now = assessment(view)
    c = _Card(view, incident, lang, words(lang), now, found, compact)
    body: list[dict[str, Any]] = []
    if notice:
        body.append(line(notice, weight="Bolder", color="warning"))
    body += _banners(c)
    body.append(_header(c))
    body += _owner(c)
    body += _facts(c)
    body += _failures(c)
    body += _approvals(c)
    body += _progress(c)
    body += _folded(c)
    doc = card(body, _actions(c))
    if not compact and size_of(doc) > MAX_CARD_BYTES * 0.9:
        return incident_card(view, notice=notice, compact=True)
    return doc


def _now(view: View) -> datetime:
    return moment(view.get("now")) or utcnow()


# -- top: state, title, one sentence ---------------------------------------------------------
def _banners(c: _Card) -> list[dict[str, Any]]:
    policy = c.view.get("policy") or {}
    found = []
    if policy.get("paused"):
        found.append(line(c.w["paused_banner"], weight="Bolder", color="attention"))
    if policy.get("dry_run"):
        found.append(line(c.w["dry_run_banner"], weight="Bolder", color="warning"))
    return found


def _header(c: _Card) -> dict[str, Any]:
    state = c.found.state
    entry = c.view.get("entry")
    level = c.incident.get("severity") or "warning"
    title = entry.title.get(c.lang) if entry else f"{c.w['unclassified']}: {_cause(c)}"
    return {
        "type": "Container",
        "style": _STYLE[state],
        "items": [
            rich(
                run(table(STATES, c.lang)[state], weight="Bolder", color=_COLOR[state]),
                run(
                    f"  ·  {severity(level, c.lang)}",
                    isSubtle=True,
                    color=_SEVERITY_COLOR.get(level, "default"),
                ),
            ),
            rich(run(clip(title, SHORT_TEXT, c.lang), weight="Bolder", size="Large")),
            line(clip(headline(c.found, c.view, c.lang, c.now), LONG_TEXT, c.lang)),
        ],
    }


def _cause(c: _Card) -> str:
    cause = str(c.incident.get("root_cause") or "")
    return cause.removeprefix("unclassified:")


def headline(found: Assessment, view: View, lang: str, now: datetime) -> str:
    """The one sentence that says where the incident stands and why."""
    w = words(lang)
    incident = view["incident"]
    if found.why == "by-hand":
        resolution = incident.get("resolution")
        by = resolution.get("by") if resolution else None
        note = resolution.get("note") if resolution else None
        return w["by-hand"].format(name=_name_of(by), note=note or "")
    if found.why in {"fixed", "recovered", "fixing"}:
        said = w[found.why].format(vms=_with(found, found.why, w) or _names(incident["vms"], w))
        alone = _with(found, "recovered", w) if found.why == "fixed" else ""
        return f"{said} {w['alone'].format(vms=alone)}" if alone else said
    if found.why == "fix-failed":
        return failure_sentence(found, lang)
    if found.why == "escalated":
        return w["escalated"].format(name=_name_of(incident.get("escalated")))
    if found.why == "in-doubt":
        doubted = [v.vm for v in found.vms if v.outcome == "in-doubt"]
        return w["in-doubt"].format(vm=_names(doubted, w))
    if found.why == "not-started":
        note = next((v.approval.get("note") for v in found.vms if v.approval), None)
        return w["not-started"].format(note=humanize(note or "—"))
    if found.why == "counted":
        return w["counted"].format(n=found.counted_failing)
    if found.why == "snoozed":
        ends = next((v.approval.get("snoozed_until") for v in found.vms if v.approval), None)
        return w["snoozed"].format(when=until(ends, now, lang))
    if found.why == "flood":
        notes = incident.get("notes") or []
        return humanize(notes[0]) if notes and lang == "en" else w["flood"]
    if found.why == "manual":
        return w[_manual_why(incident.get("plan"))]
    return w.get(found.why, w["failing"])


def _manual_why(plan: Any) -> str:
    """Why a fix exists for the error and yet none was proposed: paused, or the policy."""
    if not plan or not plan.get("playbook"):
        return "manual"
    return "manual-paused" if plan.get("reason") == PAUSED else "manual-policy"


def _with(found: Assessment, outcome: str, w: dict[str, str]) -> str:
    """The VMs whose outcome is `outcome`, named for a sentence."""
    return _names([v.vm for v in found.vms if v.outcome == outcome], w)


def failure_sentence(found: Assessment, lang: str) -> str:
    """Why the first failed fix failed, in one sentence."""
    w = words(lang)
    failed = next(v for v in found.vms if v.outcome == "fix-failed")
    why = in_language(_failure(failed.run), lang)
    if why:
        return w["fix-failed"].format(vm=failed.vm, why=why)
    step = (_context(failed.run).get("error") or {}).get("step") or last_step(failed.run)
    return w["fix-failed-generic"].format(vm=failed.vm, step=step_label(step, lang))


def _failure(run_: Run | None) -> str:
    return (run_.get("failure") if run_ else None) or ""


def _context(run_: Run | None) -> dict[str, Any]:
    """The run's scratch state (remediation.records.Run), empty when there is none."""
    return (run_.get("context") if run_ else None) or {}


def _name_of(person: Person | None) -> str:
    return (person.get("name") if person else None) or "?"


def _names(vms: list[str], w: dict[str, str]) -> str:
    shown = ", ".join(vms[:SHOWN_VMS])
    if len(vms) > SHOWN_VMS:
        shown += ", " + w["more"].format(n=len(vms) - SHOWN_VMS)
    return shown


def _owner(c: _Card) -> list[dict[str, Any]]:
    owner, acked = c.incident.get("owner"), c.incident.get("acknowledged")
    if owner:
        said = c.w["owner"].format(name=owner.get("name") or "?")
        if acked:
            said += " · " + c.w["acknowledged"].format(when=c.ago(acked.get("at")))
        return [line(said, weight="Bolder")]
    if c.found.settled:
        return []
    return [line(c.w["unowned"], isSubtle=True)]


# -- facts -----------------------------------------------------------------------------------
def _facts(c: _Card) -> list[dict[str, Any]]:
    incident, w = c.incident, c.w
    outcomes = table(OUTCOMES, c.lang)
    listed = [
        f"{clip(v.vm, 80)} ({outcomes.get(v.outcome, v.outcome)})" for v in c.found.vms[:SHOWN_VMS]
    ]
    count = incident.get("vm_count", len(incident.get("vms") or []))
    if count > len(listed):
        listed.append(w["more"].format(n=count - len(listed)))
    blocks = []
    if count:
        blocks.append(fact(w["vms"].format(n=count), ", ".join(listed)))
    if count > 1:
        blocks.append(line(_counts(c), isSubtle=True))
    fired = incident.get("fired_at")  # a signal with no time of its own: when it came in
    when = (
        w["fired"].format(when=c.ago(fired))
        if fired
        else w["received"].format(when=c.ago(incident.get("first_seen")))
    )
    blocks.append(fact(w["first_seen"], when))
    blocks.append(fact(w["last_signal"], c.ago(incident.get("last_seen"))))
    vault = incident.get("vault") or name_of(incident.get("vault_id"))
    if vault:
        blocks.append(fact(w["vault"], vault))
    for vm, resources in list((incident.get("identity_conflicts") or {}).items())[:SHOWN_VMS]:
        names = ", ".join(str(name_of(r)) for r in resources)
        blocks.append(line("⚠ " + w["conflict"].format(vm=vm, names=names), color="warning"))
    return blocks


def _counts(c: _Card) -> str:
    """ "3 reported failing · 1 fixed": the VMs by outcome, counted VMs among the failing
    (reported: until a fix reads Azure, only the signals say so)."""
    outcomes = table(OUTCOMES, c.lang)
    settled = [(o, n) for o, n in c.found.counts.items() if o in SETTLED and n]
    said = [c.w["reported_failing"].format(n=c.found.failing)]
    said += [f"{n} {outcomes.get(o, o)}" for o, n in sorted(settled)]
    return " · ".join(said)


# -- why it failed, and what follows ------------------------------------------------------------
def _failures(c: _Card) -> list[dict[str, Any]]:
    failed = [v for v in c.found.vms if v.outcome == "fix-failed" and v.run]
    revealed = [v for v in c.found.vms if _revealed(v.run)]
    if not failed and not revealed:
        return []
    blocks: list[dict[str, Any]] = []
    for vm in failed[:SHOWN_FAILURES]:
        why = in_language(_failure(vm.run), c.lang) or failure_sentence(
            Assessment(c.found.state, "fix-failed", (vm,)), c.lang
        )
        if len(failed) > 1:  # one failure: the headline says it already
            blocks.append(rich(run("✗ ", color="attention"), run(f"{vm.vm}: ", weight="Bolder"),
                               run(clip(why, SHORT_TEXT, c.lang))))  # fmt: skip
        blocks += _after_failure(c, vm.run)
    if len(failed) > SHOWN_FAILURES:
        blocks.append(line(c.w["more"].format(n=len(failed) - SHOWN_FAILURES), isSubtle=True))
    for vm in revealed[:SHOWN_FAILURES]:
        if vm not in failed:
            blocks += _after_failure(c, vm.run)
    said = any(block["type"] != "ActionSet" for block in blocks)
    return [heading(c.w["why_failed"]), *blocks] if said else blocks  # a heading needs words


def _revealed(run_: Run | None) -> str | None:
    return _context(run_).get("revealed_entry")


def _after_failure(c: _Card, run_: Run | None) -> list[dict[str, Any]]:
    """What a failed run revealed, and the buttons that follow it."""
    blocks: list[dict[str, Any]] = []
    if not run_:
        return blocks
    actions = []
    settled = c.found.settled
    if run_.get("state") == "failed" and not settled:
        actions.append(execute(c.w["retry"], "retry", {"runId": run_["id"]}))
    entry_id = _revealed(run_)
    if entry_id:
        entries = c.view.get("entries")
        entry = entries.get(entry_id) if entries else None
        title = entry.title.get(c.lang) if entry else entry_id
        blocks.append(line(c.w["revealed"].format(vm=run_.get("vm"), title=title)))
        linked = [r for r in c.incident.get("related") or [] if r.get("entry_id") == entry_id]
        if linked:
            blocks.append(line("→ " + c.w["linked"].format(title=title), color="good"))
        elif not settled:
            actions.append(execute(c.w["other_fix"], "other-fix", {"runId": run_["id"]}))
    if actions and not c.incident.get("escalated"):
        actions.append(execute(c.w["escalate"], "escalate", {"incidentId": c.id}))
    for row in range(0, len(actions), 2):  # two to a row: a phone fits no more
        blocks.append(buttons(*actions[row : row + 2]))
    return blocks


# -- approvals ---------------------------------------------------------------------------------
def _approvals(c: _Card) -> list[dict[str, Any]]:
    approvals = c.view.get("approvals")
    if approvals is None:
        approvals = [c.view["approval"]] if c.view.get("approval") else []
    ordered = sorted(approvals, key=lambda a: a["created"])
    blocks: list[dict[str, Any]] = []
    for approval in ordered[-SHOWN_APPROVALS:]:
        if approval["state"] == "pending" and _live(approval, c.now) and not c.found.settled:
            blocks += _decision(c, approval)
        else:
            said = _decided(c, approval)
            if said:
                blocks.append(line(said, isSubtle=True))
    return blocks


def _live(approval: Approval, now: datetime) -> bool:
    expires = moment(approval.get("expires"))
    return expires is None or expires > now


def _decision(c: _Card, approval: Approval) -> list[dict[str, Any]]:
    """The buttons of one pending approval, beside the VMs and writes it binds."""
    w = c.w
    vms = [t.get("vm") or "?" for t in approval.get("targets") or []]
    blocks = [
        heading(w["decision"].format(vms=_names(vms, w))),
        line(playbook_label(approval.get("playbook"), c.lang) + " · "
             + w["expires"].format(when=c.ago(approval.get("expires"))), isSubtle=True),
    ]  # fmt: skip
    writes = [_write(phrase, c.lang) for phrase in approval.get("writes") or []]
    if writes:
        blocks.append(line(w["will"]))
        blocks += bullets(writes, 8, c.lang)
    checks = [describe(check, c.lang) for check in approval.get("checks") or []]
    if checks:
        blocks.append(line(w["checks_first"]))
        blocks += bullets(checks, 8, c.lang)
    data = {"approvalId": approval["id"]}
    choices = approval.get("choices") or []
    if KEEP_LOCK_OFF in choices:
        blocks.append(line(w["lock_cause"], isSubtle=True))
        blocks.append(
            buttons(
                execute(
                    w["approve_lock"], "approve", {**data, "choice": RESTORE_LOCK}, style="positive"
                )
            )
        )
        blocks.append(buttons(execute(w["approve_no_lock"], "approve",
                                      {**data, "choice": KEEP_LOCK_OFF})))  # fmt: skip
        blocks.append(buttons(execute(w["reject"], "reject", data),
                              execute(w["snooze"], "snooze", data)))  # fmt: skip
    else:
        blocks.append(buttons(execute(w["approve"], "approve", data, style="positive"),
                              execute(w["reject"], "reject", data),
                              execute(w["snooze"], "snooze", data)))  # fmt: skip
    return blocks


def _write(phrase: str, lang: str) -> str:
    return _WRITES_FR.get(phrase, phrase) if lang == "fr" else phrase


def _decided(c: _Card, approval: Approval) -> str | None:
    """One line for an approval that is no longer waiting."""
    w, state = c.w, approval["state"]
    by = _name_of(approval.get("decided_by"))
    when = c.ago(approval.get("decided_at"))
    if state in {"approved", "executing", "succeeded", "failed", "dry-run", "not-confirmed"}:
        said = w["approved"].format(name=by, when=when)
        if approval.get("choice") == KEEP_LOCK_OFF:
            said += " · " + w["kept_off"]
        elif approval.get("choice") == RESTORE_LOCK:
            said += " · " + w["put_back"]
        return said
    if state == "rejected":
        return w["rejected_by"].format(name=by, when=when)
    if state == "snoozed":
        return w["snoozed_by"].format(name=by, until=c.until(approval.get("snoozed_until")))
    if state == "withdrawn":
        note = humanize(approval.get("note") or "")
        return w["withdrawn"].format(note=note) if c.lang == "en" else w["withdrawn"]
    if state == "expired" or state == "pending":
        return w["expired_line"].format(when=c.ago(approval.get("expires")))
    if state == "not-started":
        note = humanize(approval.get("note") or "")
        return w["not_started_line"].format(note=note) if c.lang == "en" else w["not_started_line"]
    return None  # superseded: its VMs are on the approval that replaced it


# -- progress ------------------------------------------------------------------------------------
def _progress(c: _Card) -> list[dict[str, Any]]:
    shown = [(v, v.run) for v in c.found.vms if v.run][:SHOWN_RUNS]
    if not shown:
        return []
    outcomes = table(OUTCOMES, c.lang)
    blocks = [heading(c.w["progress"])]
    for vm, run_ in shown:
        playbook = playbook_label(run_.get("playbook"), c.lang)
        if vm.outcome == "fixing" and not run_.get("journal"):
            said, color = c.w["queued"], "accent"
        elif vm.outcome == "fixing":
            total = max(len(run_.get("journal") or []), 1)
            step = last_step(run_)
            said = c.w["step_of"].format(n=run_.get("step", 0) + 1, total=_steps(run_) or total,
                                         label=step_label(step, c.lang))  # fmt: skip
            color = "accent"
        else:  # how the run ended, whatever the VM did since
            ended = run_outcome(run_) or vm.outcome
            said = c.w["ended"].format(outcome=outcomes.get(ended, ended),
                                       when=c.ago(run_.get("updated")))  # fmt: skip
            color = _COLOR.get(_OUTCOME_STATE.get(ended, "open"), "default")
        name = run(f"{clip(vm.vm, 80)}  ", weight="Bolder")
        retried = _retried(c, run_)
        blocks.append(rich(name, run(f"{playbook} · ", isSubtle=True), run(said, color=color),
                           *([run(retried, isSubtle=True)] if retried else [])))  # fmt: skip
        blocks += _findings(c, run_)
    return blocks


def _retried(c: _Card, run_: Run) -> str | None:
    """ " · retried by Alex 5 min ago" for a run a person asked to run again."""
    by = run_.get("retried_by")
    if not by:
        return None
    return " · " + c.w["retried_by"].format(name=_name_of(by), when=c.ago(by.get("at")))


_OUTCOME_STATE = {"fixed": "resolved", "not-confirmed": "resolved", "fix-failed": "failed",
                  "dry-run": "needs-attention"}  # fmt: skip


def _steps(run_: Run) -> int | None:
    from remediation.playbooks import PLAYBOOKS

    playbook = PLAYBOOKS.get(run_.get("playbook") or "")
    return len(playbook.steps) if playbook else None


def _findings(c: _Card, run_: Run) -> list[dict[str, Any]]:
    """What a read-only diagnosis found: every failing check, and how many passed."""
    found = (run_.get("context") or {}).get("findings") or []
    failing = [f for f in found if not f.get("ok")]
    blocks = [
        rich(run("✗ ", color="attention"),
             run(clip(f"{f.get('check')}: {_said(f.get('detail'), c.lang)}", SHORT_TEXT, c.lang)))
        for f in failing[:SHOWN_FINDINGS]
    ]  # fmt: skip
    if len(failing) > SHOWN_FINDINGS:
        blocks.append(line(c.w["more"].format(n=len(failing) - SHOWN_FINDINGS), isSubtle=True))
    if len(found) > len(failing):
        blocks.append(line("✓ " + c.w["checks_ok"].format(n=len(found) - len(failing)),
                           color="good", isSubtle=True))  # fmt: skip
    return blocks


def _said(sentence: Any, lang: str) -> str:
    """A fix's sentence in the card's language where known, else as the fix wrote it."""
    return in_language(str(sentence), lang) or humanize(sentence)


# -- folded sections: timeline and details ----------------------------------------------------
def _folded(c: _Card) -> list[dict[str, Any]]:
    timeline_id, details_id = f"timeline-{c.id}", f"details-{c.id}"
    runs = [v.run for v in c.found.vms if v.run]
    timeline = timeline_blocks(runs[:SHOWN_RUNS], c.lang, c.now, compact=c.compact)
    details = _details(c)
    toggles = [toggle(c.w["details"], details_id)]
    if timeline:
        toggles.insert(0, toggle(c.w["timeline"], timeline_id))
    blocks = [buttons(*toggles, spacing="Medium")]
    if timeline:
        blocks.append(hidden(timeline_id, timeline))
    blocks.append(hidden(details_id, details))
    return blocks


def _details(c: _Card) -> list[dict[str, Any]]:
    return details_blocks(c.view, c.found, c.lang, compact=c.compact)


# -- card actions ----------------------------------------------------------------------------
def _actions(c: _Card) -> list[dict[str, Any]]:
    """The on-call buttons the state allows (short verbs; the rest in the overflow menu),
    then links. A resolved card keeps its links only."""
    w, state, incident = c.w, c.found.state, c.incident
    on_call: list[dict[str, Any]] = []
    if not c.found.settled and incident.get("status") == "open":
        target = {"incidentId": c.id}
        snoozed = next((v.approval for v in c.found.vms
                        if v.outcome == "snoozed" and v.approval), None)  # fmt: skip
        if snoozed:
            on_call.append(execute(w["unsnooze"], "unsnooze", {"approvalId": snoozed["id"]}))
        if not incident.get("acknowledged"):
            on_call.append(execute(w["acknowledge"], "acknowledge", target))
        if state != "fixing":
            on_call.append(_resolve(c))
        on_call.append(execute(w["assign"], "assign", target))
        if not incident.get("escalated") and state != "failed":  # failed: beside Retry
            on_call.append(execute(w["escalate"], "escalate", target))
    links = _links(c)
    primary = on_call[:PRIMARY_ACTIONS]
    secondary = [{**a, "mode": "secondary"} for a in on_call[PRIMARY_ACTIONS:] + links]
    return primary + secondary


def _resolve(c: _Card) -> dict[str, Any]:
    """Resolve by hand: a note, then the click that carries it with the incident's id."""
    form = card(
        [
            {"type": "Input.Text", "id": "note", "isMultiline": True, "maxLength": 500,
             "label": c.w["resolve_note"], "isRequired": True},
        ],
        [execute(c.w["resolve_send"], "resolve", {"incidentId": c.id})],
    )  # fmt: skip
    del form["$schema"], form["version"]
    return {"type": "Action.ShowCard", "title": c.w["resolve"], "card": form}


def _links(c: _Card) -> list[dict[str, Any]]:
    found = []
    evidence = c.incident.get("evidence") or []
    alert = next((e.get("investigation_link") for e in evidence
                  if e.get("investigation_link")), None)  # fmt: skip
    if alert:
        found.append(open_url(c.w["alert"], alert))
    url = portal_url(_portal_target(c.incident))
    if url:
        found.append(open_url(c.w["portal"], url))
    entry = c.view.get("entry")
    if entry is not None:
        found.append(open_url(c.w["docs"], entry.doc_url))
    return found


def _portal_target(incident: Incident) -> str | None:
    """The blade that shows the failure: the first VM (or its migration item), else the
    vault."""
    resources = incident.get("resources") or {}
    first = next((resources[vm] for vm in incident.get("vms") or [] if resources.get(vm)), None)
    if first:
        return first
    evidence = incident.get("evidence") or []
    return next((e["resource_id"] for e in evidence if e.get("resource_id")), None) or (
        incident.get("vault_id")
    )
