"""Members of the policy's approver group may approve: the bot asks the simulator's Graph,
over real HTTP, only for users who are not listed approvers, and never accepts on error."""

from __future__ import annotations

import pytest

from devtools.simulator.estate import DEMO_APPROVER_GROUP, DEMO_APPROVER_GROUP_MEMBERS
from devtools.simulator.graph import GRAPH_ROUTE
from tests.bot_app.harness import APPROVER, STRANGER, bot_app
from tests.bot_app.test_incident_flow import _nothing_runs, _pending, decisions, texts
from tests.botkit.servers import run_async

MEMBER = DEMO_APPROVER_GROUP_MEMBERS[1]  # in the group, not among the policy's approvers
UNAVAILABLE = "Could not check your membership of the approver group"


def graph_calls(sim) -> int:
    return sum(1 for e in sim.requests.entries(arm_only=False) if e.route == GRAPH_ROUTE)


async def approve_pending(app, user: str) -> tuple[str, dict]:
    """A pending approval, and the card `user` gets back for pressing its approve button."""
    approval_id = await _pending(app)
    return approval_id, (await app.click(approval_id, "approve", user=user))["value"]


def audited(app, approval_id: str) -> list[tuple[str, str, str]]:
    entries = [e for e in app.engine.audit.entries() if e["target"] == approval_id]
    return [(e["actor"], e["result"], e["reason"]) for e in entries]


@pytest.mark.timeout(60)
@run_async
async def test_a_group_member_who_is_not_a_listed_approver_may_approve(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim, approver_group=DEMO_APPROVER_GROUP) as app:
        approval_id, decided = await approve_pending(app, MEMBER)
        assert "Approved by" in texts(decided)
        assert decisions(decided) == []
        approval = app.engine.approvals.get(approval_id)
        assert approval["state"] == "executing"
        assert approval["decided_by"]["id"] == MEMBER
        [(actor, result, _)] = audited(app, approval_id)
        assert (actor, result) == (f"user:{MEMBER}", "accepted")
        assert graph_calls(arm_sim) == 1


@pytest.mark.timeout(60)
@run_async
async def test_a_non_member_is_refused_after_graph_says_so(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim, approver_group=DEMO_APPROVER_GROUP) as app:
        approval_id, refused = await approve_pending(app, STRANGER)
        assert "not an approver" in texts(refused)
        assert {v for v, _ in decisions(refused)} == {"approve", "reject", "snooze"}
        _nothing_runs(app, approval_id)
        assert graph_calls(arm_sim) == 1


@pytest.mark.timeout(60)
@run_async
async def test_graph_down_refuses_with_the_reason_audits_it_and_a_retry_works(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim, approver_group=DEMO_APPROVER_GROUP) as app:
        arm_sim.faults.error(GRAPH_ROUTE, 503, times=1)
        approval_id, refused = await approve_pending(app, MEMBER)
        shown = texts(refused)
        assert UNAVAILABLE in shown and "Graph answered 503" in shown and "try again" in shown
        assert {v for v, _ in decisions(refused)} == {"approve", "reject", "snooze"}
        _nothing_runs(app, approval_id)
        [(actor, result, reason)] = audited(app, approval_id)
        assert (actor, result) == (f"user:{MEMBER}", "refused")
        assert reason.startswith(UNAVAILABLE) and "503" in reason

        again = (await app.click(approval_id, "approve", user=MEMBER))["value"]
        assert "Approved by" in texts(again)
        assert graph_calls(arm_sim) == 2


@pytest.mark.timeout(60)
@run_async
async def test_listed_approvers_and_read_only_commands_never_ask_graph(tmp_path, arm_sim):
    arm_sim.faults.error(GRAPH_ROUTE, 503)  # would refuse anyone it is asked about
    async with bot_app(tmp_path, arm_sim, approver_group=DEMO_APPROVER_GROUP) as app:
        await app.say("status", user=STRANGER)
        _, decided = await approve_pending(app, APPROVER)
        assert "Approved by" in texts(decided)
        assert graph_calls(arm_sim) == 0


@pytest.mark.timeout(60)
@run_async
async def test_switch_commands_use_the_group_and_say_when_graph_is_down(tmp_path, arm_sim):
    async with bot_app(tmp_path, arm_sim, approver_group=DEMO_APPROVER_GROUP) as app:
        await app.install()
        arm_sim.faults.error(GRAPH_ROUTE, 503, times=1)
        said = texts(await app.say("pause", user=MEMBER))
        assert UNAVAILABLE in said and "503" in said
        assert not app.engine.policy().paused
        said = texts(await app.say("pause", user=MEMBER))
        assert app.engine.policy().paused, said
        assert "Only remediation approvers" in texts(await app.say("resume", user=STRANGER))
        assert app.engine.policy().paused
