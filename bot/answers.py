"""Chat answer cards: why a VM failed, explain, status, help (English and French)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.cards import answer_card, approval_text, bullets, clip, fact, heading, line, rich, run
from bot.cards import labels as card_labels
from bot.vmfacts import LiveFacts, Replication
from remediation.explain import Explanation

SHOWN_INCIDENTS = 5
TEXT = 300

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "why_title": "Why {vm} failed",
        "nothing": "No incident recorded for {vm}.",
        "cause": "Cause",
        "done": "What was done",
        "next": "What to do next",
        "open": "open",
        "unknown_cause": "Unrecognised error: check the raw message on the incident card.",
        "next_pending": "An approver can approve the proposed fix ({playbook}) on the incident "
        "card, or apply these steps by hand:",
        "next_failed": "The automatic fix failed ({failure}). Apply these steps by hand:",
        "next_running": "The fix is running; the incident card updates when it ends.",
        "next_done": "The fix succeeded; the next backup or replication cycle should confirm "
        "it. If it fails again, apply these steps:",
        "next_resolved": "Resolved: nothing to do unless it fails again.",
        "next_manual": "Apply these steps:",
        "no_fix": "No fix was attempted.",
        "plan": "Plan: {mode} ({reason})",
        "runs": "Fix runs: {counts}",
        "live": "Live from Azure",
        "unavailable": "live data unavailable: {reason}",
        "replication": "Replication {item}: health {health}, {state}",
        "health_error": "Health error {code}: {message}",
        "last_rp": "Last recovery point: {when}",
        "cycle_running": "A delta replication cycle is running ({pct}%).",
        "cycle_at": "Next delta replication cycle expected around {when}.",
        "cycle_between": "Next delta replication cycle expected between {start} and {end} "
        "(1 to 12 hours after the last one, depending on its duration).",
        "job": "Backup job {status} started {start}",
        "log_rows": "Log Analytics: {n} recent {table} row(s)",
        "no_live": "Azure reports nothing about this VM right now.",
        "invalid_vm": "{reason}. VM names have 1-64 letters, digits, '-', '_' or '.'.",
        "explain_title": "Explain: {query}",
        "explain_none": "No catalogue entry matches: {query}",
        "shared": "Code {code} is shared by {n} entries; the message text tells them apart.",
        "automation": "Automation: {how}",
        "manual": "none, manual fix",
        "status_title": "Status",
        "incidents": "Open incidents: {n}",
        "approvals": "Pending approvals: {n}",
        "ignored": "Recorded without an incident: {out} out of scope (not Backup or Migrate), "
        "{quiet} not failures (jobs running or done, informational health errors)",
        "switches": "Automation: {paused} · dry run: {dry_run}",
        "paused": "paused",
        "running": "running",
        "on": "on",
        "off": "off",
        "help_title": "What I can do",
        "help": "why did VM <name> fail|explain <error text or code>|status|"
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
        "nothing": "Aucun incident enregistré pour {vm}.",
        "cause": "Cause",
        "done": "Ce qui a été fait",
        "next": "Que faire ensuite",
        "open": "ouvert",
        "unknown_cause": "Erreur non reconnue : voir le message brut sur la carte de l'incident.",
        "next_pending": "Un approbateur peut approuver la correction proposée ({playbook}) sur la "
        "carte de l'incident, ou appliquer ces étapes à la main :",
        "next_failed": "La correction automatique a échoué ({failure}). Appliquez ces étapes "
        "à la main :",
        "next_running": "La correction est en cours ; la carte de l'incident se met à jour "
        "à la fin.",
        "next_done": "La correction a réussi ; le prochain cycle de sauvegarde ou de réplication "
        "devrait le confirmer. En cas de nouvel échec, appliquez ces étapes :",
        "next_resolved": "Résolu : rien à faire sauf nouvel échec.",
        "next_manual": "Appliquez ces étapes :",
        "no_fix": "Aucune correction tentée.",
        "plan": "Plan : {mode} ({reason})",
        "runs": "Corrections : {counts}",
        "live": "En direct depuis Azure",
        "unavailable": "données en direct indisponibles : {reason}",
        "replication": "Réplication {item} : santé {health}, {state}",
        "health_error": "Erreur de santé {code} : {message}",
        "last_rp": "Dernier point de récupération : {when}",
        "cycle_running": "Un cycle de réplication delta est en cours ({pct} %).",
        "cycle_at": "Prochain cycle de réplication delta prévu vers {when}.",
        "cycle_between": "Prochain cycle de réplication delta prévu entre {start} et {end} "
        "(1 à 12 heures après le précédent, selon sa durée).",
        "job": "Travail de sauvegarde {status} démarré le {start}",
        "log_rows": "Log Analytics : {n} ligne(s) récente(s) de {table}",
        "no_live": "Azure ne signale rien sur cette VM pour le moment.",
        "invalid_vm": "{reason}. Un nom de VM compte 1 à 64 lettres, chiffres, '-', '_' ou '.'.",
        "explain_title": "Explication : {query}",
        "explain_none": "Aucune entrée du catalogue ne correspond : {query}",
        "shared": "Le code {code} est partagé par {n} entrées ; le texte du message les départage.",
        "automation": "Automatisation : {how}",
        "manual": "aucune, correction manuelle",
        "status_title": "État",
        "incidents": "Incidents ouverts : {n}",
        "approvals": "Approbations en attente : {n}",
        "ignored": "Enregistrés sans incident : {out} hors périmètre (ni Sauvegarde ni Migrate), "
        "{quiet} sans échec (travaux en cours ou terminés, erreurs d'intégrité informatives)",
        "switches": "Automatisation : {paused} · simulation : {dry_run}",
        "paused": "suspendue",
        "running": "active",
        "on": "activée",
        "off": "désactivée",
        "help_title": "Ce que je sais faire",
        "help": "pourquoi la VM <nom> a échoué|explique <texte ou code d'erreur>|état|"
        "pause / reprendre (approbateurs)|dry-run on / dry-run off (approbateurs)|aide",
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
    return WORDS.get(lang, WORDS["en"])


# -- why did VM X fail --------------------------------------------------------------------------
def why_card(vm: str, views: list[dict[str, Any]], facts: LiveFacts | None, lang: str) -> dict:
    w = words(lang)
    body: list[dict[str, Any]] = []
    if not views:
        body.append(line(w["nothing"].format(vm=vm)))
    for view in views[:SHOWN_INCIDENTS]:
        body += _incident_story(view, lang)
    if facts is not None:
        body += _live(facts, lang)
    return answer_card(w["why_title"].format(vm=clip(vm, 80)), body)


def _incident_story(view: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    incident, entry = view["incident"], view.get("entry")
    title = entry.title.get(lang) if entry else incident["root_cause"]
    status = w["open"] if incident["status"] == "open" else incident["status"]
    blocks = [
        rich(
            run(clip(title, TEXT), weight="Bolder", size="Medium"),
            run(f"  ({status}, {incident['first_seen']} → {incident['last_seen']})", isSubtle=True),
            spacing="Large",
        ),
    ]
    blocks.append(heading(w["cause"]))
    if entry:
        blocks += bullets(entry.causes.get(lang), 5, lang)
    else:
        blocks.append(line(w["unknown_cause"]))
    for item in (incident.get("evidence") or [])[:2]:
        blocks.append(line(clip(item.get("message"), TEXT), isSubtle=True))
    blocks.append(heading(w["done"]))
    blocks += _done(view, lang)
    blocks.append(heading(w["next"]))
    blocks += _next(view, lang)
    return blocks


def _done(view: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    plan = view["incident"].get("plan") or {}
    done = []
    if plan:
        mode = " ".join(filter(None, (plan.get("mode"), plan.get("playbook"))))
        done.append(line(w["plan"].format(mode=mode, reason=plan.get("reason") or "—")))
    approval = view.get("approval")
    if approval:
        done.append(fact(card_labels(lang)["approval"], approval_text(approval, card_labels(lang))))
    runs = view.get("runs") or []
    if runs:
        counts = Counter(r["state"] for r in runs)
        done.append(line(w["runs"].format(counts=", ".join(f"{n} {s}" for s, n in counts.items()))))
        for item in runs[:3]:
            last = (item.get("journal") or [{}])[-1]
            note = last.get("note") or last.get("step") or ""
            done.append(line(f"• {item['vm']}: {item['state']} {clip(note, 200)}".rstrip()))
    if not done:
        done.append(line(w["no_fix"]))
    return done


def _next(view: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    incident, entry = view["incident"], view.get("entry")
    steps = list(entry.fix_steps.get(lang)) if entry else []
    runs = view.get("runs") or []
    approval = view.get("approval") or {}
    failed = next((r for r in runs if r["state"] == "failed"), None)
    if incident["status"] != "open":
        return [line(w["next_resolved"])]
    if failed:
        intro = w["next_failed"].format(failure=clip(failed.get("failure") or "?", 200))
    elif any(r["state"] in {"pending", "queued", "running", "waiting"} for r in runs):
        return [line(w["next_running"])]
    elif runs and all(r["state"] == "succeeded" for r in runs):
        intro = w["next_done"]
    elif approval.get("state") == "pending":
        intro = w["next_pending"].format(playbook=approval.get("playbook"))
    else:
        intro = w["next_manual"]
    if not steps:
        return [line(intro), line(w["unknown_cause"])]
    return [line(intro), *bullets(steps, 8, lang, numbered=True)]


def _live(facts: LiveFacts, lang: str) -> list[dict[str, Any]]:
    w = words(lang)
    blocks = [heading(w["live"])]
    for item in facts.replication:
        blocks += _replication(item, w)
    for job in facts.backup_jobs:
        blocks.append(line(w["job"].format(status=job["status"], start=job["start"])))
        blocks += [line(f"  {clip(e, TEXT)}", isSubtle=True) for e in job["errors"][:3]]
    for table, rows in facts.logs.items():
        blocks.append(line(w["log_rows"].format(n=len(rows), table=table)))
    for reason in facts.unavailable:
        blocks.append(line(w["unavailable"].format(reason=reason), color="warning"))
    if len(blocks) == 1:
        blocks.append(line(w["no_live"], isSubtle=True))
    return blocks


def _replication(item: Replication, w: dict[str, str]) -> list[dict[str, Any]]:
    blocks = [line(w["replication"].format(item=item.item, health=item.health, state=item.state))]
    for error in item.errors[:3]:
        said = w["health_error"].format(code=error["code"], message=clip(error["message"], TEXT))
        blocks.append(line(said, color="attention"))
        if error["action"]:
            blocks.append(line(f"→ {clip(error['action'], TEXT)}", isSubtle=True))
    if item.last_recovery_point:
        blocks.append(line(w["last_rp"].format(when=item.last_recovery_point)))
    cycle = item.next_cycle
    if cycle and cycle[0] == "running":
        blocks.append(line(w["cycle_running"].format(pct=cycle[1])))
    elif cycle and cycle[0] == "at":
        blocks.append(line(w["cycle_at"].format(when=cycle[1])))
    elif cycle:
        blocks.append(line(w["cycle_between"].format(start=cycle[1], end=cycle[2])))
    return blocks


# -- explain, status, help ------------------------------------------------------------------
def explain_card(explanation: Explanation) -> dict[str, Any]:
    lang = explanation.language
    w = words(lang)
    title = w["explain_title"].format(query=clip(explanation.query, 80))
    if not explanation.entries:
        said = w["explain_none"].format(query=clip(explanation.query, 200))
        return answer_card(title, [line(said)])
    body: list[dict[str, Any]] = []
    if len(explanation.entries) > 1:
        body.append(line(w["shared"].format(code=explanation.matched, n=len(explanation.entries))))
    for entry in explanation.entries:
        automation = entry.automation
        how = f"{automation.playbook} ({automation.mode})" if automation.playbook else w["manual"]
        body += [
            rich(
                run(entry.title.get(lang), weight="Bolder", size="Medium"),
                run(f"  [{entry.id}] {entry.service} · {entry.severity}", isSubtle=True),
                spacing="Large",
            ),
            heading(w["cause"]),
            *bullets(entry.causes.get(lang), 8, lang),
            heading(w["next_manual"]),
            *bullets(entry.fix_steps.get(lang), 12, lang, numbered=True),
            line(w["automation"].format(how=how)),
            line(entry.doc_url, isSubtle=True),
        ]
    return answer_card(title, body)


def status_card(
    incidents: list[dict[str, Any]],
    approvals: list[dict[str, Any]],
    policy: Any,
    lang: str,
    ignored: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Switches, open incidents, pending approvals and, when given, how many signals were
    recorded as out of scope or not failures (`remediation.scope.ignored_counts`)."""
    w = words(lang)
    body = [
        line(
            w["switches"].format(
                paused=w["paused"] if policy.paused else w["running"],
                dry_run=w["on"] if policy.dry_run else w["off"],
            )
        ),
        line(w["incidents"].format(n=len(incidents)), weight="Bolder"),
    ]
    newest = sorted(incidents, key=lambda i: i["last_seen"], reverse=True)
    for incident in newest[:15]:
        vms = incident.get("vms") or []
        count = incident.get("vm_count", len(vms))
        more = f" +{count - min(len(vms), 3)}" if count > min(len(vms), 3) else ""
        body.append(
            fact(
                f"{incident.get('severity')} · {incident['root_cause']}",
                f"{', '.join(vms[:3])}{more} ({incident['id']})",
            )
        )
    if len(newest) > 15:
        body.append(line(f"… +{len(newest) - 15}", isSubtle=True))
    body.append(line(w["approvals"].format(n=len(approvals)), weight="Bolder"))
    for approval in approvals[:15]:
        body.append(
            line(f"• {approval['playbook']} · {approval['incident_id']} · {approval['expires']}")
        )
    if ignored is not None:
        out, quiet = ignored.get("out-of-scope", 0), ignored.get("not-a-failure", 0)
        body.append(line(w["ignored"].format(out=out, quiet=quiet), isSubtle=True))
    return answer_card(w["status_title"], body)


def help_card(lang: str, not_understood: bool = False) -> dict[str, Any]:
    w = words(lang)
    body = [line(w["not_understood"])] if not_understood else []
    body += [line(f"• {item}") for item in w["help"].split("|")]
    return answer_card(w["help_title"], body)
