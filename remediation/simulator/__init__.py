"""A local ARM simulator that the real azure-mgmt clients talk to over HTTPS on 127.0.0.1."""

from remediation.simulator.estate import Behaviour, Estate
from remediation.simulator.faults import Fault, FaultRule, Faults
from remediation.simulator.server import ArmSimulator

__all__ = ["ArmSimulator", "Behaviour", "Estate", "Fault", "FaultRule", "Faults"]
