"""The registered Functions of function_app.py on a fresh store, for handler tests."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.functions.servicebus import ServiceBusMessage

from remediation.queue.base import Message


@contextmanager
def registered_functions(tmp_path, monkeypatch) -> Iterator[tuple[dict[str, Any], Any]]:
    """({function name: Function}, the composition module) with services built afresh."""
    monkeypatch.setenv("STORE_KIND", "sqlite")
    monkeypatch.setenv("STORE_SQLITE_PATH", str(tmp_path / "store.db"))
    monkeypatch.setenv("POLICY_FILE", str(tmp_path / "absent.yaml"))
    from wiring import services as composition

    composition.services.cache_clear()
    import function_app

    function_app.app.functions_bindings = None  # the library allows one listing per app
    try:
        yield {f.get_function_name(): f for f in function_app.app.get_functions()}, composition
    finally:
        composition.services.cache_clear()


def call(function: Any, **bindings: Any) -> Any:
    """Run a registered function as the Python worker does: a coroutine on an event loop."""
    result = function.get_user_function()(**bindings)
    return asyncio.run(result) if inspect.iscoroutine(result) else result


def bus_message(message: Message) -> ServiceBusMessage:
    """What the Service Bus trigger receives for a message the engine sent."""
    return ServiceBusMessage(
        body=message.to_json().encode(), message_id=message.message_id,
        session_id=message.session, content_type="application/json",
        application_properties={}, user_properties={},
    )  # fmt: skip


def run_queue(functions: dict[str, Any], services: Any) -> int:
    """Deliver everything the engine queued (webhook signals, the steps they start) to the
    Service Bus function, as Azure would, until the in-process queue is empty; returns the count.
    """
    trigger = functions["remediation_step"].get_user_function()
    return services.engine.queue.drain(lambda message: trigger(msg=bus_message(message)))
