"""Answer "explain <error text, code or entry id>" from the catalogue, for the CLI and the bot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediation.catalogue import Entry
from remediation.classify import Classifier, default_classifier
from remediation.symptoms import THRESHOLD

_LABELS = {
    "en": {
        "service": "Service",
        "severity": "Severity",
        "causes": "Possible causes",
        "fix_steps": "How to fix",
        "doc": "Documentation",
        "automation": "Automation",
        "playbook": "playbook {playbook}, mode {mode}",
        "manual": "none, manual fix",
        "matched": "Matched {by}: {matched}",
        "scored": "Matched symptom (score {score:.2f}, threshold {threshold:.2f}): {matched}",
        "shared": "Code {code} is shared by {count} entries; the message text tells them apart.",
        "none": "No catalogue entry matches: {query}",
    },
    "fr": {
        "service": "Service",
        "severity": "Gravité",
        "causes": "Causes possibles",
        "fix_steps": "Correction",
        "doc": "Documentation",
        "automation": "Automatisation",
        "playbook": "playbook {playbook}, mode {mode}",
        "manual": "aucune, correction manuelle",
        "matched": "Correspondance ({by}) : {matched}",
        "scored": "Correspondance (symptôme, score {score:.2f}, seuil {threshold:.2f}) : {matched}",
        "shared": "Le code {code} est partagé par {count} entrées ; "
        "le texte du message les départage.",
        "none": "Aucune entrée du catalogue ne correspond : {query}",
    },
}


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a query resolved to; several entries only for a code that entries share."""

    query: str
    entries: tuple[Entry, ...]
    matched: str | None
    matched_by: str | None
    language: str
    vm: str | None = None
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "language": self.language,
            "matched": self.matched,
            "matched_by": self.matched_by,
            "score": self.score,
            "vm": self.vm,
            "entries": [entry.to_dict(self.language) for entry in self.entries],
        }


def explain(
    query: str, lang: str | None = None, classifier: Classifier | None = None
) -> Explanation:
    """Resolve an entry id, then an exact code, then free error text (language from the text)."""
    classifier = classifier or default_classifier()
    catalogue = classifier.catalogue
    wanted = query.strip()
    entry = catalogue.get(wanted.lower())
    if entry:
        return Explanation(wanted, (entry,), entry.id, "id", lang or "en", score=1.0)
    owners = catalogue.by_code(wanted)
    if owners:
        return Explanation(wanted, owners, wanted, "code", lang or "en", score=1.0)
    found = classifier.classify_text(wanted)
    entries = (found.entry,) if found.entry else ()
    return Explanation(
        wanted, entries, found.matched, found.matched_by, lang or found.language, found.vm,
        found.score,
    )  # fmt: skip


def render_text(explanation: Explanation) -> str:
    """A plain-text answer in the explanation's language."""
    labels = _LABELS.get(explanation.language, _LABELS["en"])
    if not explanation.entries:
        return labels["none"].format(query=explanation.query)
    lines = []
    if len(explanation.entries) > 1:
        count = len(explanation.entries)
        lines += [labels["shared"].format(code=explanation.matched, count=count), ""]
    for entry in explanation.entries:
        lines += _render_entry(entry, explanation.language, labels)
        lines.append("")
    if explanation.matched_by == "symptom":
        lines.append(
            labels["scored"].format(
                score=explanation.score, threshold=THRESHOLD, matched=explanation.matched
            )
        )
    elif explanation.matched_by:
        lines.append(
            labels["matched"].format(by=explanation.matched_by, matched=explanation.matched)
        )
    return "\n".join(lines).rstrip()


def _render_entry(entry: Entry, lang: str, labels: dict[str, str]) -> list[str]:
    automation = entry.automation
    how = (
        labels["playbook"].format(playbook=automation.playbook, mode=automation.mode)
        if automation.playbook
        else labels["manual"]
    )
    lines = [
        f"{entry.title.get(lang)} [{entry.id}]",
        f"{labels['service']}: {entry.service}    {labels['severity']}: {entry.severity}",
        f"{labels['causes']}:",
        *(f"  - {cause}" for cause in entry.causes.get(lang)),
        f"{labels['fix_steps']}:",
        *(f"  {n}. {step}" for n, step in enumerate(entry.fix_steps.get(lang), 1)),
        f"{labels['doc']}: {entry.doc_url}",
        f"{labels['automation']}: {how}",
    ]
    return lines
