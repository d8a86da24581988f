"""Run by test_no_dev_modules.py in a fresh interpreter, as the deployed package runs: every
dev-only module (argv[1], a JSON list of top-level names) refuses to import; function_app is
imported and each function invoked once (requests from argv[2], a JSON file). Prints one JSON
object: each function's answer, the dev-only imports attempted and any dev-only module loaded.
Imports nothing of tests/ itself: it stands for the deployed package.
"""

import asyncio
import datetime as dt
import importlib.abc
import inspect
import json
import sys

BLOCKED = frozenset(json.loads(sys.argv[1]))
attempts: list[str] = []


class RefuseDevModules(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"{name} is dev-only: not in requirements.txt", name=name)
        return None


sys.meta_path.insert(0, RefuseDevModules())

import azure.functions as func  # noqa: E402
from azure.functions.servicebus import ServiceBusMessage  # noqa: E402
from azure.functions.timer import TimerRequest  # noqa: E402

import function_app  # noqa: E402


def call(function, **bindings):
    result = function.get_user_function()(**bindings)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def post(route: str, body: dict, params: dict) -> func.HttpRequest:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return func.HttpRequest("POST", f"https://app/api/{route}", headers=headers, params=params,
                            body=data)  # fmt: skip


def main() -> None:
    with open(sys.argv[2], encoding="utf-8") as file:
        given = json.load(file)
    functions = {f.get_function_name(): f for f in function_app.app.get_functions()}
    answers = {}
    answers["alerts"] = call(
        functions["alerts"], req=post("alerts", given["alert"], given["alert_params"])
    ).status_code
    answers["eventgrid_webhook"] = call(
        functions["eventgrid_webhook"],
        req=post("eventgrid", given["handshake"], given["alert_params"]),
    ).status_code
    event = func.EventGridEvent(
        id="e-1", data=given["alert"], topic="/t", subject="s", event_type="Alert",
        event_time=dt.datetime.now(dt.UTC), data_version="1",
    )  # fmt: skip
    answers["eventgrid_trigger"] = call(functions["eventgrid_trigger"], event=event)
    answers["poller"] = call(functions["poller"], timer=TimerRequest(past_due=False))
    with open(given["messages_file"], encoding="utf-8") as queued:
        first = json.loads(queued.readline())
    message = ServiceBusMessage(
        body=first["body"].encode(), message_id=first["message_id"],
        session_id=first["session_id"], application_properties={}, user_properties={},
    )  # fmt: skip
    answers["remediation_step"] = call(functions["remediation_step"], msg=message)
    answers["messages"] = call(
        functions["messages"], req=post("messages", given["activity"], {})
    ).status_code
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    print(json.dumps({"answers": answers, "attempts": attempts, "loaded": loaded}))


main()
