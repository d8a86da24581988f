"""The incident card: size under storms, untrusted text, buttons, languages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot import answers
from bot.cards import MAX_CARD_BYTES, incident_card, notice_card, portal_url, size_of
from remediation.catalogue.loader import default_catalogue
from remediation.explain import explain
from remediation.policy import Policy
from tests.bot_app.test_incident_flow import buttons, texts
from tests.botkit.cards import card_problems
from tests.reliability.summary import record

HOSTILE = ['x" | union *', "${x}", "<script>alert(1)</script>", "**b** [click](https://evil)"]
VM_ID = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{}"


def view(
    vms: list[str],
    message: str = "The Restore Point collection max limit has reached.",
    *,
    approval_state: str = "pending",
    lang: str = "en",
    runs: list[dict[str, Any]] | None = None,
    decided_by: str = "Alex Operator",
    policy: dict[str, bool] | None = None,
) -> dict[str, Any]:
    evidence = [
        {"vm": vm, "codes": ["UserErrorRpCollectionLimitReached"], "message": message,
         "time": "2026-10-31T10:00:00+00:00", "source": "common_alert", "job_id": None,
         "resource_id": VM_ID.format(vm)}
        for vm in vms[:5]
    ]  # fmt: skip
    decided = approval_state != "pending"
    return {
        "incident": {
            "id": "inc-1", "entry_id": "rp-collection-limit-reached",
            "root_cause": "rp-collection-limit-reached", "service": "backup",
            "severity": "critical", "scope": "vault", "status": "open", "language": lang,
            "vms": vms, "active_vms": vms, "resources": {vm: VM_ID.format(vm) for vm in vms},
            "signal_count": len(vms), "first_seen": "2026-10-31T10:00:00+00:00",
            "last_seen": "2026-10-31T10:05:00+00:00", "evidence": evidence,
            "vault": "rsv", "vault_id": None, "subscription_id": "s-1", "card": None,
            "plan": {"mode": "approval", "playbook": "cleanup-restore-points",
                     "reason": "lifting a resource lock needs approval"},
            "approval_id": "apr-1", "notes": [],
        },
        "entry": default_catalogue().get("rp-collection-limit-reached"),
        "runs": runs or [],
        "approval": {
            "id": "apr-1", "incident_id": "inc-1", "playbook": "cleanup-restore-points",
            "state": approval_state, "created": "2026-10-31T10:00:00+00:00",
            "expires": "2026-11-01T10:00:00+00:00",
            "decided_by": {"id": "u-1", "name": decided_by} if decided else None,
            "decided_at": "2026-10-31T10:06:00+00:00" if decided else None,
            "snoozed_until": None,
        },
        "policy": policy or {"dry_run": False, "paused": False},
    }  # fmt: skip


def text_outside_text_runs(node: Any) -> list[str]:
    """Every string a renderer could treat as markdown or template: all but TextRun texts."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if node.get("type") == "TextRun" and key == "text":
                continue
            if isinstance(value, str):
                found.append(value)
            else:
                found += text_outside_text_runs(value)
    elif isinstance(node, list):
        for item in node:
            found += text_outside_text_runs(item)
    return found


def test_a_500_vm_storm_with_20_kb_messages_stays_under_100_kb():
    vms = [f"erp-app-{n:03d}" for n in range(500)]
    runs = [
        {"vm": vm, "state": "failed", "failure": "x" * 20_000,
         "journal": [{"step": "delete", "phase": "failed", "note": "y" * 20_000}]}
        for vm in vms
    ]  # fmt: skip
    card = incident_card(view(vms, "z" * 20_000, runs=runs))
    assert size_of(card) < MAX_CARD_BYTES
    said = texts(card)
    affected = next(row for row in said.splitlines() if row.startswith("Affected VMs"))
    assert affected == (
        "Affected VMs (500, 500 still failing): "
        "erp-app-000, erp-app-001, erp-app-002, erp-app-003, erp-app-004, and 495 more"
    )
    assert "erp-app-009  failed" in said and "erp-app-010" not in said
    assert "and 490 more" in said  # runs beyond the first 10
    assert "more characters" in said


def test_untrusted_text_only_in_text_runs_and_never_a_template():
    for hostile in HOSTILE:
        record("injection", into_cards=1)
        card = incident_card(view([hostile, "erp-app-02"], hostile, decided_by=hostile,
                                  approval_state="rejected"))  # fmt: skip
        raw = json.dumps(card, ensure_ascii=False)
        assert "${" not in raw
        outside = "\n".join(text_outside_text_runs(card))
        for piece in ('x" | union', "<script>", "**b**", "$\u200b{x}"):
            assert piece not in outside
        said = texts(card)
        assert hostile.replace("${", "$\u200b{") in said
        record("injection", blocked=1)


