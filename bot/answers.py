"""Chat answer cards, in English and French: why a VM failed (several incidents summarised),
failed fixes, who approved, explain, status, help.

Every answer reads the incident state the cards read (remediation.outcomes), so chat and cards
never disagree; times are relative, with the asker's local time when Teams sent their zone.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from bot.cards import answer_card, bullets, clip, fact, heading, line, rich, run
from bot.incident_card import assessment, failure_sentence, headline
from bot.timeline import timeline_lines
from bot.vmfacts import LiveFacts, Replication
from bot.wording import (
    OUTCOMES,
    STATES,
    ago,
    azure_state,
    humanize,
    local,
    minute,
    moment,
    playbook_label,
    severity,
)
from bot.wording import words as table
from remediation.explain import Explanation
from remediation.notify import View
from remediation.outcomes import Assessment
from remediation.playbooks.verify import COMPLETED_JOB
from remediation.policy import Policy
from remediation.records import Approval, Incident, Run

SHOWN_INCIDENTS = 5
SHOWN_FAILED = 10
TEXT = 300
TIMELINE_STEPS = 40  # every step of a run (a run has at most a few dozen)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "why_title": "Why {vm} failed",
        "about_title": "What I know about {vm}",
        "nothing": "No incident recorded for {vm}.",
        "did_you_mean": "Did you mean {names}?",
        "ask_again": "Ask again with that name, e.g. \u201cwhy did VM {vm} fail\u201d.",
        "several": "{n} incidents for {vm}, most relevant first:",
        "cause": "Cause",
        "done": "What was done",
        "next": "What to do next",
        "seen": "first seen {when}",
        "local": "{when} your time",
        "unknown_cause": "Unrecognised error: check the raw message on the incident card.",
        "next_pending": "An approver can approve the proposed fix ({playbook}) on the incident "
        "card, or apply these steps by hand:",
        "next_failed": "The automatic fix failed. Retry it from the card, escalate, or apply "
        "these steps by hand:",
        "next_running": "The fix is running; the incident card updates when it ends.",
        "next_resolved": "Resolved: nothing to do unless it fails again.",
        "next_manual": "Apply these steps:",
        "no_fix": "No fix was attempted.",
        "plan": "Plan: {playbook} ({mode})",
        "mode_auto": "automatic",
        "mode_approval": "needs approval",
        "mode_manual": "manual",
        "runs": "Fixes: {counts}",
        "approval": "Approval",
        "live": "Live from Azure",
        "unavailable": "live data unavailable: {reason}",
        "replication": "Replication of {item}: health {health}, {state}",
        "health_error": "Health error {code}: {message}",
        "last_rp": "Last recovery point: {when}",
        "cycle_running": "A delta replication cycle is running ({pct}%).",
        "cycle_at": "Next delta replication cycle expected around {when}.",
        "cycle_between": "Next delta replication cycle expected between {start} and {end} "
        "(1 to 12 hours after the last one, depending on its duration).",
        "job": "Backup job {status}, started {start}",
        "job_group": " (resource group {group})",
        "backup_works": "Azure's latest backup job of {vm} completed {when}, after the failure "
        "{n} open backup incident(s) report.",
        "machine": "VM {vm}: {power}, agent {agent}",
        "agent_silent": "silent",
        "log_rows": "Log Analytics: {n} recent {table} row(s)",
        "no_live": "Azure reports nothing about this VM right now.",
        "live_disagrees": "Azure now reports the replication of {vm} healthy, while {n} "
        "replication incident(s) are still open: they close at the next poll if it stays so.",
        "invalid_vm": "“{name}” is not a valid Azure VM name. VM names have 1-64 letters, "
        "digits, '-', '_' or '.'.",
        "name_a_vm": "Which VM? Name it, e.g. “{example}”.",
        "why_example": "why did VM <name> fail",
        "who_example": "who approved <name>",
        "explain_title": "Explain: {query}",
        "explain_none": "No catalogue entry matches: {query}",
        "shared": "Code {code} is shared by {n} entries; the message text tells them apart.",
        "automation": "Automation: {how}",
        "manual": "none, manual fix",
        "docs": "Microsoft's troubleshooting page",
        "status_title": "Status",
        "incidents": "Open incidents: {n}",
        "by_state": "{state}: {n}",
        "approvals": "Pending approvals: {n}",
        "ignored": "Recorded without an incident: {out} out of scope (not Backup or Migrate), "
        "{quiet} not failures (jobs running or done, informational health errors), {own} "
        "backup jobs the fixes ran themselves",
        "approval_line": "• {playbook} for {vms} · expires {when}",
        "switches": "Automation: {paused} · dry run: {dry_run}",
        "paused": "paused",
        "running": "running",
        "on": "on",
        "off": "off",
        "failed_title": "Failed fixes",
        "no_failed": "No fix has failed.",
        "failed_line": "{vm} · {playbook} · {when}",
        "who_title": "Who decided on {vm}",
        "no_decision": "Nobody has decided on a fix for {vm}.",
        "decided": "{verdict} by {name} {when} ({playbook})",
        "verdict_approved": "Approved",
        "verdict_rejected": "Rejected",
        "verdict_snoozed": "Snoozed",
        "pending_line": "Waiting for a decision ({playbook}), expires {when}",
        "help_title": "What I can do",
        "help": "why did VM <name> fail · what is wrong with <name>|show failed fixes|"
        "who approved <name>|explain <error text or code>|status|digest (the week in one card)|"
        "pause / resume (approvers)|dry-run on / dry-run off (approvers)|help",
        "not_understood": "I did not understand that. Try one of these:",
        "not_approver": "Only remediation approvers can change the automation switches.",
        "membership_unavailable": "Could not check your membership of the approver group: "
        "{reason}; try again.",
        "switched": "Done: {what} is now {value} (set by {name}).",
        "pause_what": "automation",
        "dry_what": "dry run",
    },
    "fr": {
        "why_title": "Pourquoi {vm} a échoué",
        "about_title": "Ce que je sais de {vm}",
        "nothing": "Aucun incident enregistré pour {vm}.",
        "did_you_mean": "Vouliez-vous dire {names} ?",
        "ask_again": "Reposez la question avec ce nom, par exemple « pourquoi la VM {vm} a "
        "échoué ».",
        "several": "{n} incidents pour {vm}, du plus pertinent au moins pertinent :",
        "cause": "Cause",
        "done": "Ce qui a été fait",
        "next": "Que faire ensuite",
        "seen": "détecté {when}",
        "local": "{when} (votre heure)",
        "unknown_cause": "Erreur non reconnue : voir le message brut sur la carte de l'incident.",
        "next_pending": "Un approbateur peut approuver la correction proposée ({playbook}) sur la "
        "carte de l'incident, ou appliquer ces étapes à la main :",
        "next_failed": "La correction automatique a échoué. Relancez-la depuis la carte, "
        "escaladez, ou appliquez ces étapes à la main :",
        "next_running": "La correction est en cours ; la carte de l'incident se met à jour "
        "à la fin.",
        "next_resolved": "Résolu : rien à faire sauf nouvel échec.",
        "next_manual": "Appliquez ces étapes :",
        "no_fix": "Aucune correction tentée.",
        "plan": "Plan : {playbook} ({mode})",
        "mode_auto": "automatique",
        "mode_approval": "approbation requise",
        "mode_manual": "manuel",
        "runs": "Corrections : {counts}",
        "approval": "Approbation",
        "live": "En direct depuis Azure",
        "unavailable": "données en direct indisponibles : {reason}",
        "replication": "Réplication de {item} : santé {health}, {state}",
        "health_error": "Erreur de santé {code} : {message}",
        "last_rp": "Dernier point de récupération : {when}",
        "cycle_running": "Un cycle de réplication delta est en cours ({pct} %).",
        "cycle_at": "Prochain cycle de réplication delta prévu vers {when}.",
        "cycle_between": "Prochain cycle de réplication delta prévu entre {start} et {end} "
        "(1 à 12 heures après le précédent, selon sa durée).",
        "job": "Travail de sauvegarde {status}, démarré {start}",
        "job_group": " (groupe de ressources {group})",
        "backup_works": "Le dernier travail de sauvegarde de {vm} a réussi {when}, après l'échec "
        "que signalent {n} incident(s) de sauvegarde ouvert(s).",
        "machine": "VM {vm} : {power}, agent {agent}",
        "agent_silent": "muet",
        "log_rows": "Log Analytics : {n} ligne(s) récente(s) de {table}",
        "no_live": "Azure ne signale rien sur cette VM pour le moment.",
        "live_disagrees": "Azure signale désormais la réplication de {vm} saine, alors que {n} "
        "incident(s) de réplication restent ouverts : ils se ferment au prochain relevé si "
        "cela se confirme.",
        "invalid_vm": "« {name} » n'est pas un nom de VM Azure valide. Un nom de VM compte 1 à 64 "
        "lettres, chiffres, '-', '_' ou '.'.",
        "name_a_vm": "Quelle VM ? Nommez-la, par exemple « {example} ».",
        "why_example": "pourquoi la VM <nom> a échoué",
        "who_example": "qui a approuvé <nom>",
        "explain_title": "Explication : {query}",
        "explain_none": "Aucune entrée du catalogue ne correspond : {query}",
        "shared": "Le code {code} est partagé par {n} entrées ; le texte du message les départage.",
        "automation": "Automatisation : {how}",
        "manual": "aucune, correction manuelle",
        "docs": "Page de dépannage de Microsoft",
        "status_title": "État",
        "incidents": "Incidents ouverts : {n}",
        "by_state": "{state} : {n}",
        "approvals": "Approbations en attente : {n}",
        "ignored": "Enregistrés sans incident : {out} hors périmètre (ni Sauvegarde ni Migrate), "
        "{quiet} sans échec (travaux en cours ou terminés, erreurs d'intégrité informatives), "
        "{own} travaux de sauvegarde lancés par les corrections elles-mêmes",
        "approval_line": "• {playbook} pour {vms} · expire {when}",
        "switches": "Automatisation : {paused} · simulation : {dry_run}",
        "paused": "suspendue",
        "running": "active",
        "on": "activée",
        "off": "désactivée",
        "failed_title": "Corrections échouées",
        "no_failed": "Aucune correction n'a échoué.",
        "failed_line": "{vm} · {playbook} · {when}",
        "who_title": "Qui a décidé pour {vm}",
        "no_decision": "Personne n'a encore décidé d'une correction pour {vm}.",
        "decided": "{verdict} par {name} {when} ({playbook})",
        "verdict_approved": "Approuvé",
        "verdict_rejected": "Refusé",
        "verdict_snoozed": "Reporté",
        "pending_line": "En attente de décision ({playbook}), expire {when}",
        "help_title": "Ce que je sais faire",
        "help": "pourquoi la VM <nom> a échoué · qu'est-ce qui ne va pas avec <nom>|"
        "corrections échouées|qui a approuvé <nom>|explique <texte ou code d'erreur>|état|"
        "résumé (la semaine en une carte)|pause / reprendre (approbateurs)|"
        "dry-run on / dry-run off (approbateurs)|aide",
        "not_understood": "Je n'ai pas compris. Essayez :",
        "not_approver": "Seuls les approbateurs peuvent modifier les interrupteurs "
        "d'automatisation.",
        "membership_unavailable": "Impossible de vérifier votre appartenance au groupe des "
        "approbateurs : {reason} ; réessayez.",
        "switched": "C'est fait : {what} est maintenant {value} (par {name}).",
        "pause_what": "l'automatisation",
        "dry_what": "la simulation",
    },
}


def words(lang: str) -> dict[str, str]:
    return table(WORDS, lang)


def _when(value: Any, now: datetime, lang: str, timezone: str | None) -> str:
    """ "12 min ago", with the asker's local time when known."""
    said = ago(value, now, lang)
    mine = local(value, timezone)
    return f"{said} ({words(lang)['local'].format(when=mine)})" if mine else said


