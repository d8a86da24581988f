"""ArmClients wiring, operation-level conflict retries, and the write budget."""

import subprocess
import sys
import threading

import pytest
from azure.core.exceptions import HttpResponseError

from remediation.azure.clients import ArmClients, RetrySettings
from remediation.azure.retry import (
    error_code,
    is_transient_conflict,
    retry_transient_conflict,
    run_with_conflict_retry,
)
from remediation.azure.throttle import WriteBudget, WriteBudgetExceeded
from tests.simulator_fixtures import clients_for

BACKUP_RG = "AzureBackupRG_westeurope_1"


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_importing_the_package_loads_no_sdk():
    code = (
        "import sys, remediation.azure, remediation.azure.clients, remediation.azure.retry;"
        "print(sorted(m for m in sys.modules if m.startswith(('azure.mgmt', 'msal'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_clients_are_built_lazily_once_with_explicit_retry(sim):
    clients = clients_for(sim, retry=RetrySettings.fast(retry_total=5, retry_status=2))
    assert clients.built() == []
    assert clients.compute is clients.compute
    assert clients.built() == ["compute"]
    policy = clients.compute._config.retry_policy
    assert (policy.total_retries, policy.status_retries, policy.backoff_factor) == (5, 2, 0.0)
    production = ArmClients(object(), "sub").client_kwargs()
    assert production["base_url"] == "https://management.azure.com"
    assert production["retry_backoff_factor"] == 0.8
    assert "credential_scopes" not in production


def test_from_settings_reads_endpoint_and_ca_bundle(sim):
    settings = {"ARM_ENDPOINT": sim.base_url, "ARM_CA_BUNDLE": sim.ca_path}
    reference = clients_for(sim)
    clients = ArmClients.from_settings(
        reference.credential, sim.estate.subscription_id, settings, polling_interval=0
    )
    assert clients.client_kwargs()["credential_scopes"] == [f"{sim.base_url}/.default"]
    assert len(list(clients.locks.management_locks.list_at_resource_group_level(BACKUP_RG))) == 1


def _delete_rpc(clients, name):
    return lambda: clients.compute.restore_point_collections.begin_delete(BACKUP_RG, name).result()


def _rpc_name(sim):
    return next(iter(sim.estate.restore_point_collections.values())).name


def test_transient_conflict_is_retried_as_a_whole_operation(arm_clients, sim):
    sim.estate.locks.clear()
    sim.estate.behaviour.rpc_delete_fail_first = 2
    run_with_conflict_retry(_delete_rpc(arm_clients, _rpc_name(sim)), initial_wait=0)
    assert sim.requests.count("compute.rpc.delete") == 3
    assert len(sim.estate.restore_point_collections) == 19


def test_conflict_retries_run_out_and_reraise(arm_clients, sim):
    sim.estate.locks.clear()
    sim.estate.behaviour.rpc_delete_fail_first = 5

    @retry_transient_conflict(attempts=2, initial_wait=0)
    def delete():
        _delete_rpc(arm_clients, _rpc_name(sim))()

    with pytest.raises(HttpResponseError) as caught:
        delete()
    assert error_code(caught.value) == "Conflict"
    assert sim.requests.count("compute.rpc.delete") == 2


def test_scope_locked_is_never_retried(arm_clients, sim):
    with pytest.raises(HttpResponseError) as caught:
        run_with_conflict_retry(_delete_rpc(arm_clients, _rpc_name(sim)), initial_wait=0)
    assert error_code(caught.value) == "ScopeLocked"
    assert not is_transient_conflict(caught.value)
    assert sim.requests.count("compute.rpc.delete") == 1


def test_server_errors_are_left_to_azure_core(sim):
    clients = clients_for(sim, retry=RetrySettings.fast(retry_status=1))
    sim.estate.locks.clear()
    sim.faults.error("compute.rpc.delete", 500)
    with pytest.raises(HttpResponseError) as caught:
        run_with_conflict_retry(_delete_rpc(clients, _rpc_name(sim)), initial_wait=0)
    assert caught.value.status_code == 500
    assert sim.requests.count("compute.rpc.delete") == 2


def test_writes_go_through_the_write_budget(sim):
    clock = FakeClock()
    budget = WriteBudget(capacity=2, refill_per_second=1, clock=clock, sleep=clock.sleep)
    clients = clients_for(sim, write_budget=budget)
    locks = clients.locks.management_locks
    for n in range(4):
        locks.create_or_update_at_resource_group_level(
            "rg-backup", f"l{n}", {"properties": {"level": "CanNotDelete"}}
        )
    list(locks.list_at_resource_group_level("rg-backup"))
    assert clock.slept == [1.0, 1.0]
    assert sim.requests.writes == 4


def test_bucket_allows_a_burst_then_paces_at_the_refill_rate():
    clock = FakeClock()
    budget = WriteBudget(capacity=3, refill_per_second=2, clock=clock, sleep=clock.sleep)
    waits = [budget.acquire("sub-a") for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 0.5]
    assert clock.now == 1.0
    assert budget.acquire("sub-b") == 0.0
    clock.now += 10
    assert budget.available("sub-a") == 3


def test_bucket_refuses_a_wait_longer_than_allowed():
    clock = FakeClock()
    budget = WriteBudget(capacity=1, refill_per_second=0.1, clock=clock, sleep=clock.sleep)
    budget.acquire("s")
    with pytest.raises(WriteBudgetExceeded):
        budget.acquire("s", max_wait=5)
    with pytest.raises(ValueError):
        budget.reserve("s", cost=2)


def test_bucket_is_thread_safe():
    clock = FakeClock()
    budget = WriteBudget(capacity=10, refill_per_second=1, clock=clock, sleep=lambda _s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            wait = budget.reserve("s")
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [0.0] * 10 + [float(n) for n in range(1, 71)]
    assert budget.available("s") == -70
