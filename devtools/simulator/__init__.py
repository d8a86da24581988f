"""A local ARM simulator that the real azure-mgmt clients talk to over HTTPS on 127.0.0.1."""

from devtools.simulator.estate import Behaviour, Estate
from devtools.simulator.faults import Fault, FaultRule, Faults
from devtools.simulator.server import ArmSimulator

__all__ = ["ArmSimulator", "Behaviour", "Estate", "Fault", "FaultRule", "Faults"]
