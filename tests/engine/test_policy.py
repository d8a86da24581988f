"""The policy decides each fix's mode: the most specific rule wins, a lock is never lifted
without approval unless the policy says so, and a tag rule is never silently skipped."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from remediation.policy import Policy, PolicyError, Target, load_policy, parse_policy
from remediation.settings import Settings

SUB, OTHER_SUB = "00000000-0000-0000-0000-0000000000aa", "00000000-0000-0000-0000-0000000000bb"
ENTRY, PLAYBOOK = "backup.vm-agent-unresponsive", "retry-backup"


def policy(*rules: dict, **fields) -> Policy:
    return parse_policy({"rules": list(rules), **fields}, source="policy.yaml")


APP = Target(SUB, "rg-app")  # tags unknown, as the engine builds it


def mode(chosen: Policy, target: Target = APP, playbook: str = PLAYBOOK) -> str:
    return chosen.decide(ENTRY, playbook, "approval", target).mode


def test_the_most_specific_matching_rule_wins_over_the_catalogue():
    chosen = policy(
        {"mode": "auto", "entry": ENTRY},
        {"mode": "manual", "entry": ENTRY, "subscription": SUB.upper(), "resource_group": "RG-APP"},
    )
    assert mode(Policy()) == "approval", "the catalogue's default"
    assert mode(chosen) == "manual", "entry + subscription + group beats entry alone"
    assert mode(chosen, Target(OTHER_SUB, "rg-app")) == "auto"
    assert mode(chosen, Target(SUB, "rg-other")) == "auto"
    assert (
        policy({"mode": "auto", "entry": "other.entry"})
        .decide(ENTRY, PLAYBOOK, "approval", Target(SUB, "rg-app"))
        .reason
        == "catalogue default"
    )


def test_no_playbook_is_manual_and_a_lock_is_lifted_only_with_approval_by_default():
    assert policy({"mode": "auto"}).decide(ENTRY, None, "auto", Target(SUB)).mode == "manual"
    cleanup = "cleanup-restore-points"
    assert mode(policy({"mode": "auto"}), playbook=cleanup) == "approval"
    assert mode(policy({"mode": "auto"}, lift_locks="auto"), playbook=cleanup) == "auto"


def test_a_tag_rule_that_tightens_applies_while_tags_are_unknown():
    chosen = policy({"mode": "auto", "entry": ENTRY}, {"mode": "manual", "tag": "env=prod"})
    decision = chosen.decide(ENTRY, PLAYBOOK, "approval", APP)
    assert decision.mode == "manual" and decision.playbook is None
    assert "tag env=prod may apply" in decision.reason
    stricter = policy({"mode": "auto"}, {"mode": "approval", "tag": "env=prod"})
    assert mode(stricter) == "approval", "the strictest rule that may apply"


def test_a_tag_rule_that_loosens_or_cannot_match_does_not_apply_while_tags_are_unknown():
    assert mode(policy({"mode": "auto", "tag": "env=dev"})) == "approval"
    elsewhere = policy({"mode": "manual", "tag": "env=prod", "subscription": OTHER_SUB})
    assert mode(elsewhere) == "approval", "its subscription condition rules it out"


def test_known_tags_decide_exactly():
    chosen = policy({"mode": "manual", "tag": "env=prod"}, {"mode": "auto", "tag": "env=dev"})
    assert mode(chosen, Target(SUB, "rg-app", {"env": "prod"})) == "manual"
    assert mode(chosen, Target(SUB, "rg-app", {"env": "dev"})) == "auto"
    assert mode(chosen, Target(SUB, "rg-app", {})) == "approval"


@pytest.mark.parametrize(
    ("document", "names"),
    [
        ({"rules": [{"mode": "sometimes"}]}, "rules[0].mode"),
        ({"rules": [{"mode": "auto", "tag": "env"}]}, "rules[0].tag"),
        ({"rules": ["auto"]}, "rules[0]"),
        ({"maintenance_windows": [{"days": ["funday"], "start": "01:00", "end": "02:00"}]},
         "maintenance_windows[0].days"),
        ({"limits": {"max_vms_per_fix": -1}}, "limits"),
        ({"approvers": [], "colour": "red"}, "unknown field(s) ['colour']"),
    ],
)  # fmt: skip
def test_a_bad_policy_names_its_file_and_field(document, names):
    with pytest.raises(PolicyError) as error:
        parse_policy(document, source="policy.yaml")
    assert str(error.value).startswith("policy.yaml") and names in str(error.value)


def test_an_overnight_maintenance_window_spans_midnight():
    chosen = policy(maintenance_windows=[{"days": ["fri"], "start": "22:00", "end": "02:00"}])
    friday_night, saturday_early = (
        datetime(2026, 11, 27, 23, tzinfo=UTC),
        datetime(2026, 11, 28, 1, tzinfo=UTC),
    )
    assert chosen.in_window(friday_night) and chosen.in_window(saturday_early)
    assert not chosen.in_window(datetime(2026, 11, 28, 3, tzinfo=UTC))
    assert Policy().in_window(datetime(2026, 11, 28, 3, tzinfo=UTC)), "no windows: always"


def test_the_environment_adds_approvers_and_flips_the_switches(tmp_path, caplog):
    path = tmp_path / "policy.yaml"
    path.write_text("approvers: [AAA]\nrules:\n  - {mode: manual, tag: env=prod}\n")
    settings = Settings({"POLICY_FILE": str(path), "APPROVER_OBJECT_IDS": "bbb, CCC",
                         "DRY_RUN": "true", "AUTOMATION_PAUSED": "1"})  # fmt: skip
    with caplog.at_level(logging.WARNING):
        loaded = load_policy(settings)
    assert loaded.approvers == {"aaa", "bbb", "ccc"}
    assert loaded.is_approver("CCC") and not loaded.is_approver("ddd")
    assert loaded.dry_run and loaded.paused
    assert "tag rules apply only where they make a fix stricter" in caplog.text
