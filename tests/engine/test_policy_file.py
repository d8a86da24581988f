"""The policy file as an operator writes it: every field is honoured, every default holds,
every mistake is refused in words that name the file and the field, and maintenance windows
open and close at their exact minutes. A field read wrong here is automation that runs while
the operator paused it, or a limit that is not the one they set.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from remediation.policy import (
    Limits,
    Policy,
    PolicyError,
    Rule,
    Target,
    Window,
    load_policy,
    parse_policy,
)
from remediation.settings import Settings

FULL = """
rules:
  - {mode: manual, entry: rp-collection-limit-reached, subscription: SUB-1}
  - {mode: auto, resource_group: rg-web, tag: "env=prod=blue"}
approvers: [AAA-1]
approver_group: group-1
tenant_id: tenant-1
dry_run: true
paused: true
lift_locks: auto
limits:
  max_vms_per_fix: 7
  max_concurrent_fixes: 2
  cooldown_minutes: 15
  breaker_failures: 4
  breaker_window_minutes: 90
  new_incidents_per_window: 11
  flood_window_minutes: 3
maintenance_windows:
  - {days: [Saturday, sun], start: "22:00", end: "04:30"}
approval_ttl_hours: 6
"""


def _load(tmp_path, text: str | None, **env: str) -> Policy:
    path = tmp_path / "policy.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return load_policy(Settings({"POLICY_FILE": str(path), **env}))


def test_every_field_of_the_policy_file_is_honoured(tmp_path):
    assert _load(tmp_path, FULL) == Policy(
        rules=(
            Rule("manual", entry="rp-collection-limit-reached", subscription="SUB-1"),
            Rule("auto", resource_group="rg-web", tag=("env", "prod=blue")),
        ),
        approvers=frozenset({"aaa-1"}),
        approver_group="group-1",
        tenant_id="tenant-1",
        dry_run=True,
        paused=True,
        lift_locks="auto",
        limits=Limits(
            max_vms_per_fix=7,
            max_concurrent_fixes=2,
            cooldown=timedelta(minutes=15),
            breaker_failures=4,
            breaker_window=timedelta(minutes=90),
            new_incidents_per_window=11,
            flood_window=timedelta(minutes=3),
        ),
        windows=(Window(("sat", "sun"), time(22), time(4, 30)),),
        approval_ttl=timedelta(hours=6),
    )


@pytest.mark.parametrize("text", [None, "", "{}\n"])
def test_no_file_or_an_empty_one_gives_the_documented_defaults(tmp_path, text):
    loaded = _load(tmp_path, text)
    assert loaded == Policy() == parse_policy({})
    assert (loaded.dry_run, loaded.paused, loaded.lift_locks) == (False, False, "approval")
    assert loaded.approval_ttl == timedelta(hours=24)
    assert loaded.limits == Limits(
        max_vms_per_fix=25, max_concurrent_fixes=5, cooldown=timedelta(minutes=60),
        breaker_failures=3, breaker_window=timedelta(hours=1), new_incidents_per_window=30,
        flood_window=timedelta(minutes=10),
    )  # fmt: skip


def test_the_environment_wins_over_the_file_for_group_and_tenant(tmp_path):
    loaded = _load(tmp_path, FULL, APPROVER_GROUP_ID="group-env", AZURE_TENANT_ID="tenant-env")
    assert (loaded.approver_group, loaded.tenant_id) == ("group-env", "tenant-env")
    assert loaded.paused and loaded.dry_run  # the file's switches stay on


def test_zero_is_a_valid_limit(tmp_path):
    loaded = parse_policy({"limits": {"cooldown_minutes": 0, "max_concurrent_fixes": 0}})
    assert loaded.limits.cooldown == timedelta(0)
    assert loaded.limits.max_concurrent_fixes == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (["paused"], "policy.yaml: the policy must be a mapping"),
        ({"rules": ["mode"]}, "policy.yaml: rules[0]: a rule is a mapping with a mode"),
        ({"rules": [{"entry": "x"}]}, "policy.yaml: rules[0]: a rule is a mapping with a mode"),
        ({"rules": [{"mode": "yolo"}]},
         "policy.yaml: rules[0].mode: mode must be one of auto, approval, manual, not 'yolo'"),
        ({"rules": [{"mode": "auto", "tag": "env"}]},
         "policy.yaml: rules[0].tag: write tags as name=value"),
        ({"lift_locks": "always"},
         "policy.yaml: lift_locks: mode must be one of auto, approval, manual, not 'always'"),
        ({"limits": {"cooldown_minutes": True}},
         "policy.yaml: limits: expected a non-negative number, got True"),
        ({"limits": {"breaker_failures": "3"}},
         "policy.yaml: limits: expected a non-negative number, got '3'"),
        ({"approval_ttl_hours": -1}, "policy.yaml: expected a non-negative number, got -1"),
        ({"maintenance_windows": [{"days": ["mon"], "start": "22:00"}]},
         "policy.yaml: maintenance_windows[0]: expected days, start and end (HH:MM): 'end'"),
        ({"maintenance_windows": [{"days": ["mon", "someday"], "start": "1:00", "end": "2:00"}]},
         "policy.yaml: maintenance_windows[0]"),
    ],
)  # fmt: skip
def test_a_mistake_is_refused_in_words_naming_file_and_field(document, message):
    with pytest.raises(PolicyError) as error:
        parse_policy(document, source="policy.yaml")
    assert str(error.value).startswith(message)


def test_a_file_that_is_not_yaml_is_named(tmp_path):
    with pytest.raises(PolicyError) as error:
        _load(tmp_path, "rules: [unclosed\n")
    assert str(error.value).startswith(f"{tmp_path / 'policy.yaml'}: not valid YAML: ")


def test_a_mistake_without_a_source_names_the_policy():
    with pytest.raises(PolicyError) as error:
        parse_policy([])
    assert str(error.value) == "<policy>: the policy must be a mapping"


def test_a_window_may_name_every_day_in_full():
    week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    loaded = parse_policy({"maintenance_windows": [{"days": week, "start": "01:00",
                                                    "end": "02:00"}]})  # fmt: skip
    assert loaded.windows[0].days == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-11-23 is a Monday: day 0 is Monday, 6 is Sunday."""
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=UTC)