# -- why did VM X fail -------------------------------------------------------------------------
def why_card(
    vm: str,
    views: list[View],
    facts: LiveFacts | None,
    lang: str,
    *,
    now: datetime | None = None,
    suggestions: list[str] | None = None,
    timezone: str | None = None,
) -> dict:
    """The VM's incidents (several summarised in one line each, the most relevant told in
    full), then what Azure says now."""
    w = words(lang)
    body: list[dict[str, Any]] = []
    if not views:
        body.append(line(w["nothing"].format(vm=vm)))
        if suggestions:
            body.append(line(w["did_you_mean"].format(names=", ".join(suggestions[:3])),
                             weight="Bolder"))  # fmt: skip
            body.append(line(w["ask_again"].format(vm=suggestions[0]), isSubtle=True))
    judged = [(view, *assessment(view)) for view in views[:SHOWN_INCIDENTS]]
    if len(judged) > 1:
        body.append(line(w["several"].format(n=len(views), vm=vm), weight="Bolder"))
        for view, found, seen in judged:
            body.append(_summary_line(view, found, seen, lang))
    if judged:
        view, found, seen = judged[0]
        body += _incident_story(vm, view, found, lang, seen, timezone)
    if facts is not None:
        body += _live(vm, facts, lang, views)
    title = w["why_title" if views else "about_title"]  # no incident: no failure to tell
    return answer_card(title.format(vm=clip(vm, 80, lang)), body)


