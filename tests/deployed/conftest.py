"""Stand-ins for what azd deploys, reached the way the deployed app reaches Azure: identity-
based Table storage (Azurite over HTTPS, OAuth on), an identity-based Service Bus namespace
(the AMQP stand-in), the managed identity's token endpoint and ARM (the simulator)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from devtools.servicebus import ServiceBusStandIn, StandInUnavailable, start_servicebus
from devtools.simulator import ArmSimulator, Estate
from tests.store.azurite import AzuriteUnavailable, start_azurite_oauth


@dataclass
class StandIns:
    sim: ArmSimulator
    tables_endpoint: str
    servicebus: ServiceBusStandIn
    ca_bundle: str  # trusts the simulator, Azurite and the Service Bus stand-in


@pytest.fixture(scope="package")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIns]:
    tmp = tmp_path_factory.mktemp("deployed")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    stops = []
    try:
        with ArmSimulator(Estate.demo()) as sim:
            bundle = tmp / "ca-bundle.pem"
            bundle.write_bytes(Path(sim.ca_path).read_bytes() + ca.cert_pem.bytes())
            endpoint, stop = start_azurite_oauth(tmp / "azurite", cert, key)
            stops.append(stop)
            servicebus = start_servicebus(tmp / "servicebus", cert, key)
            stops.append(servicebus.stop)
            yield StandIns(sim, endpoint + "/", servicebus, str(bundle))
    except (AzuriteUnavailable, StandInUnavailable) as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        for stop in reversed(stops):
            stop()
