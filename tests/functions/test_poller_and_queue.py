"""The timer and Service Bus functions through real request objects, against the simulator."""

from __future__ import annotations

import pytest
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest

from remediation.localhost.serve import simulated_environment
from remediation.simulator import ArmSimulator, Estate
from tests.function_app_fixture import registered_functions


@pytest.fixture
def simulated(tmp_path, monkeypatch):
    with ArmSimulator(Estate.demo()) as sim:
        for name, value in simulated_environment(sim).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("BOT_APP_ID", raising=False)
        with registered_functions(tmp_path, monkeypatch) as (functions, composition):
            yield functions, composition.services(), sim


def test_timer_polls_the_vaults_and_opens_incidents_from_health_errors(simulated):
    functions, services, sim = simulated
    functions["poller"].get_user_function()(timer=TimerRequest(past_due=False))
    incidents = services.engine.incidents.open_incidents()
    assert [(i["entry_id"], i["vms"]) for i in incidents] == [
        ("cbt-fetch-changed-blocks", ["erp-app-01"])  # the demo's broken migration item
    ]
    assert sim.requests.count("asr.items.list") >= 1
    marks = services.engine.store.query("watermarks")
    assert len(marks) == len(sim.estate.vaults)


def test_queue_trigger_runs_one_playbook_step_per_message(simulated):
    functions, services, _ = simulated
    functions["poller"].get_user_function()(timer=TimerRequest(past_due=False))
    (run,) = services.engine.runs.all()
    queue = services.engine.queue
    delivered = []
    queue.drain(delivered.append)  # take the messages the engine sent, as Service Bus would
    assert delivered
    step = delivered[0]
    message = ServiceBusMessage(
        body=step.to_json().encode(), message_id=step.message_id, session_id=step.session_id,
        application_properties={}, user_properties={},
    )  # fmt: skip
    functions["remediation_step"].get_user_function()(msg=message)
    after = services.engine.runs.get(run["id"])
    assert run["playbook"] == "repair-replication"
    assert [(j["step"], j["phase"]) for j in after["journal"]] == [
        ("check-item", "start"),
        ("check-item", "next"),
    ]
    assert after["step"] == 1 and after["state"] == "queued"
    functions["remediation_step"].get_user_function()(msg=message)  # redelivered: no effect
    assert services.engine.runs.get(run["id"])["journal"] == after["journal"]