def test_a_daytime_window_opens_at_its_start_and_closes_at_its_end():
    window = Window(("tue",), time(9), time(17))
    assert not window.contains(_at(1, 8, 59))
    assert window.contains(_at(1, 9))
    assert window.contains(_at(1, 16, 59))
    assert not window.contains(_at(1, 17))
    assert not window.contains(_at(2, 12)), "another day"


def test_an_overnight_window_belongs_to_the_day_it_starts():
    window = Window(("sun",), time(22), time(4, 30))
    assert not window.contains(_at(6, 21, 59))
    assert window.contains(_at(6, 22))
    assert window.contains(_at(7, 3)), "Monday early: Sunday's window, across the week's end"
    assert not window.contains(_at(7, 4, 30))
    assert not window.contains(_at(1, 23)), "Tuesday night is not in a Sunday window"
    assert not window.contains(_at(2, 3)), "Wednesday early is not either"


def test_a_window_that_starts_where_it_ends_is_empty():
    window = Window(("mon",), time(3), time(3))  # the end is exclusive
    assert not any(window.contains(_at(0, h)) for h in range(24))


def test_each_decision_gives_its_reason():
    default = Target("sub-1", "rg-1")
    assert Policy().decide("x", None, "auto", default).reason == "no automated fix for this error"
    ruled = Policy(rules=(Rule("manual", entry="x"),))
    decision = ruled.decide("x", "retry-backup", "auto", default)
    assert (decision.mode, decision.playbook, decision.reason) == ("manual", None, "policy rule")
    locks = Policy().decide("x", "cleanup-restore-points", "auto", default)
    assert (locks.mode, locks.reason) == ("approval", "lifting a resource lock needs approval")


def test_a_tag_rule_as_strict_as_the_mode_changes_nothing_while_tags_are_unknown():
    policy = Policy(rules=(Rule("approval", tag=("env", "prod")),))
    decision = policy.decide("x", "retry-backup", "approval", Target("sub-1"))
    assert (decision.mode, decision.reason) == ("approval", "catalogue default")


def test_the_strictest_tag_rule_that_may_apply_wins():
    policy = Policy(
        rules=(
            Rule("approval", tag=("env", "test")),
            Rule("manual", entry="x", tag=("env", "prod")),
        )
    )
    decision = policy.decide("x", "retry-backup", "auto", Target("sub-1"))
    assert (decision.mode, decision.reason) == (
        "manual", "policy rule for tag env=prod may apply (tags not read)",
    )  # fmt: skip
    other_entry = policy.decide("y", "retry-backup", "auto", Target("sub-1"))
    assert other_entry.mode == "approval"


def test_a_relative_policy_file_is_the_apps_own_whatever_the_working_directory(
    tmp_path, monkeypatch, caplog
):
    """Azure runs the app from a directory it chooses: POLICY_FILE=policy.yaml names the file
    deployed beside function_app.py, never one in the worker's current directory."""
    import remediation.policy as policy_module

    app_root, elsewhere = tmp_path / "app", tmp_path / "elsewhere"
    app_root.mkdir(), elsewhere.mkdir()
    (app_root / "policy.yaml").write_text("dry_run: true\n", encoding="utf-8")
    (elsewhere / "policy.yaml").write_text("paused: true\n", encoding="utf-8")
    monkeypatch.setattr(policy_module, "APP_ROOT", app_root)
    monkeypatch.chdir(elsewhere)
    caplog.set_level("INFO", logger="remediation.policy")
    loaded = load_policy(Settings({"POLICY_FILE": "policy.yaml"}))
    assert loaded.dry_run and not loaded.paused
    assert f"policy from {app_root / 'policy.yaml'}" in caplog.text


def test_a_policy_file_named_but_missing_is_said_and_the_defaults_apply(tmp_path, caplog):
    caplog.set_level("INFO", logger="remediation.policy")
    missing = tmp_path / "nowhere.yaml"
    assert load_policy(Settings({"POLICY_FILE": str(missing)})) == Policy()
    assert f"no policy file at {missing}: the default policy applies" in caplog.text


