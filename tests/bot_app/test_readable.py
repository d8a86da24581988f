"""What a person reads never holds a Python exception's name or an ARM id cut short: the check
every card of the suite goes through (tests.botkit.visible), and the card of a raw failure."""

from __future__ import annotations

import pytest

from bot.cards import answer_card, line
from bot.incident_card import incident_card
from tests.bot_app.test_cards import VM_ID, a_run, view
from tests.botkit.visible import text_problems

MIGRATION_ITEM = (
    "/subscriptions/s-1/resourceGroups/rg-migration/providers/Microsoft.RecoveryServices/vaults/"
    "rsv-migrate/replicationFabrics/appl-01/replicationProtectionContainers/c-01/"
    "replicationMigrationItems/erp-db-01-7f3c"
)


@pytest.mark.parametrize(
    "said",
    [
        "ResourceNotFoundError: (ResourceNotFound) The Resource was not found",  # seen in chat
        "vault rsv-prod-weu: PermissionError: AuthorizationFailed",
        "failed: HttpResponseError",
        "Traceback (most recent call last):",
        f"failed {MIGRATION_ITEM[:60]} … (171 more characters)",  # as cards once cut them
        "failed '/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines'",
        "see /subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMa...",
    ],
)
def test_what_no_person_may_read_is_found(said):
    assert text_problems(answer_card("t", [line(said)])) != []


@pytest.mark.parametrize(
    "said",
    [
        f"erp-db-01: {MIGRATION_ITEM}",  # a whole id, as Details shows it
        "Replication of erp-app-03: health Warning, Ready to migrate",
        "VM hr-app-07 was not found in subscription s-1, resource group rg: nothing was changed.",
    ],
)
def test_what_a_person_may_read_passes(said):
    assert text_problems(answer_card("t", [line(said)])) == []


def test_a_raw_sdk_failure_reads_as_a_sentence_with_names_on_the_card():
    raw = (
        f"confirm-vm: ResourceNotFoundError: (ResourceNotFound) The Resource "
        f"'{VM_ID.format('hr-app-07')}' under resource group 'rg' was not found.\n"
        "Code: ResourceNotFound\nMessage: The Resource was not found."
    )
    failed = a_run("hr-app-07", "failed", failure=raw)
    card = incident_card(view(["hr-app-07"], approval_state="failed", runs=[failed]))
    assert text_problems(card) == []
    headline = card["body"][0]["items"][2]["inlines"][0]["text"]
    assert headline == (
        "Fix failed for hr-app-07: confirm-vm: (ResourceNotFound) The Resource 'hr-app-07' "
        "under resource group 'rg' was not found. The Resource was not found."
    )


def test_a_vm_known_only_by_its_resource_id_is_named_not_cut():
    """A signal with no VM name lists the VM under its resource id: cut at 80 characters, it
    once showed half an id."""
    long_id = VM_ID.format("erp-app-03").replace("rg", "rg-" + "x" * 40)
    card = incident_card(view([long_id]))
    assert text_problems(card) == []
    assert "VMs (1): erp-app-03 (waiting for approval)" in "\n".join(
        r["inlines"][0]["text"] + r["inlines"][1]["text"]
        for r in card["body"]
        if r.get("type") == "RichTextBlock" and len(r["inlines"]) == 2
    )
