"""The incident card's folded Details: the evidence behind what the card says.

Azure's own answer to a failed step (status, error code and message, the request id to quote
to Microsoft) and the ARM writes the fix made as the audit log recorded them; the catalogue's
causes and steps; the signals' evidence; the times in UTC; and the full ids, which every other
part of the card replaces by names.
"""

from __future__ import annotations

from typing import Any

from bot.cards import LONG_TEXT, SHORT_TEXT, bullets, clip, fact, heading, line, rich, run
from bot.timeline import last_step
from bot.wording import humanize, name_of, playbook_label, step_label, utc
from bot.wording import words as table
from remediation.notify import View
from remediation.outcomes import Assessment
from remediation.records import Incident, Run

SHOWN = 5
SHOWN_WRITES = 8

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "azure": "What Azure answered for {vm}",
        "step": "Step",
        "error": "Error",
        "request": "Request id",
        "recorded": "As recorded",
        "writes": "Changes made in Azure",
        "ok": "done",
        "failed": "failed",
        "repeats": " ({n} times)",
        "causes": "Possible causes",
        "steps": "How to fix",
        "evidence": "Evidence",
        "fired": "Fired",
        "job": "Backup job",
        "source": "Source",
        "plan": "Plan",
        "mode_auto": "automatic",
        "mode_approval": "needs approval",
        "mode_manual": "manual",
        "notes": "Notes",
        "times": "Times (UTC)",
        "first_seen": "First seen (alert fired)",
        "received": "First received",
        "last_seen": "Last signal",
        "resolved": "Resolved",
        "ids": "Ids",
        "incident": "Incident",
        "scope": "Grouped by",
    },
    "fr": {
        "azure": "Réponse d'Azure pour {vm}",
        "step": "Étape",
        "error": "Erreur",
        "request": "Id de requête",
        "recorded": "Tel qu'enregistré",
        "writes": "Modifications faites dans Azure",
        "ok": "fait",
        "failed": "échec",
        "repeats": " ({n} fois)",
        "causes": "Causes possibles",
        "steps": "Correction",
        "evidence": "Constats",
        "fired": "Déclenchée",
        "job": "Travail de sauvegarde",
        "source": "Source",
        "plan": "Plan",
        "mode_auto": "automatique",
        "mode_approval": "approbation requise",
        "mode_manual": "manuel",
        "notes": "Remarques",
        "times": "Heures (UTC)",
        "first_seen": "Première détection (alerte déclenchée)",
        "received": "Première réception",
        "last_seen": "Dernier signal",
        "resolved": "Résolu",
        "ids": "Identifiants",
        "incident": "Incident",
        "scope": "Regroupé par",
    },
}


def details_blocks(
    view: View, found: Assessment, lang: str, *, compact: bool = False
) -> list[dict[str, Any]]:
    w = table(WORDS, lang)
    incident, entry = view["incident"], view.get("entry")
    blocks: list[dict[str, Any]] = []
    failed = [(v.vm, v.run) for v in found.vms if v.run and v.outcome == "fix-failed"]
    for vm, run_ in failed[:SHOWN]:
        blocks += _azure_answer(vm, run_, (view.get("writes") or {}), w, lang)
    if entry is not None and not compact:
        blocks.append(heading(w["causes"]))
        blocks += bullets(entry.causes.get(lang), 8, lang)
        blocks.append(heading(w["steps"]))
        blocks += bullets(entry.fix_steps.get(lang), 12, lang, numbered=True)
    blocks += _evidence(incident, w, lang, compact)
    blocks += _plan(incident, w, lang)
    blocks += _times(incident, w)
    blocks += _ids(incident, w)
    return blocks


def _azure_answer(vm: str, run_: Run, writes, w, lang: str) -> list[dict[str, Any]]:
    error = (run_.get("context") or {}).get("error") or {}
    blocks = [heading(w["azure"].format(vm=vm))]
    step = error.get("step") or last_step(run_)
    blocks.append(fact(w["step"], step_label(step, lang)))
    code = " ".join(str(p) for p in (error.get("status"), error.get("code")) if p)
    if code:
        blocks.append(fact(w["error"], code))
    if error.get("message"):
        blocks.append(line(clip(humanize(error["message"]), SHORT_TEXT, lang), isSubtle=True))
    if error.get("request_id"):
        blocks.append(fact(w["request"], error["request_id"], fontType="Monospace"))
    if run_.get("failure"):
        blocks.append(fact(w["recorded"], clip(humanize(run_["failure"]), SHORT_TEXT, lang)))
    made = writes.get(run_.get("id")) or []
    if made:
        blocks.append(line(w["writes"], weight="Bolder"))
    for write, times in _runs_of(made)[-SHOWN_WRITES:]:
        result = w["ok"] if write.get("result") == "ok" else w["failed"]
        blocks.append(
            rich(
                run(f"• {_action(write.get('action'))} {name_of(write.get('target')) or ''}: "),
                run(result + (w["repeats"].format(n=times) if times > 1 else ""),
                    color="good" if result == w["ok"] else "attention"),
                run(f"  {utc(write.get('time'))}  {write.get('request_id') or ''}", isSubtle=True),
            )
        )  # fmt: skip
    return blocks


