"""The simulator's Graph checkMemberGroups: the estate's groups, behind its tokens and faults."""

from __future__ import annotations

import pytest
import requests

from devtools.simulator.estate import DEMO_APPROVER_GROUP, DEMO_APPROVER_GROUP_MEMBERS
from devtools.simulator.graph import GRAPH_ROUTE

MEMBER = DEMO_APPROVER_GROUP_MEMBERS[0]
STRANGER = "0b0b0b0b-0000-4000-8000-00000000dead"


def ask(sim, user: str, body, token: str | None = "issued"):
    if token == "issued":
        token, _ = sim.tokens.issue("test")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{sim.base_url}/v1.0/users/{user}/checkMemberGroups",
        json=body,
        headers=headers,
        verify=sim.ca_path,
        timeout=5,
    )


def test_members_get_the_groups_they_are_in(sim):
    answer = ask(sim, MEMBER, {"groupIds": [DEMO_APPROVER_GROUP, STRANGER]})
    assert answer.status_code == 200
    assert answer.json()["value"] == [DEMO_APPROVER_GROUP]
    assert ask(sim, STRANGER, {"groupIds": [DEMO_APPROVER_GROUP]}).json()["value"] == []


@pytest.mark.parametrize("token", [None, "not-issued-here"])
def test_a_missing_or_foreign_token_is_401(sim, token):
    answer = ask(sim, MEMBER, {"groupIds": [DEMO_APPROVER_GROUP]}, token=token)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


@pytest.mark.parametrize(
    ("user", "body", "status"),
    [
        ("not-a-guid", {"groupIds": [DEMO_APPROVER_GROUP]}, 404),
        (MEMBER, {"groupIds": "all"}, 400),
        (MEMBER, {"groupIds": []}, 400),
        (MEMBER, {"groupIds": [DEMO_APPROVER_GROUP] * 21}, 400),
        (MEMBER, {"groupIds": ["approvers"]}, 400),
        (MEMBER, ["not", "an", "object"], 400),
    ],
)
def test_bad_requests_are_refused_with_a_graph_error(sim, user, body, status):
    answer = ask(sim, user, body)
    assert answer.status_code == status
    assert answer.json()["error"]["code"].startswith("Request_")


def test_faults_and_the_request_log_cover_the_graph_route(sim):
    sim.faults.error(GRAPH_ROUTE, 503, times=1)
    assert ask(sim, MEMBER, {"groupIds": [DEMO_APPROVER_GROUP]}).status_code == 503
    assert ask(sim, MEMBER, {"groupIds": [DEMO_APPROVER_GROUP]}).status_code == 200
    logged = [e for e in sim.requests.entries(arm_only=False) if e.route == GRAPH_ROUTE]
    assert [(e.status, e.fault) for e in logged] == [(503, "status"), (200, None)]
    assert sim.requests.writes == 0  # Graph reads are not ARM writes


def test_reset_restores_the_groups(sim):
    sim.estate.add_group(DEMO_APPROVER_GROUP, [STRANGER])
    sim.reset()
    assert ask(sim, STRANGER, {"groupIds": [DEMO_APPROVER_GROUP]}).json()["value"] == []
