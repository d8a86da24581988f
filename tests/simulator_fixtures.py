"""pytest fixtures for code that talks to the simulator; import them into a conftest.py:

    from tests.simulator_fixtures import arm_clients, arm_simulator, sim  # noqa: F401

One simulator serves the whole session; `sim` resets it before each test. Clients use the
real msal credential against the simulator's token endpoint, no polling delay, no backoff.
"""

from __future__ import annotations

from collections.abc import Iterator

# ArmClients imports each SDK package on first use, seconds each. Imported here, they load once,
# when pytest collects the suites that talk to the simulator: mutmut's fork server collects before
# it forks one process per mutant, so each mutant's tests start with them loaded (a few seconds
# less per mutant).
import azure.mgmt.compute
import azure.mgmt.network
import azure.mgmt.privatedns
import azure.mgmt.recoveryservicesbackup
import azure.mgmt.recoveryservicessiterecovery
import azure.mgmt.resource.locks
import azure.mgmt.resource.resources  # noqa: F401
import pytest

from devtools.simulator.estate import Estate
from devtools.simulator.identity import TEST_CLIENT, TEST_TENANT
from devtools.simulator.server import ArmSimulator
from remediation.azure.clients import ArmClients, RetrySettings
from remediation.azure.credential import MsalCredential, client_credential


def sp_credential(simulator: ArmSimulator) -> MsalCredential:
    return client_credential(
        TEST_TENANT,
        TEST_CLIENT,
        secret="not-a-real-secret",
        authority_host=simulator.base_url,
        ca_bundle=simulator.ca_path,
    )


def clients_for(simulator: ArmSimulator, **overrides) -> ArmClients:
    options = {
        "base_url": simulator.base_url,
        "connection_verify": simulator.ca_path,
        "polling_interval": 0,
        "retry": RetrySettings.fast(),
        **overrides,
    }
    credential = options.pop("credential", None) or sp_credential(simulator)
    return ArmClients(credential, simulator.estate.subscription_id, **options)


@pytest.fixture(scope="session")
def arm_simulator() -> Iterator[ArmSimulator]:
    with ArmSimulator(Estate.demo()) as simulator:
        yield simulator


@pytest.fixture
def sim(arm_simulator: ArmSimulator) -> ArmSimulator:
    arm_simulator.reset()
    return arm_simulator


@pytest.fixture
def arm_clients(sim: ArmSimulator) -> Iterator[ArmClients]:
    clients = clients_for(sim)
    yield clients
    clients.close()
