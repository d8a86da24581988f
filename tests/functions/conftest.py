"""The Function app's registered functions on the demo estate of the ARM simulator."""

from __future__ import annotations

import pytest

from devtools.localhost.serve import simulated_environment
from devtools.simulator import ArmSimulator, Estate
from tests.function_app_fixture import registered_functions


@pytest.fixture
def simulated(tmp_path, monkeypatch):
    """(functions by name, the services they run on, the simulator)."""
    with ArmSimulator(Estate.demo()) as sim:
        for name, value in simulated_environment(sim).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("BOT_APP_ID", raising=False)
        with registered_functions(tmp_path, monkeypatch) as (functions, composition):
            yield functions, composition.services(), sim
