"""The whole bot product on loopback: token issuer, fake Bot Connector, /api/messages served
through the real runtime, the engine on SQLite, and ARM calls to the HTTPS ARM simulator.

Sync engine calls go through `await app.sync(...)`: they post cards through the bot loop to
the fake connector, which runs on the test's loop and must stay free to answer.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.model import Handler
from bot.teams_notifier import TeamsNotifier
from devtools.replay import engine_on_simulator
from devtools.simulator import ArmSimulator
from devtools.simulator.identity import TEST_CLIENT
from remediation.azure.credential import SharedCredential
from remediation.policy import load_policy
from remediation.queue.memory import InProcessQueue
from remediation.settings import CREDENTIAL_SETTINGS, Settings
from remediation.store import SqliteStore
from tests.bot_app.conftest import MIGRATE_VAULT_ID
from tests.botkit.activities import BOT_APP_ID, sample
from tests.botkit.connector import Call, FakeConnector, running_connector
from tests.botkit.host import messages_app
from tests.botkit.servers import serve
from tests.botkit.stack import FAST_RETRY, TENANT_ID, BotStack
from tests.botkit.tokens import running_issuer
from wiring.bot import handler_for, teams_notifier
from wiring.services import Services, build_services

APPROVER = "6f1c5b1e-2a4d-4c55-9d1e-0b9b8f0c1a01"  # the user in tests/events/bot samples
STRANGER = "0b0b0b0b-0000-4000-8000-00000000dead"
OTHER_TENANT = "99999999-0000-4000-8000-000000000999"


@dataclass
class BotApp:
    stack: BotStack
    services: Services
    notifier: TeamsNotifier
    handler: Handler
    sim: ArmSimulator | None

    @property
    def connector(self) -> FakeConnector:
        return self.stack.connector

    @property
    def engine(self):
        return self.services.engine

    async def sync(self, fn, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def post(self, activity: dict[str, Any], auth: Any = True) -> tuple[int, Any]:
        return await self.stack.post(activity, auth)

    def activity(self, name: str, **fields: Any) -> dict[str, Any]:
        return sample(name, self.connector.url, **fields)

    async def install(self) -> None:
        status, _ = await self.post(self.activity("installation_update_add"))
        assert status == 200

    def message(
        self, text: str, user: str = APPROVER, tenant: str = TENANT_ID, personal: bool = False
    ) -> dict[str, Any]:
        """A chat message to the bot: in the channel (mentioning it) or in a personal chat."""
        activity = self.activity("message_channel")
        activity["text"] = f"<at>Remediation</at> {text}"
        _as(activity, user, tenant)
        if personal:
            activity["conversation"] = {"id": "a:1personal", "conversationType": "personal",
                                        "tenantId": tenant}  # fmt: skip
            activity["entities"] = []
            activity["text"] = text
        return activity

    async def say(
        self, text: str, user: str = APPROVER, tenant: str = TENANT_ID, personal: bool = False
    ) -> dict[str, Any]:
        """Send a chat message; return the card the bot answered with."""
        activity = self.message(text, user, tenant, personal)
        before = len(self.connector.calls)
        status, _ = await self.post(activity)
        assert status == 200
        replies = [c for c in self.connector.calls[before:] if c.kind in ("reply", "send")]
        assert len(replies) == 1, replies
        return replies[0].body["attachments"][0]["content"]

    def card_action(
        self,
        approval_id: Any,
        verb: str = "approve",
        user: str = APPROVER,
        tenant: str = TENANT_ID,
        trigger: str = "manual",
        data: dict[str, Any] | None = None,
        on: str | None = None,
    ) -> dict[str, Any]:
        """The invoke of a click on a card button (`trigger` automatic: a refresh); `data`:
        the button's own data, else the approval's id. As in Teams, the click comes from the
        thread of the card it was made on: incident `on`'s card, by default the card of the
        incident the data names (the sample's fixed thread when that card is unknown)."""
        activity = self.activity("invoke_action_execute")
        data = data if data is not None else {"approvalId": approval_id}
        activity["value"] = {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": trigger,
        }
        card = self.card_of(on or self.engine.incident_named(data))
        if card:
            activity["conversation"] = {**activity["conversation"], "id": card["conversation_id"]}
            activity["replyToId"] = card["activity_id"]
        _as(activity, user, tenant)
        return activity

    def card_of(self, incident_id: str | None) -> dict[str, Any] | None:
        """Where the incident's card was posted (thread and message id), if it was."""
        incident = self.engine.incidents.get(incident_id) if incident_id else None
        return incident.get("card") if incident else None

    async def click(self, approval_id: Any, verb: str = "approve", **who: Any) -> dict[str, Any]:
        """Click a card button (`who`: user, tenant, trigger, data, on as for `card_action`);
        return the invoke response body."""
        status, body = await self.post(self.card_action(approval_id, verb, **who))
        assert status == 200, body
        return body

    async def drain(self) -> int:
        """Run every queued playbook step against the ARM simulator."""
        return await self.sync(self.engine.queue.drain, self.engine.runner.handle)

    async def proposed_cleanup(self, vm: str = "erp-app-03") -> tuple[str, str]:
        """(incident id, approval id) of the restore-point cleanup a Backup alert for `vm`
        proposes, the bot installed first."""
        from tests.engine.signals import rp_limit_alert

        await self.install()
        ingested = await self.sync(self.engine.ingest, rp_limit_alert(vm))
        return ingested.incident_id, self.engine.incidents.get(ingested.incident_id)["approval_id"]

    async def approve_and_run(self, approval_id: str) -> None:
        await self.click(approval_id, "approve")
        await self.drain()

    def calls(self, kind: str) -> list[Call]:
        return self.connector.of_kind(kind)

    def latest_card(self) -> dict[str, Any]:
        sent = [c for c in self.connector.calls if c.kind in ("create", "update")]
        sent = [c for c in sent if c.status < 400]
        body = sent[-1].body
        activity = body.get("activity", body)
        return activity["attachments"][0]["content"]


def _as(activity: dict[str, Any], user: str, tenant: str) -> None:
    activity["from"] = {**activity["from"], "aadObjectId": user}
    activity["conversation"] = {**activity["conversation"], "tenantId": tenant}
    activity["channelData"] = {**copy.deepcopy(activity["channelData"]), "tenant": {"id": tenant}}


def app_settings(
    tmp_path: Path,
    metadata_url: str,
    sim: ArmSimulator | None,
    approver_group: str | None = None,
    sdk: str = "botbuilder",
) -> Settings:
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"approvers: ['{APPROVER}']\ntenant_id: '{TENANT_ID}'\n", encoding="utf-8")
    env = {
        "BOT_APP_ID": BOT_APP_ID,
        "BOT_APP_TYPE": "SingleTenant",
        "BOT_TENANT_ID": TENANT_ID,
        "BOT_OPENID_METADATA_URL": metadata_url,
        "POLICY_FILE": str(policy),
        "BOT_SDK": sdk,
    }
    if sim is not None:
        env |= {"ARM_ENDPOINT": sim.base_url, "ARM_CA_BUNDLE": sim.ca_path,
                "POLL_VAULT_IDS": MIGRATE_VAULT_ID}  # fmt: skip
    if approver_group is not None:  # members are asked of the simulator's Graph
        assert sim is not None, "an approver group needs the simulator's Graph"
        env |= {
            "APPROVER_GROUP_ID": approver_group,
            "GRAPH_ENDPOINT": sim.base_url,
            "AZURE_AUTHORITY_HOST": sim.base_url,
            "AZURE_TENANT_ID": TENANT_ID,  # the policy's home tenant too
            "AZURE_CLIENT_ID": TEST_CLIENT,
            "AZURE_CLIENT_SECRET": "simulator-only",
        }
    return Settings(env)


