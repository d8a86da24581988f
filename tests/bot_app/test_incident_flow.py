"""An incident becomes one channel thread whose card is edited in place from proposal to
outcome, over real Bot Framework HTTP and real ARM SDK calls to the simulator."""

from __future__ import annotations

import json

import pytest

from tests.bot_app.harness import APPROVER, OTHER_TENANT, STRANGER, bot_app
from tests.botkit.servers import run_async
from tests.engine.signals import rp_limit_alert
from tests.engine.test_approvals import record_attacks


def texts(card: dict) -> str:
    """The text of every RichTextBlock of a card (and its ShowCards), one per line."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "RichTextBlock":
                found.append("".join(i["text"] for i in node["inlines"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


def executes(card: dict) -> list[dict]:
    """Every Action.Execute button of a card, in its body, its actions and its ShowCards
    (the card's refresh is no button)."""
    found = []

    def walk(node, key=None):
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and key != "action":
                found.append(node)
            for name, value in node.items():
                walk(value, name)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    walk(card)
    return found


def buttons(card: dict) -> dict[str, dict]:
    """The card's buttons by verb (the last one of a verb offered twice)."""
    return {a["verb"]: a for a in executes(card)}


DECISIONS = ("approve", "reject", "snooze")
ON_CALL = ("acknowledge", "assign", "resolve", "escalate")


def decisions(card: dict) -> list[tuple[str, dict]]:
    """(verb, data) of the approval buttons."""
    return [(a["verb"], a["data"]) for a in executes(card) if a["verb"] in DECISIONS]


@pytest.mark.timeout(60)
@run_async
async def test_one_thread_per_incident_updated_through_approval_execution_and_outcome(
    tmp_path, arm_sim, sdk
):
    async with bot_app(tmp_path, arm_sim, sdk=sdk) as app:
        assert app.stack.adapter.sdk.name == sdk
        await app.install()
        ingested = await app.sync(app.engine.ingest, rp_limit_alert("erp-app-03"))
        incident = app.engine.incidents.get(ingested.incident_id)
        approval_id = incident["approval_id"]

        [create] = app.calls("create")
        assert create.body["channelData"] == {"channel": {"id": "19:ops-channel@thread.tacv2"}}
        posted = create.body["activity"]["attachments"][0]["content"]
        assert posted["version"] == "1.5" and "$schema" in posted
        mine = {"approvalId": approval_id}
        assert decisions(posted) == [
            ("approve", {**mine, "choice": "restore-lock"}),
            ("approve", {**mine, "choice": "keep-lock-off"}),
            ("reject", mine),
            ("snooze", mine),
        ]
        titles = [a["title"] for a in executes(posted) if a["verb"] == "approve"]
        assert titles == ["Clean up, put the lock back",
                          "Clean up, keep the lock off"]  # fmt: skip
        assert "The lock on the AzureBackupRG_* group is the cause" in texts(posted)
        on_call = {v: b["data"] for v, b in buttons(posted).items() if v not in DECISIONS}
        assert on_call == {verb: {"incidentId": incident["id"]} for verb in ON_CALL}
        said = texts(posted)
        assert said.startswith("OPEN")
        assert "erp-app-03 (waiting for approval)" in said
        assert "/subscriptions/" not in said.split("Ids")[0]  # names, not ids, until Details
        card_ref = incident["card"]

        answer = await app.click(approval_id, "approve")
        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        decided = answer["value"]
        assert "Approved by Alex Operator" in texts(decided)
        assert decisions(decided) == []
        assert texts(decided).startswith("FIXING")
        assert app.engine.approvals.get(approval_id)["state"] == "executing"
        assert app.engine.runs.for_incident(incident["id"])[0]["state"] == "queued"

        assert await app.drain() > 0
        [run] = app.engine.runs.for_incident(incident["id"])
        assert run["state"] == "succeeded", run["failure"]
        final = app.latest_card()
        said = texts(final)
        assert said.startswith("RESOLVED")
        assert "Fixed: Azure shows the fix worked for erp-app-03." in said
        assert final["body"][0]["style"] == "good"
        assert executes(final) == []  # resolved: nothing left to decide or act on
        assert "Approved by Alex Operator" in said and "the lock goes back" in said
        for step in ("Lift the locks", "Start an on-demand backup", "Put the locks back"):
            assert step in said  # the whole timeline, folded on the card

        assert len(app.calls("create")) == 1
        updates = app.calls("update")
        assert len(updates) >= 3
        thread, root = card_ref["conversation_id"], card_ref["activity_id"]
        assert {(u.conversation_id, u.activity_id) for u in updates} == {(thread, root)}
        assert thread == f"19:ops-channel@thread.tacv2;messageid={root}"
        state = arm_sim.estate.to_state()
        assert any("protect-backup-rg" in json.dumps(lock) for lock in state["locks"])


async def _pending(app) -> str:
    await app.install()
    ingested = await app.sync(app.engine.ingest, rp_limit_alert("erp-app-02"))
    return app.engine.incidents.get(ingested.incident_id)["approval_id"]


def _record_attack(app, approval_id: str, unchanged: str, legit: int = 0) -> None:
    """One attacking click, after `legit` genuine ones; it took if the state moved on."""
    accepted = app.engine.approvals.get(approval_id)["state"] != unchanged
    record_attacks(app.engine, 1 + legit, accepted + legit, legit)


def _nothing_runs(app, approval_id: str) -> None:
    approval = app.engine.approvals.get(approval_id)
    assert approval["state"] == "pending"
    assert app.engine.runs.all() == []
    assert len(app.engine.queue) == 0


@pytest.mark.parametrize(
    ("who", "tenant", "message"),
    [
        (STRANGER, None, "not an approver"),
        (APPROVER, OTHER_TENANT, "home tenant"),
    ],
)
@run_async
async def test_a_click_by_a_non_approver_or_another_tenant_is_refused(
    tmp_path, who, tenant, message
):
    async with bot_app(tmp_path) as app:
        approval_id = await _pending(app)
        kwargs = {"tenant": tenant} if tenant else {}
        answer = await app.click(approval_id, "approve", user=who, **kwargs)
        _record_attack(app, approval_id, "pending")
        refused = answer["value"]
        assert message in texts(refused)
        assert {verb for verb, _ in decisions(refused)} == {"approve", "reject", "snooze"}
        _nothing_runs(app, approval_id)
        assert app.calls("update") == []


@run_async
async def test_a_replayed_click_is_refused_and_names_the_first_decision(tmp_path):
    async with bot_app(tmp_path) as app:
        approval_id = await _pending(app)
        first = await app.click(approval_id, "reject")
        assert "Rejected by Alex Operator" in texts(first["value"])
        again = await app.click(approval_id, "approve")
        _record_attack(app, approval_id, "rejected", legit=1)
        assert "Already rejected by Alex Operator" in texts(again["value"])
        assert app.engine.approvals.get(approval_id)["state"] == "rejected"
        assert app.engine.runs.all() == []


@run_async
async def test_an_expired_approval_is_refused(tmp_path):
    async with bot_app(tmp_path) as app:
        approval_id = await _pending(app)
        app.engine.store.update(
            "approvals", "approval", approval_id,
            lambda doc: {**doc, "expires": "2020-01-01T00:00:00+00:00"},
        )  # fmt: skip
        answer = await app.click(approval_id, "approve")
        _record_attack(app, approval_id, "expired")
        assert "expired" in texts(answer["value"])
        assert app.engine.approvals.get(approval_id)["state"] == "expired"
        assert app.engine.runs.all() == []


@pytest.mark.parametrize("approval_id", ["apr-does-not-exist", "", 42, {"id": "apr-x"}])
@run_async
async def test_an_unknown_or_forged_approval_id_gets_a_clear_card(tmp_path, approval_id):
    async with bot_app(tmp_path) as app:
        real = await _pending(app)
        answer = await app.click(approval_id, "approve")
        _record_attack(app, real, "pending")
        assert answer["type"] == "application/vnd.microsoft.card.adaptive"
        assert "does not exist" in texts(answer["value"])
        _nothing_runs(app, real)


@pytest.mark.parametrize(
    ("verb", "trigger"), [("approve", "manual"), ("reject", "manual"), ("approve", "automatic")]
)
@run_async
async def test_an_approval_id_too_long_to_be_one_is_a_bad_request(tmp_path, verb, trigger):
    """It once reached the store, whose bounded keys failed the turn: HTTP 500."""
    async with bot_app(tmp_path) as app:
        real = await _pending(app)
        answer = await app.click("apr-" + "x" * 5000, verb, trigger=trigger)
        _record_attack(app, real, "pending")
        assert answer["type"] == "application/vnd.microsoft.error"
        assert answer["statusCode"] == 400 and "5004 characters" in answer["value"]["message"]
        _nothing_runs(app, real)


@run_async
async def test_automatic_refresh_returns_the_card_without_deciding(tmp_path):
    async with bot_app(tmp_path) as app:
        approval_id = await _pending(app)
        answer = await app.click(approval_id, "approve", trigger="automatic")
        assert {verb for verb, _ in decisions(answer["value"])} == {"approve", "reject", "snooze"}
        _nothing_runs(app, approval_id)


@run_async
async def test_cards_wait_for_an_installed_channel_then_are_posted(tmp_path):
    async with bot_app(tmp_path) as app:
        ingested = await app.sync(app.engine.ingest, rp_limit_alert("erp-app-01"))
        assert app.connector.calls == []
        assert app.engine.incidents.get(ingested.incident_id)["card"] is None
        await app.install()
        assert len(app.calls("create")) == 1
        assert app.engine.incidents.get(ingested.incident_id)["card"]["activity_id"]


@run_async
async def test_uninstall_forgets_the_channel(tmp_path):
    async with bot_app(tmp_path) as app:
        await app.install()
        assert app.notifier.conversations.channel() is not None
        removal = app.activity("installation_update_add", action="remove")
        assert (await app.post(removal))[0] == 200
        assert app.notifier.conversations.all() == []
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-01"))
        assert app.calls("create") == []


@run_async
async def test_bot_removed_forgets_the_reference_and_too_large_falls_back_to_compact(tmp_path):
    async with bot_app(tmp_path) as app:
        await app.install()
        app.connector.fail_next(403)
        first = await app.sync(app.engine.ingest, rp_limit_alert("erp-app-01"))
        assert app.engine.incidents.get(first.incident_id)["card"] is None
        assert app.notifier.conversations.all() == []

        await app.install()  # re-installed: the waiting card is posted
        assert len(app.calls("create")) == 1
        assert "How to fix" in texts(app.latest_card())
        app.connector.fail_next(413)  # a second VM joins; Teams refuses the full card
        await app.sync(app.engine.ingest, rp_limit_alert("erp-app-02", alert_no=2))
        compact = app.latest_card()
        assert "How to fix" not in texts(compact)
        assert "erp-app-02" in texts(compact)
        assert len(app.calls("create")) == 1


@run_async
async def test_a_throttled_update_is_backlogged_then_resent(tmp_path):
    async with bot_app(tmp_path) as app:
        approval_id = await _pending(app)
        app.connector.fail_next(429, times=3, retry_after="0")
        await app.click(approval_id, "reject")
        assert [b["action"] for b in app.notifier.backlog()] == ["update"]
        sent = await app.sync(app.notifier.catch_up)
        assert sent == 1 and app.notifier.backlog() == []
        assert "Rejected by" in texts(app.latest_card())


@run_async
async def test_unauthenticated_or_malformed_posts_are_refused(tmp_path):
    async with bot_app(tmp_path) as app:
        activity = app.activity("message_channel")
        assert (await app.post(activity, auth=None))[0] == 401
        forged = app.stack.issuer.header(activity["serviceUrl"], wrong_key=True)
        assert (await app.post(activity, auth=forged))[0] == 401
        assert (await app.post(b"{not json"))[0] == 400
        assert app.connector.calls == []
