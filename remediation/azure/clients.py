"""The azure-mgmt clients the playbooks use, built lazily with explicit retry settings.

Importing this module imports no SDK: each client is imported and built on first use (a
Functions cold start pays only for the clients it touches). azure-core's retry policy owns
transport errors and 408/429/5xx (honouring Retry-After); `retry.py` owns operation-level
retries; every ARM write passes through the subscription's `WriteBudget` (throttle.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from remediation.azure.fence import check_fence
from remediation.azure.throttle import WriteBudget

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"


@dataclass(frozen=True)
class RetrySettings:
    """azure-core RetryPolicy knobs, passed to every client explicitly.

    Production: a few quick retries with exponential backoff capped well below the Functions
    timeout. `fast()` is for tests: same counts, no backoff sleeps.
    """

    retry_total: int = 6
    retry_connect: int = 3
    retry_read: int = 3
    retry_status: int = 4
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 60.0
    timeout: float = 300.0

    @classmethod
    def fast(cls, **overrides: Any) -> RetrySettings:
        return cls(**{"retry_backoff_factor": 0.0, "timeout": 30.0, **overrides})

    @classmethod
    def none(cls) -> RetrySettings:
        return cls(0, 0, 0, 0, 0.0, 0.0, 30.0)

    def kwargs(self) -> dict[str, Any]:
        return asdict(self)


def _write_policy(budget: WriteBudget | None, subscription_id: str):
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class WritePolicy(SansIOHTTPPolicy):
        """Every write attempt on the wire, retries included, takes a token from the
        subscription's bucket, then passes the step's fence (fence.py) right before it goes."""

        def on_request(self, request) -> None:
            if request.http_request.method.upper() in {"GET", "HEAD", "OPTIONS"}:
                return
            if budget is not None:
                budget.acquire(subscription_id)
            check_fence()

    return WritePolicy()


class ArmClients:
    """One subscription's management clients, created on first use and then reused."""

    def __init__(
        self,
        credential: TokenCredential,
        subscription_id: str,
        *,
        base_url: str | None = None,
        connection_verify: str | bool | None = None,
        polling_interval: float | None = None,
        retry: RetrySettings | None = None,
        read_timeout: float | None = None,
        write_budget: WriteBudget | None = None,
    ) -> None:
        if not subscription_id:
            raise ValueError("subscription_id is required")
        self.credential = credential
        self.subscription_id = subscription_id
        self.base_url = (base_url or DEFAULT_ARM_ENDPOINT).rstrip("/")
        self.connection_verify = connection_verify
        self.polling_interval = polling_interval
        self.retry = retry or RetrySettings()
        self.read_timeout = read_timeout
        self.write_budget = write_budget
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        credential: TokenCredential,
        subscription_id: str,
        settings: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> ArmClients:
        """ARM_ENDPOINT (default public cloud) and ARM_CA_BUNDLE (e.g. the simulator's CA)."""
        env = os.environ if settings is None else settings
        return cls(
            credential,
            subscription_id,
            base_url=env.get("ARM_ENDPOINT") or None,
            connection_verify=env.get("ARM_CA_BUNDLE") or None,
            **kwargs,
        )

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "base_url": self.base_url,
            "credential_scopes": [f"{self.base_url}/.default"],
            "user_agent": "azure-remediation-bot",
            **self.retry.kwargs(),
        }
        if self.base_url == DEFAULT_ARM_ENDPOINT:
            del kwargs["credential_scopes"]
        if self.connection_verify is not None:
            kwargs["connection_verify"] = self.connection_verify
        if self.polling_interval is not None:
            kwargs["polling_interval"] = self.polling_interval
        if self.read_timeout is not None:
            kwargs["read_timeout"] = self.read_timeout
        kwargs["per_retry_policies"] = [_write_policy(self.write_budget, self.subscription_id)]
        return kwargs

    def _get(self, name: str, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._clients:
                client_class = factory()
                self._clients[name] = client_class(
                    self.credential, self.subscription_id, **self.client_kwargs()
                )
            return self._clients[name]

    @property
    def site_recovery(self):
        def load():
            from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

            return SiteRecoveryManagementClient

        return self._get("site_recovery", load)

    @property
    def backup(self):
        def load():
            from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient

            return RecoveryServicesBackupClient

        return self._get("backup", load)

    @property
    def compute(self):
        def load():
            from azure.mgmt.compute import ComputeManagementClient

            return ComputeManagementClient

        return self._get("compute", load)

    @property
    def locks(self):
        def load():
            from azure.mgmt.resource.locks import ManagementLockClient

            return ManagementLockClient

        return self._get("locks", load)

    @property
    def network(self):
        def load():
            from azure.mgmt.network import NetworkManagementClient

            return NetworkManagementClient

        return self._get("network", load)

    @property
    def private_dns(self):
        def load():
            from azure.mgmt.privatedns import PrivateDnsManagementClient

            return PrivateDnsManagementClient

        return self._get("private_dns", load)

    @property
    def resources(self):
        def load():
            from azure.mgmt.resource.resources import ResourceManagementClient

            return ResourceManagementClient

        return self._get("resources", load)

    def built(self) -> list[str]:
        """Names of the clients created so far."""
        with self._lock:
            return sorted(self._clients)

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