def _services(
    settings: Settings, notifier: TeamsNotifier, store, sim, credential: SharedCredential
) -> Services:
    """The composition root's services; with a simulator, the replay's fast ARM clients
    (no LRO polling delay), wired to the same notifier, store, policy and credential."""
    if sim is None:
        return build_services(
            settings, notifier=notifier, store=store, queue=InProcessQueue(), credential=credential
        )
    engine, arms = engine_on_simulator(
        sim.base_url, sim.ca_path, sim.estate.subscription_id, store=store,
        notifier=notifier, policy=load_policy(settings),
    )  # fmt: skip
    notifier.attach(engine)
    return Services(settings, engine, arms, credential)


@asynccontextmanager
async def bot_app(
    tmp_path: Path,
    sim: ArmSimulator | None = None,
    approver_group: str | None = None,
    sdk: str = "botbuilder",
) -> AsyncIterator[BotApp]:
    """The bot product on loopback, its turns run by the bot SDK `sdk` (BOT_SDK)."""
    async with running_issuer(BOT_APP_ID) as issuer, running_connector() as connector:
        settings = app_settings(tmp_path, issuer.metadata_url, sim, approver_group, sdk)
        store = SqliteStore(str(tmp_path / "store.db"))
        credential = SharedCredential(settings.pick(CREDENTIAL_SETTINGS))
        notifier = teams_notifier(settings, store, credential, tokens=connector.token_provider,
                                  retry=FAST_RETRY)  # fmt: skip
        notifier.runtime.timeout = 20
        services = _services(settings, notifier, store, sim, credential)
        handler = handler_for(services)

        app = messages_app(notifier.runtime, handler)  # the runtime processes like the adapter
        try:
            async with serve(app) as url:
                stack = BotStack(issuer, connector, notifier.runtime.adapter, url + "/api/messages")
                yield BotApp(stack, services, notifier, handler, sim)
        finally:
            await asyncio.to_thread(notifier.runtime.close)
            if sim is not None:
                services.arm_factory.close()
            store.close()
