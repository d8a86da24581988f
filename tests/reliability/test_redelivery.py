"""At-least-once delivery everywhere: each message arrives five times, interleaved and
concurrent, at every entry point, and still has exactly one effect.

Action groups retry a webhook up to five times, Event Grid and Service Bus redeliver until
acknowledged, and Teams resends a click that timed out. Over real HTTP to `serve --simulate`:
the alert webhook, the Event Grid webhook, the local Event Grid trigger endpoint and the
approval click on /api/messages. In process, the Service Bus queue function, fed each step
message five times at once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from azure.functions.servicebus import ServiceBusMessage

from devtools.localhost.serve import DEV_USER, simulated_environment
from devtools.simulator import ArmSimulator, Behaviour, Estate
from devtools.simulator.identity import TEST_TENANT
from remediation.approvals import Approver
from remediation.queue.base import StepMessage
from remediation.runs import TERMINAL
from remediation.signals import signals_from_payload
from tests.function_app_fixture import registered_functions
from tests.localhost.process import demo_rp_limit_alert
from tests.reliability.served import Server, action_data, eventually, running_server
from tests.reliability.summary import record

COPIES = 5
TRIGGER = "/runtime/webhooks/eventgrid?functionName=eventgrid_trigger"
BY_ROUTE = {"/api/alerts": "erp-app-01", "/api/eventgrid": "erp-app-02", TRIGGER: "erp-app-03"}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("redelivery")) as running:
        yield running


def _message(route: str, vm: str) -> Any:
    """What each entry point receives for `vm`'s restore-point-limit failure."""
    alert = demo_rp_limit_alert(vm)
    if route == "/api/alerts":
        return alert
    event = {"id": f"event-{vm}", "eventType": "Contoso.Backup.Failed", "subject": vm,
             "eventTime": "2025-06-02T22:14:40Z", "dataVersion": "1", "data": alert}  # fmt: skip
    return [event]


def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call at once on its own thread, released together by a barrier."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _deliveries(server: Server) -> list[Callable[[], requests.Response]]:
    def deliver(route: str, message: Any) -> Callable[[], requests.Response]:
        return lambda: requests.post(server.base + route, json=message, timeout=30)

    calls = [
        deliver(route, _message(route, vm)) for route, vm in BY_ROUTE.items() for _ in range(COPIES)
    ]
    random.Random(8).shuffle(calls)  # interleaved: copies of different messages mixed
    return calls


def test_each_webhook_message_delivered_five_times_counts_once(server):
    threads_before = len(server.threads())
    sim_before = server.simulator_state()
    answers = _concurrently(_deliveries(server))
    assert {a.status_code for a in answers} <= {200, 202}, [a.text for a in answers]
    server.served.wait_processed()

    [incident] = server.store.documents("incidents")
    assert sorted(incident["vms"]) == sorted(BY_ROUTE.values())
    assert incident["signal_count"] == len(BY_ROUTE), "a redelivered signal was counted twice"
    stored = server.store.counts()["signals"]
    record("redelivery", messages=len(BY_ROUTE), deliveries=len(answers), effects=stored)
    assert stored == len(BY_ROUTE)
    threads = server.threads()
    assert len(threads) == threads_before + 1, "one card for the incident, posted once"
    root = threads[-1]["activities"][0]
    approve = action_data(root["attachments"], "approve")
    assert approve is not None, "the card offers an approval"

    # Teams resends a click it thinks was lost: five approvals of the same card at once.
    clicks = _concurrently([lambda: server.click(root, "approve", approve)] * COPIES)
    assert set(clicks) == {200}
    audit = server.store.documents("audit")
    accepted = [a for a in audit if a["action"] == "approval approve" and a["result"] == "accepted"]
    record("redelivery", messages=1, deliveries=len(clicks), effects=len(accepted))
    assert len(accepted) == 1, "one of the five clicks decided"
    # Cleanups in one backup resource group take turns with its lock: every fix runs once and
    # ends, and the lock is back as it was.
    assert eventually(lambda: _finished(server), timeout=60), server.store.documents("runs")
    runs = server.store.documents("runs")
    assert sorted(r["vm"] for r in runs) == sorted(BY_ROUTE.values()), "one run per VM"
    assert {r["state"] for r in runs} == {"succeeded"}, [r["failure"] for r in runs]
    state = server.simulator_state()
    backups = sorted(r["vm"] for r in state["backup_requests"])
    assert backups == sorted(2 * list(BY_ROUTE.values())), "two backups per VM, no more"
    assert state["locks"] == sim_before["locks"], "the lifted lock is back, exactly"
    assert len(server.threads()) == threads_before + 1, "the card was updated, never reposted"


def _finished(server: Server) -> bool:
    runs = server.store.documents("runs")
    return len(runs) == len(BY_ROUTE) and all(r["state"] in TERMINAL for r in runs)


# -- Service Bus: the queue function ---------------------------------------------------------


@pytest.fixture
def functions_on_simulator(tmp_path, monkeypatch):
    from remediation.playbooks import cleanup_restore_points

    monkeypatch.setitem(cleanup_restore_points.CONFLICT_RETRY, "initial_wait", 0.01)
    with ArmSimulator(Estate.demo(behaviour=Behaviour(retry_after=1))) as sim:
        for name, value in simulated_environment(sim).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("BOT_APP_ID", raising=False)
        with registered_functions(tmp_path, monkeypatch) as (functions, composition):
            yield functions, composition.services(), sim


def _bus_message(step: StepMessage) -> ServiceBusMessage:
    return ServiceBusMessage(
        body=step.to_json().encode(), message_id=step.message_id, session_id=step.session_id,
        content_type="application/json", application_properties={}, user_properties={},
    )  # fmt: skip


def test_each_step_message_delivered_five_times_runs_once(functions_on_simulator):
    functions, services, sim = functions_on_simulator
    engine = services.engine
    vm = "erp-app-04"
    for signal in signals_from_payload(demo_rp_limit_alert(vm)):
        engine.ingest(signal)
    [approval] = engine.approvals.pending()
    approver = Approver(DEV_USER["object_id"], DEV_USER["name"], TEST_TENANT)
    assert engine.decide(approval["id"], "approve", approver).accepted
    locks_before = sim.estate.to_state()["locks"]
    step_function = functions["remediation_step"].get_user_function()
    delivered = 0
    while len(engine.queue):
        pending: list[StepMessage] = []
        engine.queue.drain(pending.append)  # what Service Bus holds, taken off the queue
        for step in pending:
            _concurrently([lambda s=step: step_function(msg=_bus_message(s))] * COPIES)
            delivered += 1
    [run] = engine.runs.all()
    assert run["state"] == "succeeded", run["failure"]
    starts = [j for j in run["journal"] if j["phase"] == "start"]
    record("redelivery", messages=delivered, deliveries=delivered * COPIES, effects=len(starts))
    assert len(starts) == delivered, "each distinct message ran its step once"
    state = sim.estate.to_state()
    assert [r["vm"] for r in state["backup_requests"]] == [vm, vm]  # Azure cleans up after one
    assert state["locks"] == locks_before
