from tests.simulator_fixtures import arm_clients, arm_simulator, sim  # noqa: F401