# -- an operator's mistakes that would widen automation ------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"rules": [{"mode": "auto", "resourceGroup": "rg-test"}]},
         "policy.yaml: rules[0]: unknown field(s) ['resourceGroup']"),
        ({"rules": [{"mode": "auto", "entry": "backup-internal-error", "subscripton": "s"}]},
         "policy.yaml: rules[0]: unknown field(s) ['subscripton']"),
        ({"maintenance_windows": [{"days": ["sat"], "start": "01:00", "end": "03:00",
                                   "timezon": "Europe/Paris"}]},
         "policy.yaml: maintenance_windows[0]: unknown field(s) ['timezon']"),
        ({"maintenance_windows": [{"days": ["sat"], "start": "01:00", "end": "03:00",
                                   "timezone": "Europe/Pariss"}]},
         "policy.yaml: maintenance_windows[0].timezone: unknown time zone 'Europe/Pariss'"),
        ({"maintenance_windows": [{"days": ["sat"], "start": "01:00+02:00", "end": "03:00"}]},
         "policy.yaml: maintenance_windows[0]: write start and end as HH:MM"),
    ],
)  # fmt: skip
def test_a_field_misspelt_is_refused_not_ignored(document, message):
    """An ignored `resourceGroup` would make an auto rule for one group apply to every VM."""
    with pytest.raises(PolicyError) as error:
        parse_policy(document, source="policy.yaml")
    assert str(error.value).startswith(message)


def test_between_equally_specific_rules_the_stricter_wins_whatever_their_order():
    for order in (1, -1):
        rules = [
            {"mode": "auto", "entry": "backup-internal-error"},
            {"mode": "approval", "subscription": "SUB-PROD"},
        ][::order]
        policy = parse_policy({"rules": rules})
        decided = policy.decide("backup-internal-error", "retry-backup", "auto",
                                Target("sub-prod", "rg-1", {}))  # fmt: skip
        assert decided.mode == "approval"
        other = policy.decide("backup-internal-error", "retry-backup", "approval",
                              Target("sub-dev", "rg-1", {}))  # fmt: skip
        assert other.mode == "auto"


def test_a_rule_for_a_resource_group_matches_azures_id_in_any_case():
    policy = parse_policy({"rules": [{"mode": "manual", "resource_group": "RG-ERP-Prod"}]})
    decided = policy.decide("backup-internal-error", "retry-backup", "auto",
                            Target("sub-1", "rg-erp-prod", {}))  # fmt: skip
    assert decided.mode == "manual"


PARIS_NIGHT = {"days": ["sun"], "start": "01:00", "end": "04:00", "timezone": "Europe/Paris"}


def test_a_window_in_paris_time_follows_the_clock_change_days():
    (window,) = parse_policy({"maintenance_windows": [PARIS_NIGHT]}).windows
    # 2026-03-29: Paris goes from 02:00 CET to 03:00 CEST; the window is 00:00-02:00 UTC.
    assert not window.contains(datetime(2026, 3, 28, 23, 59, tzinfo=UTC))
    assert window.contains(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert window.contains(datetime(2026, 3, 29, 1, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 3, 29, 2, 0, tzinfo=UTC))
    # 2026-10-25: back from 03:00 CEST to 02:00 CET; the window is 23:00 (Sat)-03:00 UTC.
    assert not window.contains(datetime(2026, 10, 24, 22, 59, tzinfo=UTC))
    assert window.contains(datetime(2026, 10, 24, 23, 0, tzinfo=UTC))
    assert window.contains(datetime(2026, 10, 25, 2, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    # A summer Sunday: 23:00 (Sat)-02:00 UTC.
    assert window.contains(datetime(2026, 7, 4, 23, 0, tzinfo=UTC))
    assert not window.contains(datetime(2026, 7, 5, 2, 0, tzinfo=UTC))


def test_an_overnight_window_in_paris_time_belongs_to_the_local_day_it_starts():
    night = {**PARIS_NIGHT, "days": ["sat"], "start": "23:00", "end": "02:00"}
    (window,) = parse_policy({"maintenance_windows": [night]}).windows
    # Saturday 23:00 in Paris in winter is 22:00 UTC; it ends Sunday 02:00 Paris, 01:00 UTC.
    assert window.contains(datetime(2026, 1, 10, 22, 0, tzinfo=UTC))
    assert window.contains(datetime(2026, 1, 11, 0, 59, tzinfo=UTC))
    assert not window.contains(datetime(2026, 1, 11, 1, 0, tzinfo=UTC))
    assert not window.contains(datetime(2026, 1, 10, 21, 59, tzinfo=UTC))


def test_a_window_without_a_time_zone_stays_in_utc():
    plain = {k: v for k, v in PARIS_NIGHT.items() if k != "timezone"}
    (window,) = parse_policy({"maintenance_windows": [plain]}).windows
    assert window.contains(datetime(2026, 7, 5, 1, 0, tzinfo=UTC))
    assert not window.contains(datetime(2026, 7, 4, 23, 0, tzinfo=UTC))
