"""When the core asks the directory about the approver group, and what a refusal says."""

from __future__ import annotations

from dataclasses import replace

import pytest

from remediation.approvals import Approver, refusal, with_group_membership
from remediation.azure.graph import InvalidObjectId, MembershipUnavailable
from remediation.policy import Policy
from tests.engine.conftest import APPROVER, TENANT

GROUP = "5E1F0A3C-7B2D-4C9E-8F10-A1B2C3D4E5F6"
MEMBER = "3c2b1a00-4d5e-4f60-8a7b-9c0d1e2f3a4b"
POLICY = Policy(approvers=frozenset({APPROVER}), approver_group=GROUP, tenant_id=TENANT)


class Directory:
    """Answers like GroupMembership; counts the questions; raises `error` when given one."""

    def __init__(self, members: set[str], error: Exception | None = None) -> None:
        self.members, self.error, self.asked = members, error, 0

    def member_of(self, object_id: str, group_ids) -> frozenset[str]:
        self.asked += 1
        if self.error:
            raise self.error
        return frozenset(g for g in group_ids if object_id in self.members)


def resolve(who: Approver, policy: Policy, directory: Directory) -> Approver:
    return with_group_membership(who, policy, lambda: directory)


def test_a_member_gets_the_group_and_may_decide():
    who = resolve(Approver(MEMBER, "Grace", TENANT), POLICY, Directory({MEMBER}))
    assert who.groups == {GROUP.lower()} and refusal(who, POLICY) is None


@pytest.mark.parametrize(
    ("policy", "object_id"),
    [
        (replace(POLICY, approver_group=None), MEMBER),  # no group configured
        (POLICY, APPROVER),  # already a listed approver
        (POLICY, None),  # no identity to ask about
    ],
)
def test_the_directory_is_not_asked_when_it_cannot_change_the_answer(policy, object_id):
    directory = Directory({MEMBER, APPROVER})
    who = Approver(object_id, "someone", TENANT)
    assert resolve(who, policy, directory) == who
    assert directory.asked == 0


def test_an_unavailable_directory_refuses_with_its_reason():
    directory = Directory({MEMBER}, MembershipUnavailable("Graph answered 503"))
    who = resolve(Approver(MEMBER, "Grace", TENANT), POLICY, directory)
    assert who.groups == frozenset()
    assert refusal(who, POLICY) == (
        "Could not check your membership of the approver group: Graph answered 503; try again."
    )


def test_an_id_the_directory_cannot_hold_is_an_ordinary_refusal():
    directory = Directory(set(), InvalidObjectId("not a GUID"))
    who = resolve(Approver("not-a-guid", "Mallory", TENANT), POLICY, directory)
    assert refusal(who, POLICY) == "You are not an approver for remediation fixes."


def test_the_tenant_check_comes_before_the_group():
    who = resolve(Approver(MEMBER, "Grace", "another-tenant"), POLICY, Directory({MEMBER}))
    assert refusal(who, POLICY) == "Decisions are only accepted from the home tenant."