def _summary_line(view: View, found: Assessment, now: datetime, lang: str) -> dict[str, Any]:
    incident, entry = view["incident"], view.get("entry")
    title = entry.title.get(lang) if entry else incident["root_cause"]
    fired = incident.get("fired_at") or incident.get("first_seen")
    return rich(
        run(f"• {table(STATES, lang)[found.state]}  ", weight="Bolder"),
        run(clip(title, 120, lang)),
        run(f"  · {words(lang)['seen'].format(when=ago(fired, now, lang))}", isSubtle=True),
    )


def _incident_story(
    vm: str, view: View, found: Assessment, lang: str, now: datetime, timezone: str | None
) -> list[dict[str, Any]]:
    w = words(lang)
    incident, entry = view["incident"], view.get("entry")
    title = entry.title.get(lang) if entry else incident["root_cause"]
    fired = incident.get("fired_at") or incident.get("first_seen")
    blocks = [
        rich(
            run(clip(title, TEXT, lang), weight="Bolder", size="Medium"),
            run(
                f"  {table(STATES, lang)[found.state]} · "
                f"{w['seen'].format(when=_when(fired, now, lang, timezone))}",
                isSubtle=True,
            ),
            spacing="Large",
        ),
        line(headline(found, view, lang, now)),
        heading(w["cause"]),
    ]
    if entry:
        blocks += bullets(entry.causes.get(lang), 5, lang)
    else:
        blocks.append(line(w["unknown_cause"]))
    for item in (incident.get("evidence") or [])[:1]:
        blocks.append(line(clip(humanize(item.get("message")), TEXT, lang), isSubtle=True))
    blocks.append(heading(w["done"]))
    blocks += _done(vm, view, found, lang, now)
    blocks.append(heading(w["next"]))
    blocks += _next(view, found, lang)
    return blocks