def _runs_of(writes: list[dict[str, Any]]) -> list[tuple[dict[str, Any], int]]:
    """Repeats of one write in a row (a retried delete) as one line: the last, and how many."""
    grouped: list[tuple[dict[str, Any], int]] = []
    for write in writes:
        key = (write.get("action"), write.get("target"), write.get("result"))
        if grouped and (grouped[-1][0].get("action"), grouped[-1][0].get("target"),
                        grouped[-1][0].get("result")) == key:  # fmt: skip
            grouped[-1] = (write, grouped[-1][1] + 1)
        else:
            grouped.append((write, 1))
    return grouped


def _action(action: Any) -> str:
    """ "Microsoft.Authorization/locks/delete" -> "locks/delete"."""
    parts = str(action or "").split("/")
    return "/".join(parts[-2:])


def _evidence(incident: Incident, w, lang: str, compact: bool) -> list[dict[str, Any]]:
    evidence = incident.get("evidence") or []
    if not evidence:
        return []
    blocks = [heading(w["evidence"])]
    for item in evidence[:SHOWN]:
        codes = ", ".join(str(c) for c in item.get("codes") or []) or "—"
        fired = f" · {w['fired']}: {utc(item['time'])}" if item.get("time") else ""
        blocks.append(rich(
            run(clip(item.get("vm") or "?", 80), weight="Bolder"),
            run(f"  {clip(codes, 120, lang)}", fontType="Monospace"),
            run(f"  {w['source']}: {item.get('source') or '—'}{fired}", isSubtle=True),
        ))  # fmt: skip
        if item.get("job_id"):
            blocks.append(fact(w["job"], name_of(item["job_id"]), isSubtle=True))
        limit = SHORT_TEXT if compact else LONG_TEXT
        blocks.append(line(clip(humanize(item.get("message")), limit, lang), fontType="Monospace"))
    return blocks


def _plan(incident: Incident, w, lang: str) -> list[dict[str, Any]]:
    plan = incident.get("plan")
    blocks = []
    if plan:
        mode = w.get(f"mode_{plan.get('mode')}", plan.get("mode") or "—")
        said = f"{playbook_label(plan.get('playbook'), lang)} · {mode}"
        if lang == "en" and plan.get("reason"):
            said += f" ({humanize(plan['reason'])})"
        blocks.append(fact(w["plan"], said))
    notes = incident.get("notes") or []
    if notes and lang == "en":
        blocks.append(heading(w["notes"]))
        blocks += bullets([humanize(n) for n in reversed(notes)], SHOWN, lang)  # newest first
    return blocks


def _times(incident: Incident, w) -> list[dict[str, Any]]:
    blocks = [heading(w["times"])]
    if incident.get("fired_at"):
        blocks.append(fact(w["first_seen"], utc(incident["fired_at"])))
    blocks.append(fact(w["received"], utc(incident.get("first_seen"))))
    blocks.append(fact(w["last_seen"], utc(incident.get("last_seen"))))
    if incident.get("resolved_at"):
        blocks.append(fact(w["resolved"], utc(incident["resolved_at"])))
    return blocks


def _ids(incident: Incident, w) -> list[dict[str, Any]]:
    """Full ids, never cut: what to search for in the portal or the logs."""
    blocks = [heading(w["ids"]), fact(w["incident"], incident["id"], fontType="Monospace")]
    scope = incident.get("scope")
    if scope:
        blocks.append(fact(w["scope"], breakable(scope), fontType="Monospace"))
    resources = incident.get("resources") or {}
    for vm in (incident.get("vms") or [])[:SHOWN]:
        if resources.get(vm):
            blocks.append(fact(vm, breakable(resources[vm]), fontType="Monospace"))
    return blocks


def breakable(arm_id: str) -> str:
    """An id that may wrap after each "/" (an invisible break opportunity), so a phone shows
    all of it instead of cutting it at the card's edge."""
    return arm_id.replace("/", "/\u200b")
