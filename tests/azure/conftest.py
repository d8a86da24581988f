from remediation.simulator.testing import arm_clients, arm_simulator, sim  # noqa: F401