def _done(vm: str, view: View, found: Assessment, lang: str, now: datetime) -> list[dict[str, Any]]:
    w = words(lang)
    plan = view["incident"].get("plan")
    done = []
    if plan and plan.get("playbook"):
        mode = w.get(f"mode_{plan.get('mode')}", plan.get("mode") or "—")
        done.append(line(w["plan"].format(playbook=playbook_label(plan["playbook"], lang),
                                          mode=mode)))  # fmt: skip
    mine = found.of(vm)
    if mine and mine.approval:
        done.append(fact(w["approval"], _decision_text(mine.approval, lang, now)))
    outcomes = table(OUTCOMES, lang)
    counts = Counter(v.outcome for v in found.vms if v.run)
    if counts:
        said = ", ".join(f"{n} {outcomes.get(o, o)}" for o, n in counts.items())
        done.append(line(w["runs"].format(counts=said)))
    if mine and mine.run:
        done += timeline_lines(mine.run, lang, now, TIMELINE_STEPS)
    if not done:
        done.append(line(w["no_fix"]))
    return done


def _decision_text(approval: Approval, lang: str, now: datetime) -> str:
    w = words(lang)
    state = approval["state"]
    playbook = playbook_label(approval.get("playbook"), lang)
    if state == "pending":
        return w["pending_line"].format(playbook=playbook, when=ago(approval["expires"], now, lang))
    verdict = "approved" if state not in {"rejected", "snoozed"} else state
    decider = approval.get("decided_by")
    by = (decider.get("name") if decider else None) or "?"
    return w["decided"].format(verdict=w[f"verdict_{verdict}"], name=by, playbook=playbook,
                               when=ago(approval.get("decided_at"), now, lang))  # fmt: skip


