"""resolution.confirmed reads Azure for the resource a resolved signal names: a migration item
healthy again confirms it, one still unhealthy does not, and a signal naming nothing Azure can
read confirms nothing."""

from __future__ import annotations

import dataclasses

import pytest

from devtools.replay import estate_for
from devtools.simulator import ArmSimulator
from remediation.audit import AuditLog
from remediation.azure.operations import Arm
from remediation.resolution import confirmed
from remediation.store import SqliteStore
from tests.engine.signals import changed_blocks_error
from tests.simulator_fixtures import clients_for


@pytest.fixture
def item_world():
    signal = changed_blocks_error("erp-db-01")
    with ArmSimulator(estate_for([signal])) as simulator:
        clients = clients_for(simulator)
        yield Arm(clients, AuditLog(SqliteStore(":memory:")), "engine"), simulator, signal
        clients.close()


def _resolved(signal):
    return dataclasses.replace(signal, resolved=True)


def test_an_item_healthy_again_confirms_the_resolution(item_world):
    arm, simulator, signal = item_world
    for item in simulator.estate.migration_items.values():
        item.health, item.health_errors = "Normal", []
    assert confirmed(lambda: arm, _resolved(signal)) == (
        True, "replication of erp-db-01 is healthy again",
    )  # fmt: skip


def test_an_item_still_unhealthy_does_not(item_world):
    arm, _, signal = item_world
    assert confirmed(lambda: arm, _resolved(signal)) == (
        False, "replication of erp-db-01 is still Critical",
    )  # fmt: skip


def test_a_signal_naming_no_resource_confirms_nothing(item_world):
    arm, _, signal = item_world
    nameless = dataclasses.replace(_resolved(signal), resource_id=None)
    assert confirmed(lambda: arm, nameless) == (
        False, "the signal names no resource Azure could confirm it on",
    )  # fmt: skip
