"""Injected faults as the real SDK pipeline experiences them."""

import contextlib
import time

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from devtools.simulator.faults import FaultRule, Faults
from devtools.simulator.requestlog import RequestLog
from remediation.azure.clients import RetrySettings
from tests.simulator_fixtures import clients_for

VAULT = ("rsv-backup-weu", "rg-backup")


def read_locks(clients):
    return list(clients.locks.management_locks.list_at_resource_group_level("rg-backup"))


def test_429_retry_after_is_honoured(arm_clients, sim):
    sim.faults.throttle("locks.list", retry_after=1, times=1)
    read_locks(arm_clients)
    times = [e.at for e in sim.requests.entries() if e.route == "locks.list"]
    assert [e.status for e in sim.requests.entries()] == [429, 200]
    assert times[1] - times[0] >= 0.95


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_by_azure_core(arm_clients, sim, status):
    sim.faults.error("locks.list", status, times=2)
    read_locks(arm_clients)
    assert [e.status for e in sim.requests.entries()] == [status, status, 200]


def test_post_is_retried_on_503_but_not_502(arm_clients, sim):
    sim.faults.error("backup.trigger", 502, times=1)
    with pytest.raises(HttpResponseError) as caught:
        arm_clients.backup.backups.trigger(
            *VAULT,
            "Azure",
            "IaasVMContainer;iaasvmcontainerv2;rg-web-prod;web-01",
            "VM;iaasvmcontainerv2;rg-web-prod;web-01",
            {"properties": {"objectType": "IaasVMBackupRequest"}},
        )
    assert caught.value.status_code == 502
    assert sim.requests.count("backup.trigger") == 1


def test_persistent_errors_surface_after_the_configured_retries(sim):
    clients = clients_for(sim, retry=RetrySettings.fast(retry_status=2))
    sim.faults.error("locks.list", 503)
    with pytest.raises(HttpResponseError) as caught:
        read_locks(clients)
    assert caught.value.status_code == 503
    assert sim.requests.count("locks.list") == 3


def test_dropped_connection_is_a_clear_error(sim):
    clients = clients_for(sim, retry=RetrySettings.none())
    sim.faults.drop("locks.list")
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        read_locks(clients)


def test_dropped_connection_once_is_recovered_by_retry(arm_clients, sim):
    sim.faults.drop("locks.list", times=1)
    assert len(read_locks(arm_clients)) == 0
    assert [(e.status, e.fault) for e in sim.requests.entries()] == [(0, "drop"), (200, None)]


def test_timeout_surfaces_as_a_clear_error(sim):
    clients = clients_for(sim, retry=RetrySettings.none(), read_timeout=0.3)
    sim.faults.timeout("locks.list", hold_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(ServiceResponseError) as caught:
        read_locks(clients)
    assert time.monotonic() - started < 0.9
    assert "timed out" in str(caught.value).lower()
    deadline = time.monotonic() + 3
    while not sim.requests.entries() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(e.status, e.fault) for e in sim.requests.entries()] == [(200, "timeout")]


def test_fail_first_with_an_arm_code(arm_clients, sim):
    sim.faults.fail_first("locks.get", 1, status=409, code="AnotherOperationInProgress")
    with pytest.raises(HttpResponseError) as caught:
        arm_clients.locks.management_locks.get_at_resource_group_level(
            "AzureBackupRG_westeurope_1", "protect-backup-rg"
        )
    assert caught.value.error.code == "AnotherOperationInProgress"
    lock = arm_clients.locks.management_locks.get_at_resource_group_level(
        "AzureBackupRG_westeurope_1", "protect-backup-rg"
    )
    assert lock.level == "CanNotDelete"


def _chaos_run(sim, seed):
    sim.reset()
    sim.faults.chaos(0.5, seed=seed)
    clients = clients_for(sim, retry=RetrySettings.none())
    for _ in range(12):
        with contextlib.suppress(HttpResponseError):
            read_locks(clients)
    return [e.status for e in sim.requests.entries()]


def test_chaos_with_a_seed_is_reproducible(sim):
    first = _chaos_run(sim, seed=7)
    assert first == _chaos_run(sim, seed=7)
    assert set(first) - {200}, "chaos at 0.5 over 12 requests injected nothing"
    assert first != _chaos_run(sim, seed=8)


def test_rules_match_method_and_pattern():
    faults = Faults()
    faults.add(FaultRule.from_json({"route": "compute.*", "method": "DELETE", "status": 500}))
    assert faults.pick("compute.rpc.get", "GET") is None
    assert faults.pick("compute.rpc.delete", "DELETE").status == 500
    assert faults.pick("locks.delete", "DELETE") is None


def test_rules_match_a_path_pattern_case_blind():
    faults = Faults()
    faults.add(FaultRule.from_json({"route": "dns.*", "path": "*/resourceGroups/RG-HUB/*"}))
    assert faults.pick("dns.links.list", "GET", "/subscriptions/s/resourceGroups/rg-x/z") is None
    assert faults.pick("dns.links.list", "GET", "/subscriptions/s/resourcegroups/rg-hub/z")


def test_a_lost_answer_leaves_the_write_done(sim):
    """The connection closes after the simulator carried the request out: the client sees a
    broken connection, the estate has the change (an ARM write whose answer was lost)."""
    clients = clients_for(sim, retry=RetrySettings.none())
    sim.faults.lose_answer("locks.delete")
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        clients.locks.management_locks.delete_at_resource_group_level(
            "AzureBackupRG_westeurope_1", "protect-backup-rg"
        )
    assert [(e.route, e.fault) for e in sim.requests.entries()] == [("locks.delete", "drop")]
    assert not [lock for lock in sim.estate.locks.values() if lock.name == "protect-backup-rg"]


def test_a_gateway_error_after_the_write_leaves_it_done(sim):
    clients = clients_for(sim, retry=RetrySettings.none())
    sim.faults.lose_answer("locks.delete", status=504)
    with pytest.raises(HttpResponseError) as caught:
        clients.locks.management_locks.delete_at_resource_group_level(
            "AzureBackupRG_westeurope_1", "protect-backup-rg"
        )
    assert caught.value.status_code == 504
    assert not [lock for lock in sim.estate.locks.values() if lock.name == "protect-backup-rg"]


def test_max_writes_in_any_window():
    now = [0.0]
    log = RequestLog(clock=lambda: now[0])
    for moment, method in [(0, "PUT"), (1, "GET"), (2, "DELETE"), (9.9, "POST"), (12.5, "PUT")]:
        now[0] = moment
        log.record(method, "/x", "r", 200, arm=True, fault=None)
    log.record("POST", "/t", "token", 200, arm=False, fault=None)
    assert (log.reads, log.writes) == (1, 4)
    assert log.max_writes_in_window(10) == 3
    assert log.max_writes_in_window(1) == 1


def test_start_async_serves_on_an_existing_loop():
    import asyncio
    import ssl

    import aiohttp

    from devtools.simulator import ArmSimulator, Estate

    async def run():
        simulator = await ArmSimulator(Estate.from_resources(vms=["vm-1"])).start_async()
        try:
            context = ssl.create_default_context(cafile=simulator.ca_path)
            async with aiohttp.ClientSession() as session:
                url = f"{simulator.base_url}/_sim/state"
                async with session.get(url, ssl=context) as response:
                    return await response.json()
        finally:
            await simulator.stop_async()
            simulator.stop()

    assert asyncio.run(run())["extensions"] == {"vm-1": {}}
