"""The Graph membership client against the simulator's checkMemberGroups, over real HTTPS."""

from __future__ import annotations

import re

import pytest

from devtools.simulator import Fault, FaultRule
from devtools.simulator.estate import DEMO_APPROVER_GROUP, DEMO_APPROVER_GROUP_MEMBERS
from devtools.simulator.graph import GRAPH_ROUTE
from remediation.azure.graph import (
    GroupMembership,
    InvalidObjectId,
    MembershipUnavailable,
    membership_from_settings,
)
from remediation.settings import Settings
from tests.simulator_fixtures import sp_credential

MEMBER = DEMO_APPROVER_GROUP_MEMBERS[1]
STRANGER = "0b0b0b0b-0000-4000-8000-00000000dead"
OTHER_GROUP = "11111111-2222-4333-8444-555555555555"


class Recording:
    """The real credential, remembering every token it handed out."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.tokens: list[str] = []
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str):
        self.scopes.append(scopes)
        token = self.inner.get_token(*scopes)
        self.tokens.append(token.token)
        return token


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def graph_calls(sim) -> int:
    return sum(1 for e in sim.requests.entries(arm_only=False) if e.route == GRAPH_ROUTE)


@pytest.fixture
def credential(sim) -> Recording:
    return Recording(sp_credential(sim))


@pytest.fixture
def client(sim, credential):
    membership = GroupMembership(sim.base_url, credential, verify=sim.ca_path, timeout=2.0)
    yield membership
    membership.close()


def test_a_member_gets_the_group_and_a_stranger_none(sim, client, credential):
    assert client.member_of(MEMBER.upper(), [DEMO_APPROVER_GROUP.upper()]) == {DEMO_APPROVER_GROUP}
    assert client.member_of(STRANGER, [DEMO_APPROVER_GROUP, OTHER_GROUP]) == frozenset()
    assert graph_calls(sim) == 2
    assert credential.scopes[0] == (f"{sim.base_url}/.default",)


def test_only_the_groups_the_user_is_in_come_back(sim, client):
    sim.estate.add_group(OTHER_GROUP, [STRANGER])
    assert client.member_of(STRANGER, [DEMO_APPROVER_GROUP, OTHER_GROUP]) == {OTHER_GROUP}


@pytest.mark.parametrize(
    "object_id", ["", "not-a-guid", "../../me", "6f1c5b1e-2a4d-4c55-9d1e-0b9b8f0c1a01/x", None]
)
def test_an_invalid_object_id_is_refused_before_any_call(sim, client, credential, object_id):
    with pytest.raises(InvalidObjectId, match="GUID"):
        client.member_of(object_id, [DEMO_APPROVER_GROUP])
    assert graph_calls(sim) == 0
    assert credential.tokens == []


def test_an_invalid_group_id_is_refused_before_any_call(sim, client):
    with pytest.raises(InvalidObjectId, match="group id"):
        client.member_of(MEMBER, ["approvers"])
    assert graph_calls(sim) == 0


def test_answers_are_cached_per_user_and_group_for_the_ttl(sim, credential):
    clock = Clock()
    client = GroupMembership(sim.base_url, credential, ttl=300, verify=sim.ca_path, clock=clock)
    for _ in range(5):  # a storm of clicks
        assert client.member_of(MEMBER, [DEMO_APPROVER_GROUP]) == {DEMO_APPROVER_GROUP}
        assert client.member_of(STRANGER, [DEMO_APPROVER_GROUP]) == frozenset()
    assert graph_calls(sim) == 2
    sim.estate.add_group(DEMO_APPROVER_GROUP, [STRANGER])
    clock.now += 299
    assert client.member_of(STRANGER, [DEMO_APPROVER_GROUP]) == frozenset()  # still cached
    clock.now += 2
    assert client.member_of(STRANGER, [DEMO_APPROVER_GROUP]) == {DEMO_APPROVER_GROUP}
    assert graph_calls(sim) == 3
    client.close()


def test_more_than_twenty_groups_are_asked_in_batches(sim, client):
    groups = [f"00000000-0000-4000-8000-{n:012d}" for n in range(25)]
    sim.estate.add_group(groups[22], [MEMBER])
    assert client.member_of(MEMBER, groups) == {groups[22]}
    assert graph_calls(sim) == 2


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(status=503), "Graph answered 503 (ServiceUnavailable)"),
        (Fault(status=403, code="Authorization_RequestDenied"), "403"),
        (Fault(kind="timeout", hold_seconds=3.5), "did not answer within 2s"),
        (Fault(kind="drop"), "Graph unreachable"),
        (Fault(status=200), "unreadable body"),
    ],
)
def test_graph_failures_raise_membership_unavailable_without_the_token(
    sim, client, credential, fault, reason
):
    sim.faults.add(FaultRule(route=GRAPH_ROUTE, fault=fault))
    with pytest.raises(MembershipUnavailable, match=re.escape(reason)) as raised:
        client.member_of(MEMBER, [DEMO_APPROVER_GROUP])
    assert credential.tokens and not any(t in str(raised.value) for t in credential.tokens)
    sim.faults.clear()  # a failure is not cached: the next click asks again
    assert client.member_of(MEMBER, [DEMO_APPROVER_GROUP]) == {DEMO_APPROVER_GROUP}


def test_a_token_graph_rejects_is_unavailable_and_never_quoted(sim):
    class Forged:
        def get_token(self, *scopes: str):
            return type("T", (), {"token": "forged-token-value"})()

    client = GroupMembership(sim.base_url, Forged(), verify=sim.ca_path)
    with pytest.raises(MembershipUnavailable, match="401") as raised:
        client.member_of(MEMBER, [DEMO_APPROVER_GROUP])
    assert "forged-token-value" not in str(raised.value)
    client.close()


def test_a_credential_that_fails_is_unavailable(sim):
    class Broken:
        def get_token(self, *scopes: str):
            raise RuntimeError("msal said no")

    client = GroupMembership(sim.base_url, Broken(), verify=sim.ca_path)
    with pytest.raises(MembershipUnavailable, match="no Graph token: RuntimeError"):
        client.member_of(MEMBER, [DEMO_APPROVER_GROUP])
    assert graph_calls(sim) == 0
    client.close()


def test_settings_that_make_no_credential_are_unavailable_without_the_secret():
    settings = Settings({"AZURE_CLIENT_SECRET": "super-secret-value", "AZURE_CLIENT_ID": "app"})
    with pytest.raises(MembershipUnavailable, match="AZURE_TENANT_ID") as raised:
        membership_from_settings(settings)
    assert "super-secret-value" not in str(raised.value)


def test_the_client_from_settings_reads_graph_endpoint_and_the_ca_bundle(sim):
    settings = Settings(
        {
            "GRAPH_ENDPOINT": sim.base_url + "/",
            "ARM_CA_BUNDLE": sim.ca_path,
            "AZURE_AUTHORITY_HOST": sim.base_url,
            "AZURE_TENANT_ID": "tenant-test",
            "AZURE_CLIENT_ID": "app-remediation-test",
            "AZURE_CLIENT_SECRET": "not-a-real-secret",
        }
    )
    client = membership_from_settings(settings)
    assert client.member_of(MEMBER, [DEMO_APPROVER_GROUP]) == {DEMO_APPROVER_GROUP}
    client.close()
