"""Composition root: builds the engine and its parts from one Settings object, once per process.

The store, the queue, the ARM clients, Graph and the bot share one credential built from the
settings (the managed identity in Azure). Everything heavy (Azure SDK clients, tokens) is
created on first use, so importing the Function App stays fast on a cold start and a start
never fails because a dependency is out of reach: the call that needs it answers 503.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from remediation.clock import Clock, utcnow
from remediation.engine import Engine
from remediation.notify import Notifier
from remediation.records import Caller
from remediation.settings import Settings
from remediation.signals.arm_id import ArmId

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from remediation.audit import AuditLog
    from remediation.azure.api import ArmApi
    from remediation.azure.clients import ArmClients
    from remediation.azure.operations import Arm
    from remediation.poller import PollResult
    from remediation.queue.base import Queue
    from remediation.store import Store

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    arm_factory: ArmFactory
    credential: TokenCredential  # shared by every Azure client

    def arm(self, subscription_id: str, actor: str) -> ArmApi:
        return self.arm_factory(subscription_id, actor)

    def poll(self) -> PollResult:
        """The timer's cycle over the configured vaults, grouped by subscription."""
        from remediation.poller import poll

        by_subscription: dict[str, list[str]] = {}
        for vault in self.settings.items("POLL_VAULT_IDS"):
            arm_id = ArmId.parse(vault)
            if arm_id and arm_id.subscription_id:
                by_subscription.setdefault(arm_id.subscription_id, []).append(vault)
        result = poll(self.engine, by_subscription, lambda sub: self.arm(sub, "poller"))
        self.send_digest()
        return result

    def send_digest(self) -> int:
        """The weekly digest, from the timer: sent once per ISO week and channel, where the
        notifier is Teams (bot.digest)."""
        notifier = self.engine.notifier
        if not hasattr(notifier, "post_digest"):
            return 0
        from bot.digest import DigestPoster, send_weekly

        try:
            return send_weekly(self.engine, cast(DigestPoster, notifier))  # it has post_digest
        except Exception:  # the digest must never stop the poller's cycle
            log.exception("the weekly digest failed")
            return 0


class ArmFactory:
    """One set of SDK clients per subscription, sharing one credential and write budget."""

    def __init__(
        self,
        settings: Settings,
        audit: AuditLog,
        credential: TokenCredential,
        **client_options: Any,
    ) -> None:
        from remediation.azure.throttle import WriteBudget

        self._settings = settings
        self._audit = audit
        self._credential = credential
        self._options = {"write_budget": WriteBudget(), **client_options}
        self._clients: dict[str, ArmClients] = {}
        self._lock = threading.Lock()

    def __call__(self, subscription_id: str, actor: str, run_id: str | None = None) -> Arm:
        from remediation.azure.operations import Arm

        with self._lock:
            clients = self._clients.get(subscription_id)
            if clients is None:
                clients = self._clients[subscription_id] = self._build(subscription_id)
        return Arm(clients, self._audit, actor, run_id)

    def _build(self, subscription_id: str) -> ArmClients:
        from remediation.azure.clients import ArmClients

        options = {
            "base_url": self._settings.get("ARM_ENDPOINT"),
            "connection_verify": self._settings.get("ARM_CA_BUNDLE") or None,
            **self._options,
        }
        return ArmClients(self._credential, subscription_id, **options)

    def close(self) -> None:
        for clients in self._clients.values():
            clients.close()


def build_services(
    settings: Settings | None = None,
    *,
    notifier: Notifier | None = None,
    queue: Queue | None = None,
    store: Store | None = None,
    credential: TokenCredential | None = None,
    clock: Clock = utcnow,
) -> Services:
    """Wire the engine from `settings`; tests and the local host pass their own parts."""
    from remediation.azure.credential import SharedCredential
    from remediation.classify import default_classifier
    from remediation.notify import LogNotifier
    from remediation.playbooks import PLAYBOOKS
    from remediation.policy import load_policy
    from remediation.settings import CREDENTIAL_SETTINGS, STORE_SETTINGS
    from remediation.store import open_store

    settings = settings or Settings()
    credential = credential or SharedCredential(settings.pick(CREDENTIAL_SETTINGS))
    store = store or open_store(settings.pick(STORE_SETTINGS), credential=credential)
    queue = queue or _queue(settings, credential)
    policy = load_policy(settings)
    if notifier is None and settings.get("BOT_APP_ID"):
        from wiring.bot import teams_notifier

        notifier = teams_notifier(settings, store, credential)
    holder: dict[str, ArmFactory] = {}

    def arm_for(run: Caller) -> ArmApi:
        subscription = run["target"].get("subscription_id") or ""
        return holder["factory"](subscription, run["decided_by"], run.get("id"))

    engine = Engine(
        store,
        default_classifier(),
        lambda: policy,
        queue,
        notifier or LogNotifier(),
        PLAYBOOKS,
        arm_for,
        clock,
    )
    holder["factory"] = ArmFactory(settings, engine.audit, credential)
    attach = getattr(engine.notifier, "attach", None)
    if attach is not None:  # the Teams notifier re-sends missed cards from engine views
        attach(engine)
    return Services(settings, engine, holder["factory"], credential)


def _queue(settings: Settings, credential: TokenCredential) -> Queue:
    if settings.get("QUEUE_KIND") == "servicebus":
        from remediation.queue.servicebus import ServiceBusQueue

        return ServiceBusQueue.from_settings(settings, credential)
    from remediation.queue.memory import InProcessQueue

    return InProcessQueue()


_installed: Services | None = None


def install(given: Services) -> Services:
    """Make `services()` return `given` in this process from now on.

    For a process whose parts are not the settings' defaults: the local host's queue worker
    sends its queue messages back to the host instead of to a queue of its own.
    """
    global _installed
    _installed = given
    services.cache_clear()
    return given


@functools.cache
def services() -> Services:
    """The process-wide services the Functions triggers share."""
    return _installed or build_services()