def test_buttons_only_while_pending_and_carry_only_the_approval_id():
    pending = incident_card(view(["erp-app-03"]))
    assert [b["title"] for b in buttons(pending).values()] == [
        "Approve fix",
        "Reject",
        "Snooze 24h",
    ]
    for button in buttons(pending).values():
        assert button["data"] == {"approvalId": "apr-1"}
    details = next(a for a in pending["actions"] if a["type"] == "Action.ShowCard")
    assert "The Restore Point collection max limit has reached." in texts(details["card"])
    portal = next(a for a in pending["actions"] if a["title"] == "Open in Azure portal")
    assert portal["url"] == "https://portal.azure.com/#@/resource" + VM_ID.format("erp-app-03")
    for state in ("approved", "rejected", "snoozed", "expired", "executing", "succeeded"):
        assert buttons(incident_card(view(["erp-app-03"], approval_state=state))) == {}


def test_progress_banners_and_decision_are_shown():
    journal = [{"step": "delete-collection", "phase": "wait", "note": "attempt 2"}]
    runs = [{"vm": "erp-app-03", "state": "running", "journal": journal}]
    card = incident_card(view(["erp-app-03"], approval_state="executing", runs=runs,
                              policy={"dry_run": True, "paused": True}))  # fmt: skip
    said = texts(card)
    assert "DRY RUN" in said and "AUTOMATION PAUSED" in said
    assert "Approved by Alex Operator at 2026-10-31T10:06:00+00:00 · fix running" in said
    assert "erp-app-03  running  attempt 2" in said


def test_diagnosis_findings_show_each_failing_check_and_how_many_passed():
    findings = [
        {"check": "private-endpoint.connection", "ok": False, "detail": "pe-rsv is Pending"},
        {"check": "private-dns.link", "ok": True, "detail": "linked"},
        {"check": "vm-agent", "ok": True, "detail": "Ready"},
        {"check": "key-vault", "ok": False, "detail": HOSTILE[1]},
    ]
    runs = [
        {"vm": "erp-app-03", "state": "succeeded", "journal": [], "context": {"findings": findings}}
    ]
    card = incident_card(view(["erp-app-03"], runs=runs))
    said = texts(card)
    assert "✗ private-endpoint.connection: pe-rsv is Pending" in said
    assert "✓ 2 check(s) passed" in said
    assert not any("${" in text for text in text_outside_text_runs(card))


def test_french_incident_card():
    said = texts(incident_card(view(["erp-app-03"], lang="fr")))
    assert "CRITIQUE" in said and "Causes possibles" in said and "Correction" in said
    entry = default_catalogue().get("rp-collection-limit-reached")
    assert entry.fix_steps.fr[0][:40] in said


@pytest.mark.parametrize("value", [None, "", "not-an-id", "https://evil.example/x"])
def test_portal_links_only_for_arm_ids(value):
    assert portal_url(value) is None


ROOT = Path(__file__).resolve().parents[2]


def every_card_kind() -> list[dict[str, Any]]:
    storm = [f"vm-{n}" for n in range(40)]
    runs = [{"vm": "vm-1", "state": "failed", "failure": "boom", "journal": []}]
    return [
        incident_card(view(["erp-app-03"])),
        incident_card(view(storm, approval_state="executing", runs=runs,
                           policy={"dry_run": True, "paused": True})),
        incident_card(view(["erp-app-03"], lang="fr"), notice="Already approved", compact=True),
        answers.help_card("en", not_understood=True),
        answers.explain_card(explain("UserErrorRpCollectionLimitReached")),
        notice_card("This approval does not exist."),
        answers.status_card([view(storm)["incident"]], [view([])["approval"]], Policy(), "fr",
                            {"out-of-scope": 3, "not-a-failure": 1}),
    ]  # fmt: skip


def test_every_card_kind_fits_the_official_adaptive_cards_1_5_schema():
    for card in every_card_kind():
        assert card["version"] == "1.5"
        assert card_problems(card) == []


@pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "adaptivecards").is_dir(),
    reason="node and the adaptivecards npm package are needed (npm install)",
)
def test_every_card_kind_parses_cleanly_with_the_adaptivecards_renderer_library():
    cards = every_card_kind()
    result = subprocess.run(
        ["node", str(Path(__file__).with_name("validate_cards.js"))],
        input=json.dumps(cards), capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "NODE_PATH": str(ROOT / "node_modules")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[]] * len(cards)
