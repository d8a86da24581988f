"""The incident card: its state drives colour, headline, counts and buttons; failures say why;
size under storms, untrusted text, languages, times, the official schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot import answers
from bot.cards import MAX_CARD_BYTES, notice_card, portal_url, size_of
from bot.digest import digest_card
from bot.incident_card import incident_card
from remediation.catalogue.loader import default_catalogue
from remediation.digest import week
from remediation.explain import explain
from remediation.policy import Policy
from tests.bot_app.test_incident_flow import DECISIONS, ON_CALL, decisions, executes, texts
from tests.botkit.cards import card_problems
from tests.reliability.summary import record

HOSTILE = ['x" | union *', "${x}", "<script>alert(1)</script>", "**b** [click](https://evil)"]
VM_ID = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{}"
VAULT_ID = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/rsv"
NOW = "2026-10-31T10:12:00+00:00"
ALERT = "https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/Issue.ReactView/alertId/x"
WRITES = ["lift the lock(s) on the backup group", "trigger an on-demand backup"]


def view(
    vms: list[str],
    message: str = "The Restore Point collection max limit has reached.",
    *,
    approval_state: str = "pending",
    lang: str = "en",
    runs: list[dict[str, Any]] | None = None,
    decided_by: str = "Alex Operator",
    policy: dict[str, bool] | None = None,
    **incident: Any,
) -> dict[str, Any]:
    """The engine's view of a restore point incident on `vms` as of NOW (`incident`: fields
    to change)."""
    evidence = [
        {"vm": vm, "codes": ["UserErrorRpCollectionLimitReached"], "message": message,
         "time": "2026-10-31T10:00:00+00:00", "source": "common-alert", "job_id": None,
         "resource_id": VM_ID.format(vm), "investigation_link": ALERT}
        for vm in vms[:5]
    ]  # fmt: skip
    decided = approval_state not in {"pending"}
    approval = {
        "id": "apr-1", "incident_id": "inc-1", "playbook": "cleanup-restore-points",
        "state": approval_state, "created": "2026-10-31T10:00:00+00:00",
        "expires": "2026-11-01T10:00:00+00:00",
        "targets": [{"vm": vm, "resource_id": VM_ID.format(vm)} for vm in vms],
        "writes": WRITES, "choices": ["restore-lock", "keep-lock-off"],
        "choice": "restore-lock" if decided else None,
        "decided_by": {"id": "u-1", "name": decided_by} if decided else None,
        "decided_at": "2026-10-31T10:06:00+00:00" if decided else None,
        "snoozed_until": "2026-11-01T10:06:00+00:00" if approval_state == "snoozed" else None,
    }  # fmt: skip
    return {
        "incident": {
            "id": "inc-1", "entry_id": "rp-collection-limit-reached",
            "root_cause": "rp-collection-limit-reached", "service": "backup",
            "severity": "critical", "scope": VAULT_ID.lower(), "status": "open",
            "language": lang, "vms": vms, "active_vms": vms,
            "resources": {vm: VM_ID.format(vm) for vm in vms}, "vm_count": len(vms),
            "active_count": len(vms), "signal_count": len(vms),
            "first_seen": "2026-10-31T10:01:00+00:00", "fired_at": "2026-10-31T10:00:00+00:00",
            "last_seen": "2026-10-31T10:05:00+00:00", "evidence": evidence, "vault": "rsv",
            "vault_id": VAULT_ID, "subscription_id": "s-1", "card": None,
            "plan": {"mode": "approval", "playbook": "cleanup-restore-points",
                     "reason": "lifting a resource lock needs approval"},
            "approval_id": "apr-1", "notes": [], **incident,
        },
        "entry": default_catalogue().get("rp-collection-limit-reached"),
        "entries": {"rp-collection-limit-reached":
                    default_catalogue().get("rp-collection-limit-reached")},
        "runs": runs or [],
        "approval": approval,
        "approvals": [approval],
        "writes": {},
        "policy": policy or {"dry_run": False, "paused": False},
        "now": NOW,
    }  # fmt: skip


def a_run(vm: str, state: str, **fields: Any) -> dict[str, Any]:
    journal = [
        {"step": "confirm-vm", "phase": "start", "time": "2026-10-31T10:07:00+00:00"},
        {"step": "confirm-vm", "phase": "next", "time": "2026-10-31T10:07:01+00:00",
         "note": f"VM {vm} found, protected by its vault"},
        {"step": "lift-locks", "phase": "next", "time": "2026-10-31T10:08:00+00:00",
         "note": "lifted 1 lock(s)"},
    ]  # fmt: skip
    return {
        "id": f"run-{vm}", "incident_id": "inc-1", "approval_id": "apr-1", "vm": vm,
        "playbook": "cleanup-restore-points", "state": state, "step": 5, "journal": journal,
        "context": {}, "failure": None, "created": "2026-10-31T10:07:00+00:00",
        "updated": "2026-10-31T10:10:00+00:00", "target": {"vm": vm}, **fields,
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


def primary_titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions", []) if a.get("mode") != "secondary"]


# -- state drives the card -------------------------------------------------------------------
def test_a_pending_cleanup_offers_both_choices_and_says_the_lock_is_the_cause():
    card = incident_card(view(["erp-app-03"]))
    said = texts(card)
    assert said.startswith("OPEN  ·  critical\nRestore point collection limit reached\n")
    assert "Waiting for an approver to decide on the fix." in said
    assert card["body"][0]["style"] == "warning"
    assert decisions(card) == [
        ("approve", {"approvalId": "apr-1", "choice": "restore-lock"}),
        ("approve", {"approvalId": "apr-1", "choice": "keep-lock-off"}),
        ("reject", {"approvalId": "apr-1"}),
        ("snooze", {"approvalId": "apr-1"}),
    ]
    assert "The lock on the AzureBackupRG_* group is the cause" in said
    assert "• lift the lock(s) on the backup group" in said
    assert "Decision needed for erp-app-03" in said and "expires in 24 h" in said
    on_call = [a for a in executes(card) if a["verb"] not in DECISIONS]
    assert {a["verb"]: a["data"] for a in on_call} == {
        verb: {"incidentId": "inc-1"} for verb in ON_CALL
    }
    links = {a["title"]: a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl"}
    assert links == {
        "Azure alert": ALERT,
        "Portal": "https://portal.azure.com/#@/resource" + VM_ID.format("erp-app-03"),
        "Docs": default_catalogue().get("rp-collection-limit-reached").doc_url,
    }
    assert primary_titles(card) == ["Acknowledge", "Resolve…"]  # the rest in the "…" menu
    assert "refresh" not in card  # a user-specific view: the Playground cannot show one


def test_times_are_relative_with_utc_under_details_and_first_seen_is_when_the_alert_fired():
    said = texts(incident_card(view(["erp-app-03"])))
    assert "First seen: 12 min ago (alert fired)" in said
    assert "Last signal: 7 min ago" in said
    assert "First seen (alert fired): 2026-10-31 10:00:00 UTC" in said
    assert "Source: common-alert · Fired: 2026-10-31 10:00:00 UTC" in said


def test_a_signal_without_a_time_of_its_own_is_first_seen_when_received():
    """A polled migration item names no time of its own: the card must not call its first
    reception the moment an alert fired."""
    polled = {"vm": "erp-app-03", "codes": ["1004"], "message": "Replication failed.",
              "time": None, "source": "migration-item", "job_id": None}  # fmt: skip
    said = texts(incident_card(view(["erp-app-03"], fired_at=None, evidence=[polled])))
    assert "First seen: 11 min ago (first received)" in said
    assert "alert fired" not in said and "Fired" not in said
    assert "Source: migration-item\n" in said
    assert "First received: 2026-10-31 10:01:00 UTC" in said
    french = texts(incident_card(view(["erp-app-03"], lang="fr", fired_at=None)))
    assert "(première réception)" in french and "alerte déclenchée" not in french


@pytest.mark.parametrize(
    ("state", "words", "style"),
    [
        ("executing", "FIXING", "accent"),
        ("rejected", "NEEDS ATTENTION", "warning"),
        ("snoozed", "SNOOZED", "emphasis"),
        ("expired", "NEEDS ATTENTION", "warning"),
    ],
)
def test_a_decided_approval_shows_no_decision_buttons(state, words, style):
    runs = [a_run("erp-app-03", "running")] if state == "executing" else []
    card = incident_card(view(["erp-app-03"], approval_state=state, runs=runs))
    assert texts(card).startswith(words)
    assert card["body"][0]["style"] == style
    assert decisions(card) == []


def test_a_snoozed_card_offers_to_unsnooze():
    card = incident_card(view(["erp-app-03"], approval_state="snoozed"))
    said = texts(card).splitlines()
    assert said[2] == "Snoozed until 2026-11-01 10:06 UTC (in 24 h)."  # never "until in 24 h"
    assert "Snoozed by Alex Operator until 2026-11-01 10:06 UTC (in 24 h)" in said
    french = texts(incident_card(view(["erp-app-03"], approval_state="snoozed", lang="fr")))
    assert "Reporté jusqu'au 2026-11-01 10:06 UTC (dans 24 h)." in french.splitlines()
    [unsnooze] = [a for a in executes(card) if a["verb"] == "unsnooze"]
    assert unsnooze["data"] == {"approvalId": "apr-1"}


def test_a_fixed_incident_is_green_resolved_and_has_no_buttons():
    fixed = a_run("erp-app-03", "succeeded")
    card = incident_card(view(["erp-app-03"], approval_state="succeeded", runs=[fixed],
                              status="resolved", resolution={"why": "fixed"}))  # fmt: skip
    said = texts(card)
    assert said.startswith("RESOLVED")
    assert "Fixed: Azure shows the fix worked for erp-app-03." in said
    assert card["body"][0]["style"] == "good"
    assert executes(card) == []
    assert "still failing" not in said  # one VM: its outcome says it all
    assert "Nobody has acknowledged" not in said
    # edited no more: when, not "how long ago", which would go stale
    assert "First seen: 2026-10-31 10:00 UTC (alert fired)" in said


def test_a_withdrawn_pending_approval_loses_its_buttons_and_says_why():
    card = incident_card(view(["erp-app-03"], approval_state="withdrawn", status="resolved",
                              active_vms=[], active_count=0))  # fmt: skip
    card_view = view(["erp-app-03"], approval_state="withdrawn", status="resolved")
    card_view["approvals"][0]["note"] = "the failure cleared in Azure"
    said = texts(incident_card(card_view))
    assert texts(card).startswith("RESOLVED")
    assert executes(card) == []
    assert "Approval withdrawn: the failure cleared in Azure" in said


def test_a_failed_fix_says_why_in_one_sentence_with_azure_evidence_under_details():
    vm_id = VM_ID.format("hr-app-07")
    failure = (f"VM hr-app-07 was not found in subscription s-1, resource group rg: nothing was "
               f"changed ({vm_id}).")  # fmt: skip
    error = {"step": "confirm-vm", "status": 404, "code": "ResourceNotFound",
             "message": f"The Resource '{vm_id}' was not found.",
             "request_id": "req-42"}  # fmt: skip
    failed = a_run("hr-app-07", "failed", failure=failure, context={"error": error})
    card_view = view(["hr-app-07"], approval_state="failed", runs=[failed])
    card_view["writes"] = {failed["id"]: []}
    card = incident_card(card_view)
    said = texts(card)
    assert said.startswith("FAILED")
    assert card["body"][0]["style"] == "attention"
    headline = said.splitlines()[2]
    assert headline == (
        "Fix failed for hr-app-07: VM hr-app-07 was not found in subscription s-1, resource "
        "group rg: nothing was changed (hr-app-07)."
    )
    [retry] = [a for a in executes(card) if a["verb"] == "retry"]
    assert retry["title"] == "Retry fix" and retry["data"] == {"runId": "run-hr-app-07"}
    assert "escalate" in {a["verb"] for a in executes(card)}
    details = said.split("What Azure answered for hr-app-07")[1]
    assert "Step: Check the VM in Azure" in details
    assert "Error: 404 ResourceNotFound" in details
    assert "Request id: req-42" in details


def _is_heading(block: dict[str, Any] | None) -> bool:
    inlines = (block or {}).get("inlines") or [{}]
    return inlines[0].get("size") == "Medium" and inlines[0].get("weight") == "Bolder"


def test_a_heading_heads_words_never_buttons_alone():
    """One failed fix: its headline says why, so no "Why it failed" over the Retry button."""
    failed = a_run("file-02", "failed", failure="The VM agent of file-02 is Not Ready.")
    one = incident_card(view(["file-02"], approval_state="failed", runs=[failed]))
    assert (
        texts(one).splitlines()[2]
        == "Fix failed for file-02: The VM agent of file-02 is Not Ready."
    )
    assert {"retry", "escalate"} <= {a["verb"] for a in executes(one)}
    resolved = {"status": "resolved", "resolution": {"why": "by-hand", "note": "agent restarted"}}
    by_hand = incident_card(view(["file-02"], approval_state="failed", runs=[failed], **resolved))
    assert texts(by_hand).startswith("RESOLVED") and executes(by_hand) == []
    for card in [one, by_hand, *every_card_kind()[:4]]:  # the incident cards
        body = card["body"]
        for block, after in zip(body, [*body[1:], None], strict=True):
            if _is_heading(block):
                words = after and after["type"] != "ActionSet" and not _is_heading(after)
                assert words, texts({"body": [block]})


def test_a_retry_that_revealed_another_error_offers_the_other_fix_then_links_it():
    revealed = a_run("erp-app-05", "failed", failure="backup job j-1 ended Failed: limit",
                     context={"revealed_entry": "rp-collection-limit-reached"})  # fmt: skip
    card = incident_card(view(["erp-app-05"], approval_state="failed", runs=[revealed]))
    said = texts(card)
    assert (
        "A backup of erp-app-05 hit another known error: Restore point collection limit "
        "reached." in said
    )
    [other] = [a for a in executes(card) if a["verb"] == "other-fix"]
    assert other["title"] == "Run the other fix" and other["data"] == {"runId": "run-erp-app-05"}
    linked = view(
        ["erp-app-05"],
        approval_state="failed",
        runs=[revealed],
        related=[{"entry_id": "rp-collection-limit-reached", "incident_id": "inc-2"}],
    )
    card = incident_card(linked)
    assert "→ Its own incident is open: Restore point collection limit reached." in texts(card)
    assert "other-fix" not in {a["verb"] for a in executes(card)}


def test_a_vm_joining_after_the_decision_has_its_own_buttons_beside_its_name():
    card_view = view(["erp-app-03", "erp-app-04"], approval_state="rejected")
    first = card_view["approvals"][0]
    first["targets"] = first["targets"][:1]
    joined = {**first, "id": "apr-2", "state": "pending", "decided_by": None, "choice": None,
              "created": "2026-10-31T10:08:00+00:00",
              "targets": [{"vm": "erp-app-04"}]}  # fmt: skip
    card_view["approvals"].append(joined)
    card = incident_card(card_view)
    said = texts(card)
    assert "erp-app-03 (fix rejected), erp-app-04 (waiting for approval)" in said
    assert "Rejected by Alex Operator 6 min ago" in said
    assert "Decision needed for erp-app-04" in said
    assert {data["approvalId"] for _, data in decisions(card)} == {"apr-2"}


def test_the_timeline_lists_every_step_with_its_time_and_result():
    fixing = a_run("erp-app-03", "waiting")
    fixing["journal"].append({"step": "await-cleanup", "phase": "wait", "time":
                              "2026-10-31T10:09:00+00:00", "note": "waiting waiting for "
                              "Azure Backup's cleanup (18 of 18)"})  # fmt: skip
    card = incident_card(view(["erp-app-03"], approval_state="executing", runs=[fixing]))
    [timeline] = [b for b in card["body"] if b.get("id") == "timeline-inc-1"]
    assert timeline["isVisible"] is False  # folded until asked for
    lines = texts(timeline).splitlines()
    assert lines[1:] == [
        "✓ Check the VM in Azure: VM erp-app-03 found, protected by its vault  "
        "(5 min ago · 10:07:01 UTC)",
        "✓ Lift the locks: lifted 1 lock(s)  (4 min ago · 10:08:00 UTC)",
        "… Wait for Azure Backup's cleanup: waiting for Azure Backup's cleanup (18 of 18)  "
        "(3 min ago · 10:09:00 UTC)",
    ]
    assert (
        "erp-app-03  Clean up restore points · step 6 of 16: Wait for Azure Backup's cleanup"
        in texts(card)
    )


def test_on_call_state_shows_who_owns_the_incident():
    owner = {"id": "u-2", "name": "Sam Oncall", "at": "2026-10-31T10:02:00+00:00"}
    card = incident_card(view(["erp-app-03"], owner=owner, acknowledged=owner))
    assert "Owned by Sam Oncall · acknowledged 10 min ago" in texts(card)
    assert "acknowledge" not in {a["verb"] for a in executes(card)}


def test_identity_conflicts_are_shown_by_name():
    card = incident_card(view(["erp-app-03"], identity_conflicts={
        "erp-app-03": [VM_ID.format("erp-app-03"), VM_ID.format("erp-app-93")]}))  # fmt: skip
    said = texts(card)
    assert said.startswith("NEEDS ATTENTION")
    assert "erp-app-03: signals name different resources (erp-app-03, erp-app-93)" in said


def test_button_labels_are_short_verbs():
    for state in ("pending", "failed", "snoozed"):
        runs = [a_run("vm-1", "failed", failure="boom")] if state == "failed" else []
        card = incident_card(view(["vm-1"], approval_state=state, runs=runs))
        for action in executes(card) + card.get("actions", []):
            if action.get("data", {}).get("choice"):
                continue  # the two cleanup choices each have a row of their own
            assert len(action["title"]) <= 17, action["title"]


# -- size, untrusted text, languages ---------------------------------------------------------
def test_a_500_vm_storm_with_20_kb_messages_stays_under_100_kb():
    vms = [f"erp-app-{n:03d}" for n in range(500)]
    runs = [a_run(vm, "failed", failure="x" * 20_000) for vm in vms]
    for item in runs:
        item["journal"][-1]["note"] = "y" * 20_000
    card = incident_card(view(vms, "z" * 20_000, runs=runs, approval_state="failed"))
    assert size_of(card) < MAX_CARD_BYTES
    said = texts(card)
    affected = next(row for row in said.splitlines() if row.startswith("VMs (500)"))
    assert affected == (
        "VMs (500): erp-app-000 (fix failed), erp-app-001 (fix failed), erp-app-002 (fix "
        "failed), erp-app-003 (fix failed), erp-app-004 (fix failed), and 495 more"
    )
    assert "500 reported failing" in said  # reported: a failed fix may not have read Azure
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


def test_diagnosis_findings_show_each_failing_check_and_how_many_passed():
    findings = [
        {"check": "private-endpoint.connection", "ok": False, "detail": "pe-rsv is Pending"},
        {"check": "private-dns.link", "ok": True, "detail": "linked"},
        {"check": "vm-agent", "ok": True, "detail": "Ready"},
        {"check": "key-vault", "ok": False, "detail": HOSTILE[1]},
    ]
    runs = [a_run("erp-app-03", "succeeded", context={"findings": findings})]
    card = incident_card(view(["erp-app-03"], runs=runs))
    said = texts(card)
    assert "✗ private-endpoint.connection: pe-rsv is Pending" in said
    assert "✓ 2 check(s) passed" in said
    assert not any("${" in text for text in text_outside_text_runs(card))


def test_a_french_card_shows_what_a_diagnosis_found_in_french():
    from remediation.playbooks.keyvaults import access_policy_finding

    principal = "3d8c2a6e-5f4b-4c1d-9e8f-7a6b5c4d3e2f"
    vault = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-erp",
             "name": "kv-erp", "properties": {"accessPolicies": []}}  # fmt: skip
    runs = [a_run("erp-app-03", "succeeded",
                  context={"findings": [access_policy_finding(vault, principal)]})]  # fmt: skip
    said = texts(incident_card(view(["erp-app-03"], lang="fr", runs=runs)))
    assert (
        f"✗ key-vault.access-policy: kv-erp n'a aucune stratégie d'accès pour {principal} : "
        "ajoutez-en une (Key Vault > Stratégies d'accès)"
    ) in said
    assert "has no access policy" not in said


ENGLISH = ("OPEN", "Waiting", "Status", "Approve", "Reject", "Details", "Timeline", "open",
           "First seen", "Nobody", "expires", "Decision")  # fmt: skip


def test_a_french_incident_card_is_french_throughout():
    card = incident_card(view(["erp-app-03"], lang="fr"))
    said = texts(card)
    visible = said.split("Causes possibles")[0]  # up to the folded Details
    for english in ENGLISH:
        assert english not in visible, english
    assert visible.startswith("OUVERT  ·  critique\nLimite de la collection de points de "
                              "restauration atteinte\n")  # fmt: skip
    assert "En attente d'un approbateur" in visible and "expire dans 24 h" in visible
    titles = [a["title"] for a in executes(card)]
    assert titles[:4] == ["Nettoyer, remettre le verrou",
                          "Nettoyer, laisser le verrou levé", "Refuser",
                          "Reporter"]  # fmt: skip
    entry = default_catalogue().get("rp-collection-limit-reached")
    assert entry.fix_steps.fr[0][:40] in said
    failed = a_run("hr-app-07", "failed", failure="VM hr-app-07 was not found in subscription "
                   "s-1, resource group rg: nothing was changed.")  # fmt: skip
    french = texts(incident_card(view(["hr-app-07"], lang="fr", approval_state="failed",
                                      runs=[failed])))  # fmt: skip
    assert (
        "La correction a échoué pour hr-app-07 : La VM hr-app-07 est introuvable dans "
        "l'abonnement s-1, groupe de ressources rg : rien n'a été modifié."
    ) in french


@pytest.mark.parametrize("value", [None, "", "not-an-id", "https://evil.example/x"])
def test_portal_links_only_for_arm_ids(value):
    assert portal_url(value) is None


# -- every kind of card against the schema and the renderer ------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def every_card_kind() -> list[dict[str, Any]]:
    storm = [f"vm-{n}" for n in range(40)]
    runs = [
        a_run(
            "vm-1",
            "failed",
            failure="boom",
            context={"revealed_entry": "rp-collection-limit-reached"},
        )
    ]
    fixed = view(["erp-app-03"], approval_state="succeeded", status="resolved",
                 runs=[a_run("erp-app-03", "succeeded")])  # fmt: skip
    return [
        incident_card(view(["erp-app-03"])),
        incident_card(view(storm, approval_state="executing", runs=runs,
                           policy={"dry_run": True, "paused": True})),
        incident_card(view(["erp-app-03"], lang="fr"), notice="Already approved", compact=True),
        incident_card(fixed),
        answers.help_card("en", not_understood=True),
        answers.explain_card(explain("UserErrorRpCollectionLimitReached")),
        notice_card("This approval does not exist."),
        digest_card(week([fixed["incident"]], runs, *_week()), "fr"),
    ]  # fmt: skip


def _week():
    from datetime import datetime, timedelta

    end = datetime.fromisoformat(NOW)
    return end - timedelta(days=7), end


def test_every_card_kind_fits_the_official_adaptive_cards_1_5_schema():
    for card in every_card_kind():
        assert card["version"] == "1.5"
        assert card_problems(card) == []
        assert "msteams" not in card  # no full-width: the Playground and mobile refuse it


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


def test_status_lists_open_incidents_by_state_in_french():
    from datetime import datetime

    from bot.incident_card import assessment

    storm = view([f"vm-{n}" for n in range(40)])
    found, _ = assessment(storm)
    now = datetime.fromisoformat(NOW)
    card = answers.status_card([(storm["incident"], found)], [storm["approval"]], Policy(), "fr",
                               now, {"out-of-scope": 3, "not-a-failure": 1})  # fmt: skip
    said = texts(card)
    assert "Incidents ouverts : 1" in said and "ouvert : 1" in said
    assert "Approbations en attente : 1" in said
    assert "3 hors périmètre (ni Sauvegarde ni Migrate), 1 sans échec" in said


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("The VM agent of file-02 is Not Ready (agent Unknown): a backup now would fail the same "
         "way. Restart the agent (the Windows Azure Guest Agent service, or waagent on Linux), "
         "then retry the fix. Nothing was changed.",
         "L'agent de la VM file-02 est non prêt (Not Ready) (agent Unknown) : une sauvegarde "
         "échouerait de la même façon. Redémarrez l'agent (le service Windows Azure Guest "
         "Agent, ou waagent sous Linux), puis relancez la correction. Rien n'a été modifié."),
        ("VM file-02 is deallocated: start it, then retry the fix (a backup needs the agent of a "
         "running VM). Nothing was changed.",
         "La VM file-02 est à l'état libérée (deallocated) : démarrez-la, puis relancez la "
         "correction (une sauvegarde a besoin de l'agent d'une VM démarrée). Rien n'a été "
         "modifié."),
    ],
)  # fmt: skip
def test_the_vm_agent_check_says_why_in_french(english, french):
    from bot.wording import in_language

    assert in_language(english, "fr") == french


def test_a_step_that_waited_many_times_in_a_row_is_one_timeline_line_with_its_count():
    """A cleanup waiting its turn in a backup group looks again every minute: 23 looks are
    one line saying so, not 23 lines pushing the rest of the timeline off the card."""
    from bot.timeline import timeline_blocks
    from remediation.clock import parse_iso

    looks = [{"step": "record-locks", "phase": "wait", "time": f"2026-10-31T10:{m:02d}:00+00:00",
              "note": "AzureBackupRG_westeurope_1 is being cleaned by the fix of erp-app-01"}
             for m in range(10, 33)]  # fmt: skip
    item = a_run("erp-app-02", "running")
    item["journal"] = [
        *item["journal"],
        *looks,
        looks[-1] | {"phase": "next", "note": "locks recorded: none"},
    ]
    said = [texts(block) for block in timeline_blocks([item], "en", parse_iso(looks[-1]["time"]))]
    waits = [line for line in said if "being cleaned" in line]
    assert len(waits) == 1
    assert (
        "Record the locks: AzureBackupRG_westeurope_1 is being cleaned by the fix of "
        "erp-app-01 (23 times)"
    ) in waits[0]
    assert "10:32:00 UTC" in waits[0]  # the last look's time
    assert any("locks recorded: none" in line for line in said)
    french = [texts(b) for b in timeline_blocks([item], "fr", parse_iso(looks[-1]["time"]))]
    assert any("par la correction de erp-app-01 (23 fois)" in line for line in french)


def test_an_explanation_says_the_severity_in_its_own_language():
    assert "[disk-upload-timed-out] migrate-replication · critique" in texts(
        answers.explain_card(explain("1011", "fr"))
    )
    assert "· critical" in texts(answers.explain_card(explain("1011", "en")))


@pytest.mark.parametrize(
    ("plan", "said"),
    [
        ({"mode": "manual", "playbook": None, "reason": "no automation in the catalogue"},
         "No automatic fix for this error: apply the steps by hand."),
        ({"mode": "manual", "playbook": "cleanup-restore-points",
          "reason": "automation is paused"},
         "Automation was paused when this failure came in, so no fix was proposed: apply the "
         "steps by hand."),
        ({"mode": "manual", "playbook": "cleanup-restore-points",
          "reason": "policy rule: manual"},
         "The policy has this fixed by hand here: apply the steps by hand."),
    ],
)  # fmt: skip
def test_a_card_without_a_fix_says_why_none_was_proposed(plan, said):
    """A fix exists for this error but was not proposed: the card must not say there is none."""
    shown = view(["erp-app-03"], plan=plan)
    shown["approval"], shown["approvals"] = None, []
    assert said in texts(incident_card(shown))
