"""`serve --simulate` deploys an approver group the simulator's Graph knows the dev user in."""

from __future__ import annotations

from devtools.localhost.serve import DEV_USER, simulated_environment
from remediation.azure.graph import membership_from_settings
from remediation.policy import load_policy
from remediation.settings import Settings
from tests.simulator_fixtures import arm_simulator, sim  # noqa: F401

OUTSIDER = "0b0b0b0b-0000-4000-8000-00000000dead"


def test_the_dev_user_is_a_member_of_the_simulated_approver_group(sim):  # noqa: F811
    settings = Settings(simulated_environment(sim) | {"POLICY_FILE": "no-such-policy.yaml"})
    policy = load_policy(settings)
    assert policy.approver_group and policy.is_approver(DEV_USER["object_id"])
    membership = membership_from_settings(settings)  # the real credential, via the simulator
    try:
        groups = [policy.approver_group]
        assert membership.member_of(DEV_USER["object_id"], groups) == {policy.approver_group}
        assert membership.member_of(OUTSIDER, groups) == frozenset()
    finally:
        membership.close()
