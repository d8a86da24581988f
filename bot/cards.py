"""Adaptive Cards (1.5) for Teams: the incident card and the small chat answer cards.

Untrusted text (error messages, VM names, user names, ARM ids) only ever goes into
RichTextBlock TextRuns, which Teams renders without markdown, and every string is defanged so
the Adaptive Card templating marker "${" never appears. Lists and texts are truncated with a
count so that a 500-VM storm with 20 KB messages stays far below the 100 KB message limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from remediation.signals.arm_id import ArmId

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_CARD_BYTES = 100 * 1024
SHOWN_VMS = 5
SHOWN_RUNS = 10
SHOWN_NOTES = 5
SHOWN_FINDINGS = 6
SHORT_TEXT = 300
LONG_TEXT = 2000
PORTAL = "https://portal.azure.com/#@/resource"
DECISION_VERBS = ("approve", "reject", "snooze")

_SEVERITY_COLOR = {"critical": "attention", "warning": "warning", "info": "accent"}
_STATE_COLOR = {
    "succeeded": "good",
    "approved": "good",
    "executing": "accent",
    "failed": "attention",
    "rejected": "attention",
    "expired": "warning",
    "snoozed": "warning",
    "cancelled": "warning",
}

_AFTER_APPROVAL = frozenset({"approved", "executing", "succeeded", "failed"})

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "critical": "CRITICAL",
        "warning": "WARNING",
        "info": "INFO",
        "vms": "Affected VMs",
        "more": "and {n} more",
        "count": "({n}, {active} still failing)",
        "status": "Status",
        "seen": "Seen",
        "signals": "Signals",
        "causes": "Possible causes",
        "steps": "How to fix",
        "evidence": "Evidence",
        "plan": "Plan",
        "runs": "Progress",
        "notes": "Notes",
        "approval": "Approval",
        "pending": "Waiting for an approver (expires {when})",
        "decided": "{state} by {name} at {when}",
        "dry_run": "DRY RUN: fixes are planned and reported, nothing is written to Azure.",
        "paused": "AUTOMATION PAUSED: no fix starts until someone resumes it.",
        "approve": "Approve fix",
        "reject": "Reject",
        "snooze": "Snooze 24h",
        "details": "Details",
        "portal": "Open in Azure portal",
        "docs": "Documentation",
        "raw": "Raw error messages",
        "unclassified": "Unrecognised error",
        "mode_auto": "automatic fix with {playbook}",
        "mode_approval": "{playbook}, needs approval",
        "mode_manual": "manual fix (no automation)",
        "truncated": "… ({n} more characters)",
        "no_runs": "No fix has started yet.",
        "checks_ok": "{n} check(s) passed",
        "incident": "Incident",
        "approved": "Approved",
        "rejected": "Rejected",
        "snoozed": "Snoozed",
        "expired": "Expired",
        "executing": "fix running",
        "succeeded": "fix succeeded",
        "failed": "fix failed",
    },
    "fr": {
        "critical": "CRITIQUE",
        "warning": "AVERTISSEMENT",
        "info": "INFO",
        "vms": "VM concernées",
        "more": "et {n} autres",
        "count": "({n}, {active} toujours en échec)",
        "status": "État",
        "seen": "Vu",
        "signals": "Signaux",
        "causes": "Causes possibles",
        "steps": "Correction",
        "evidence": "Constats",
        "plan": "Plan",
        "runs": "Avancement",
        "notes": "Remarques",
        "approval": "Approbation",
        "pending": "En attente d'un approbateur (expire le {when})",
        "decided": "{state} par {name} le {when}",
        "dry_run": "SIMULATION : les corrections sont planifiées et décrites, "
        "rien n'est écrit dans Azure.",
        "paused": "AUTOMATISATION SUSPENDUE : aucune correction ne démarre avant la reprise.",
        "approve": "Approuver la correction",
        "reject": "Refuser",
        "snooze": "Reporter 24 h",
        "details": "Détails",
        "portal": "Ouvrir dans le portail Azure",
        "docs": "Documentation",
        "raw": "Messages d'erreur bruts",
        "unclassified": "Erreur non reconnue",
        "mode_auto": "correction automatique avec {playbook}",
        "mode_approval": "{playbook}, approbation requise",
        "mode_manual": "correction manuelle (pas d'automatisation)",
        "truncated": "… ({n} caractères de plus)",
        "no_runs": "Aucune correction n'a encore démarré.",
        "checks_ok": "{n} vérification(s) réussie(s)",
        "incident": "Incident",
        "approved": "Approuvé",
        "rejected": "Refusé",
        "snoozed": "Reporté",
        "expired": "Expiré",
        "executing": "correction en cours",
        "succeeded": "correction réussie",
        "failed": "correction échouée",
    },
}


def labels(lang: str | None) -> dict[str, str]:
    return LABELS.get(lang or "en", LABELS["en"])


# -- safe text ------------------------------------------------------------------------------
def defang(text: Any) -> str:
    """Any value as text that no Adaptive Card template engine would expand."""
    return str("" if text is None else text).replace("${", "$\u200b{")


def clip(text: Any, limit: int, lang: str = "en") -> str:
    """At most `limit` characters, saying how many were cut."""
    value = defang(text)
    if len(value) <= limit:
        return value
    return value[:limit] + " " + labels(lang)["truncated"].format(n=len(value) - limit)


def run(text: Any, **style: Any) -> dict[str, Any]:
    """A TextRun: rendered verbatim, never as markdown."""
    return {"type": "TextRun", "text": defang(text), **style}


def rich(*inlines: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(inlines), **props}


def line(*texts: Any, **style: Any) -> dict[str, Any]:
    """One line of untrusted text (several pieces are joined by a space)."""
    return rich(run(" ".join(str(t) for t in texts), **style))


def fact(label: str, value: Any, **style: Any) -> dict[str, Any]:
    """`label: value`, the label bold, the value verbatim."""
    return rich(run(f"{label}: ", weight="Bolder"), run(value, **style))


def heading(text: str) -> dict[str, Any]:
    return rich(run(text, weight="Bolder", size="Medium"), spacing="Medium")


def bullets(items: Iterable[Any], limit: int, lang: str, numbered: bool = False) -> list[dict]:
    items = list(items)
    shown = [
        line(f"{n}." if numbered else "•", clip(item, SHORT_TEXT, lang))
        for n, item in enumerate(items[:limit], 1)
    ]
    if len(items) > limit:
        shown.append(line(labels(lang)["more"].format(n=len(items) - limit), isSubtle=True))
    return shown


def card(body: list[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
    }
    if actions:
        doc["actions"] = list(actions)
    return doc


def size_of(doc: dict[str, Any]) -> int:
    """Bytes of the card as sent (UTF-8 JSON)."""
    return len(json.dumps(doc, ensure_ascii=False).encode("utf-8"))


def portal_url(arm_id: str | None) -> str | None:
    """The portal page of an ARM resource, or None for anything that is not an ARM id."""
    if arm_id is None or ArmId.parse(arm_id) is None:
        return None
    return PORTAL + quote(arm_id.strip(), safe="/")


# -- the incident card ----------------------------------------------------------------------
def incident_card(
    view: dict[str, Any], *, notice: str | None = None, compact: bool = False
) -> dict[str, Any]:
    """The one card per incident: what failed, why, what was done or is proposed, buttons.

    `notice` is shown on top (e.g. why a click was refused); `compact` drops the causes, fix
    steps and evidence, for when Teams refuses the full card as too large.
    """
    incident = view["incident"]
    lang = incident.get("language") or "en"
    text = labels(lang)
    body: list[dict[str, Any]] = []
    if notice:
        body.append(line(notice, weight="Bolder", color="warning"))
    body += _banners(view.get("policy") or {}, text)
    body.append(_title(view, text))
    body += _summary(incident, text, lang)
    entry = view.get("entry")
    if entry is not None and not compact:
        body.append(heading(text["causes"]))
        body += bullets(entry.causes.get(lang), 8, lang)
        body.append(heading(text["steps"]))
        body += bullets(entry.fix_steps.get(lang), 12, lang, numbered=True)
    if not compact:
        body += _evidence(incident, text, lang)
    body += _progress(view, text, lang)
    doc = card(body, _actions(view, text, lang, compact))
    if not compact and size_of(doc) > MAX_CARD_BYTES * 0.9:
        return incident_card(view, notice=notice, compact=True)
    return doc


def _banners(policy: dict[str, Any], text: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    if policy.get("paused"):
        found.append(line(text["paused"], weight="Bolder", color="attention"))
    if policy.get("dry_run"):
        found.append(line(text["dry_run"], weight="Bolder", color="warning"))
    return found


def _title(view: dict[str, Any], text: dict[str, str]) -> dict[str, Any]:
    incident, entry = view["incident"], view.get("entry")
    lang = incident.get("language") or "en"
    severity = incident.get("severity") or "warning"
    title = entry.title.get(lang) if entry else f"{text['unclassified']}: {incident['root_cause']}"
    return rich(
        run(
            text.get(severity, severity.upper()),
            weight="Bolder",
            color=_SEVERITY_COLOR.get(severity, "default"),
        ),
        run("  "),
        run(clip(title, SHORT_TEXT, lang), weight="Bolder", size="Large"),
    )


def _summary(incident: dict[str, Any], text: dict[str, str], lang: str) -> list[dict[str, Any]]:
    vms = incident.get("vms") or []
    shown = ", ".join(clip(vm, 80, lang) for vm in vms[:SHOWN_VMS])
    # A large storm lists its first VMs and counts the rest (remediation.incidents).
    count = incident.get("vm_count", len(vms))
    if count > min(len(vms), SHOWN_VMS):
        shown += ", " + text["more"].format(n=count - min(len(vms), SHOWN_VMS))
    active = incident.get("active_count", len(incident.get("active_vms") or []))
    return [
        fact(text["vms"] + " " + text["count"].format(n=count, active=active), shown),
        fact(text["status"], incident.get("status")),
        fact(text["seen"], f"{incident.get('first_seen')} → {incident.get('last_seen')}"),
        fact(text["signals"], incident.get("signal_count")),
        fact(text["incident"], f"{incident['id']} · {incident.get('scope')}", isSubtle=True),
    ]


def _evidence(incident: dict[str, Any], text: dict[str, str], lang: str) -> list[dict]:
    evidence = incident.get("evidence") or []
    if not evidence:
        return []
    blocks = [heading(text["evidence"])]
    for item in evidence[:SHOWN_VMS]:
        codes = ", ".join(str(c) for c in item.get("codes") or []) or "—"
        blocks.append(
            rich(
                run(clip(item.get("vm") or "?", 80, lang), weight="Bolder"),
                run(
                    f"  {clip(codes, 120, lang)}  ·  {item.get('time') or '—'}"
                    f"  ·  {item.get('source') or '—'}",
                    isSubtle=True,
                ),
            )
        )
        blocks.append(line(clip(item.get("message"), SHORT_TEXT, lang)))
    return blocks


def _progress(view: dict[str, Any], text: dict[str, str], lang: str) -> list[dict[str, Any]]:
    incident = view["incident"]
    plan = incident.get("plan") or {}
    blocks = [heading(text["plan"])]
    if plan:
        mode = plan.get("mode") or "manual"
        described = text[f"mode_{mode}"].format(playbook=plan.get("playbook") or "—")
        blocks.append(fact(text["plan"], f"{described} ({plan.get('reason') or '—'})"))
    approval = view.get("approval")
    if approval:
        blocks.append(_approval_line(approval, text))
    runs = view.get("runs") or []
    blocks.append(heading(text["runs"]))
    if not runs:
        blocks.append(line(text["no_runs"], isSubtle=True))
    for item in runs[:SHOWN_RUNS]:
        last = (item.get("journal") or [{}])[-1]
        note = last.get("note") or last.get("step") or ""
        blocks.append(
            rich(
                run(clip(item.get("vm"), 80, lang), weight="Bolder"),
                run(f"  {item.get('state')}", color=_STATE_COLOR.get(item.get("state"), "default")),
                run(f"  {clip(note, 200, lang)}" if note else "", isSubtle=True),
            )
        )
        if item.get("failure"):
            blocks.append(line(clip(item["failure"], SHORT_TEXT, lang), color="attention"))
        blocks += _findings(item, text, lang)
    if len(runs) > SHOWN_RUNS:
        blocks.append(line(text["more"].format(n=len(runs) - SHOWN_RUNS), isSubtle=True))
    notes = incident.get("notes") or []
    if notes:
        blocks.append(heading(text["notes"]))
        blocks += bullets(notes, SHOWN_NOTES, lang)
    return blocks


def _findings(item: dict[str, Any], text: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """What a read-only diagnosis found: every failing check, and how many passed."""
    found = (item.get("context") or {}).get("findings") or []
    failing = [f for f in found if not f.get("ok")]
    blocks = [
        rich(run("✗ ", color="attention"),
             run(clip(f"{f.get('check')}: {f.get('detail')}", SHORT_TEXT, lang)))
        for f in failing[:SHOWN_FINDINGS]
    ]  # fmt: skip
    if len(failing) > SHOWN_FINDINGS:
        blocks.append(line(text["more"].format(n=len(failing) - SHOWN_FINDINGS), isSubtle=True))
    if len(found) > len(failing):
        blocks.append(line("✓ " + text["checks_ok"].format(n=len(found) - len(failing)),
                           color="good", isSubtle=True))  # fmt: skip
    return blocks


def _approval_line(approval: dict[str, Any], text: dict[str, str]) -> dict[str, Any]:
    state = approval.get("state")
    return fact(text["approval"], approval_text(approval, text),
                color=_STATE_COLOR.get(state, "default"))  # fmt: skip


def approval_text(approval: dict[str, Any], text: dict[str, str]) -> str:
    """Who decided what and when, then where the fix is; or how long it waits."""
    state = str(approval.get("state"))
    if state == "pending":
        return text["pending"].format(when=approval.get("expires"))
    decided = approval.get("decided_by") or {}
    if not decided:
        return text.get(state, state)
    verdict = "approved" if state in _AFTER_APPROVAL else state
    said = text["decided"].format(
        state=text.get(verdict, verdict.capitalize()),
        name=decided.get("name") or "?",
        when=approval.get("decided_at"),
    )
    if verdict != state:
        said += f" · {text.get(state, state)}"
    if approval.get("snoozed_until"):
        said += f" (→ {approval['snoozed_until']})"
    return said


def _actions(
    view: dict[str, Any], text: dict[str, str], lang: str, compact: bool
) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    approval = view.get("approval")
    if approval and approval.get("state") == "pending":
        actions += [
            {
                "type": "Action.Execute",
                "title": text[verb],
                "verb": verb,
                "data": {"approvalId": approval["id"]},
            }
            for verb in DECISION_VERBS
        ]
    incident = view["incident"]
    evidence = incident.get("evidence") or []
    if evidence:
        limit = SHORT_TEXT if compact else LONG_TEXT
        raw = [heading(text["raw"])]
        for item in evidence[:SHOWN_VMS]:
            raw.append(line(clip(item.get("vm") or "?", 80, lang), weight="Bolder"))
            raw.append(line(clip(item.get("message"), limit, lang), fontType="Monospace"))
        actions.append({"type": "Action.ShowCard", "title": text["details"], "card": card(raw)})
    resources = incident.get("resources") or {}
    first = next((resources.get(vm) for vm in incident.get("vms") or [] if resources.get(vm)), None)
    url = portal_url(first)
    if url:
        actions.append({"type": "Action.OpenUrl", "title": text["portal"], "url": url})
    entry = view.get("entry")
    if entry is not None:
        actions.append({"type": "Action.OpenUrl", "title": text["docs"], "url": entry.doc_url})
    return actions


# -- chat answers -----------------------------------------------------------------------------
def answer_card(title: str, body: list[dict[str, Any]]) -> dict[str, Any]:
    """A chat answer: a title then blocks, capped like the incident card."""
    doc = card([heading(title), *body])
    while size_of(doc) > MAX_CARD_BYTES * 0.9 and len(doc["body"]) > 2:
        doc["body"] = [*doc["body"][: len(doc["body"]) // 2], line("…", isSubtle=True)]
    return doc


def notice_card(message: str, *, color: str = "warning") -> dict[str, Any]:
    """One sentence, e.g. the answer to a refused click on a card that no longer exists."""
    return card([line(clip(message, LONG_TEXT), weight="Bolder", color=color)])