def _next(view: View, found: Assessment, lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    entry = view.get("entry")
    steps = list(entry.fix_steps.get(lang)) if entry else []
    if found.settled:
        return [line(w["next_resolved"])]
    if found.state == "fixing":
        return [line(w["next_running"])]
    if found.state == "failed":
        intro = w["next_failed"]
    elif found.why == "awaiting-approval":
        plan = view["incident"].get("plan")
        playbook = playbook_label(plan.get("playbook") if plan else None, lang)
        intro = w["next_pending"].format(playbook=playbook)
    else:
        intro = w["next_manual"]
    if not steps:
        return [line(intro), line(w["unknown_cause"])]
    return [line(intro), *bullets(steps, 8, lang, numbered=True)]


def _live(vm: str, facts: LiveFacts, lang: str, views: list[View]) -> list[dict]:
    w = words(lang)
    blocks = [heading(w["live"])]
    for machine in facts.machines:
        said = w["machine"].format(
            vm=machine.name,
            power=azure_state(machine.power, lang),
            agent=", ".join(azure_state(a, lang) for a in machine.agent) or w["agent_silent"],
        )
        blocks.append(line(said))
    for item in facts.replication:
        blocks += _replication(item, lang)
    healthy = any(r.health == "Normal" for r in facts.replication)
    open_replication = _open(views, "migrate")
    if healthy and open_replication:
        said = w["live_disagrees"].format(vm=vm, n=len(open_replication))
        blocks.append(line(said, color="warning"))
    # Jobs of same-named VMs in several resource groups are told apart by their group.
    namesakes = len({(job["group"] or "").lower() for job in facts.backup_jobs}) > 1
    for job in facts.backup_jobs:
        said = w["job"].format(status=azure_state(job["status"], lang), start=minute(job["start"]))
        if namesakes and job["group"]:
            said += w["job_group"].format(group=job["group"])
        blocks.append(line(said))
        blocks += [
            line(f"  {clip(humanize(e), TEXT, lang)}", isSubtle=True) for e in job["errors"][:3]
        ]
    blocks += _backup_works_again(vm, facts, views, lang)
    for table_name, rows in facts.logs.items():
        blocks.append(line(w["log_rows"].format(n=len(rows), table=table_name)))
    for reason in facts.unavailable:
        blocks.append(line(w["unavailable"].format(reason=humanize(reason)), color="warning"))
    if len(blocks) == 1:
        blocks.append(line(w["no_live"], isSubtle=True))
    return blocks


def _open(views: list[View], service: str) -> list[View]:
    """The open incidents of a service ("backup", "migrate...")."""
    return [
        v for v in views
        if v["incident"]["status"] == "open"
        and (v["incident"].get("service") or "").startswith(service)
    ]  # fmt: skip


def _backup_works_again(vm: str, facts: LiveFacts, views: list[View], lang: str) -> list[dict]:
    """A warning when Azure's newest backup job of the VM completed after the failures that
    open backup incidents report (e.g. a late alert after a fix)."""
    newest = facts.backup_jobs[0] if facts.backup_jobs else None
    done = moment(newest["end"] or newest["start"]) if newest else None
    if newest is None or done is None or newest["status"] not in COMPLETED_JOB:
        return []
    older = [v for v in _open(views, "backup") if (_failed_at(v) or done) < done]
    if not older:
        return []
    said = words(lang)["backup_works"].format(vm=vm, when=minute(done), n=len(older))
    return [line(said, color="warning")]


def _failed_at(view: View) -> datetime | None:
    incident = view["incident"]
    return moment(incident.get("fired_at") or incident.get("first_seen"))


def _replication(item: Replication, lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    blocks = [
        line(
            w["replication"].format(
                item=item.item, health=azure_state(item.health, lang), state=item.state
            )
        )
    ]
    for error in item.errors[:3]:
        said = w["health_error"].format(
            code=error["code"], message=clip(humanize(error["message"]), TEXT, lang)
        )
        blocks.append(line(said, color="attention"))
        if error["action"]:
            blocks.append(line(f"→ {clip(humanize(error['action']), TEXT, lang)}", isSubtle=True))
    if item.last_recovery_point:
        blocks.append(line(w["last_rp"].format(when=minute(item.last_recovery_point))))
    cycle = item.next_cycle
    if cycle and cycle[0] == "running":
        blocks.append(line(w["cycle_running"].format(pct=cycle[1])))
    elif cycle and cycle[0] == "at":
        blocks.append(line(w["cycle_at"].format(when=minute(cycle[1]))))
    elif cycle:
        blocks.append(line(w["cycle_between"].format(start=minute(cycle[1]), end=minute(cycle[2]))))
    return blocks


# -- failed fixes, who approved ------------------------------------------------------------------
def failed_fixes_card(failed: list[tuple[View, Run]], lang: str, now: datetime) -> dict[str, Any]:
    """The latest failed fix of each VM, newest first: `failed` pairs (view, run)."""
    w = words(lang)
    body: list[dict[str, Any]] = []
    if not failed:
        body.append(line(w["no_failed"]))
    for view, item in failed[:SHOWN_FAILED]:
        found, _ = assessment(view)
        entry = view.get("entry")
        title = entry.title.get(lang) if entry else view["incident"]["root_cause"]
        said = w["failed_line"].format(vm=item["vm"], when=ago(item["updated"], now, lang),
                                       playbook=playbook_label(item["playbook"], lang))  # fmt: skip
        body.append(rich(run("✗ ", color="attention"), run(said, weight="Bolder"),
                         run(f"  {clip(title, 120, lang)}", isSubtle=True),
                         spacing="Medium"))  # fmt: skip
        mine = found.of(item["vm"])
        if mine is not None and mine.outcome == "fix-failed":
            only = Assessment(found.state, "fix-failed", (mine,))
            body.append(line(clip(failure_sentence(only, lang), TEXT, lang)))
    if len(failed) > SHOWN_FAILED:
        body.append(line(f"… +{len(failed) - SHOWN_FAILED}", isSubtle=True))
    return answer_card(w["failed_title"], body)


def who_approved_card(
    vm: str, approvals: list[Approval], lang: str, now: datetime
) -> dict[str, Any]:
    """Every decision on a fix of `vm`, newest first (pending ones say so)."""
    w = words(lang)
    shown = [a for a in approvals if a["state"] not in {"superseded", "withdrawn", "expired"}]
    shown.sort(key=lambda a: a.get("decided_at") or a["created"], reverse=True)
    body = [line(_decision_text(a, lang, now)) for a in shown[:SHOWN_FAILED]]
    return answer_card(w["who_title"].format(vm=clip(vm, 80, lang)),
                       body or [line(w["no_decision"].format(vm=vm))])  # fmt: skip


# -- explain, status, help ------------------------------------------------------------------
def explain_card(explanation: Explanation) -> dict[str, Any]:
    lang = explanation.language
    w = words(lang)
    title = w["explain_title"].format(query=clip(explanation.query, 80, lang))
    if not explanation.entries:
        said = w["explain_none"].format(query=clip(explanation.query, 200, lang))
        return answer_card(title, [line(said)])
    body: list[dict[str, Any]] = []
    if len(explanation.entries) > 1:
        body.append(line(w["shared"].format(code=explanation.matched, n=len(explanation.entries))))
    for entry in explanation.entries:
        automation = entry.automation
        how = (
            f"{playbook_label(automation.playbook, lang)} ({automation.playbook}, "
            f"{w.get('mode_' + automation.mode, automation.mode)})"
            if automation.playbook
            else w["manual"]
        )
        body += [
            rich(
                run(entry.title.get(lang), weight="Bolder", size="Medium"),
                run(
                    f"  [{entry.id}] {entry.service} · {severity(entry.severity, lang)}",
                    isSubtle=True,
                ),
                spacing="Large",
            ),
            heading(w["cause"]),
            *bullets(entry.causes.get(lang), 8, lang),
            heading(w["next_manual"]),
            *bullets(entry.fix_steps.get(lang), 12, lang, numbered=True),
            line(w["automation"].format(how=how)),
            rich(
                run(
                    w["docs"],
                    color="accent",
                    selectAction={"type": "Action.OpenUrl", "url": entry.doc_url},
                )
            ),
        ]
    return answer_card(title, body)


def status_card(
    judged: list[tuple[Incident, Assessment]],
    approvals: list[Approval],
    policy: Policy,
    lang: str,
    now: datetime,
    ignored: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Open incidents by state, each with its VMs; pending approvals; the switches; and, when
    given, how many signals were recorded as out of scope or not failures
    (`remediation.scope.ignored_counts`)."""
    w = words(lang)
    states = table(STATES, lang)
    counts = Counter(found.state for _, found in judged)
    body = [
        line(w["switches"].format(paused=w["paused"] if policy.paused else w["running"],
                                  dry_run=w["on"] if policy.dry_run else w["off"])),
        line(w["incidents"].format(n=len(judged)), weight="Bolder"),
    ]  # fmt: skip
    if counts:
        said = " · ".join(
            w["by_state"].format(state=states[s].lower(), n=n) for s, n in sorted(counts.items())
        )
        body.append(line(said))
    newest = sorted(judged, key=lambda j: j[0]["last_seen"], reverse=True)
    for incident, found in newest[:15]:
        vms = incident.get("vms") or []
        count = incident.get("vm_count", len(vms))
        more = f" +{count - min(len(vms), 3)}" if count > min(len(vms), 3) else ""
        body.append(
            fact(
                f"{states[found.state]} · {_title(incident, lang)}",
                f"{', '.join(vms[:3])}{more} · {ago(incident['last_seen'], now, lang)}",
            )
        )
    if len(newest) > 15:
        body.append(line(f"… +{len(newest) - 15}", isSubtle=True))
    body.append(line(w["approvals"].format(n=len(approvals)), weight="Bolder"))
    for approval in approvals[:15]:
        names = ", ".join(t.get("vm") or "?" for t in approval.get("targets") or [])
        body.append(line(w["approval_line"].format(
            playbook=playbook_label(approval["playbook"], lang), vms=names or "—",
            when=ago(approval["expires"], now, lang))))  # fmt: skip
    if ignored is not None:
        out, quiet = ignored.get("out-of-scope", 0), ignored.get("not-a-failure", 0)
        own = ignored.get("fix-job", 0)
        body.append(line(w["ignored"].format(out=out, quiet=quiet, own=own), isSubtle=True))
    return answer_card(w["status_title"], body)


def _title(incident: Incident, lang: str) -> str:
    from remediation.catalogue import default_catalogue

    entry_id = incident.get("entry_id")
    entry = default_catalogue().get(entry_id) if entry_id else None
    return entry.title.get(lang) if entry else str(incident.get("root_cause") or "—")


def help_card(lang: str, not_understood: bool = False) -> dict[str, Any]:
    w = words(lang)
    body = [line(w["not_understood"])] if not_understood else []
    body += [line(f"• {item}") for item in w["help"].split("|")]
    return answer_card(w["help_title"], body)
