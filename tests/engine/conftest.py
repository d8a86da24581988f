from __future__ import annotations

import pytest

from remediation.classify import default_classifier
from remediation.engine import Engine
from remediation.notify import RecordingNotifier
from remediation.playbooks import PLAYBOOKS
from remediation.policy import Policy
from remediation.queue.memory import InProcessQueue
from remediation.store import SqliteStore

APPROVER = "11111111-1111-1111-1111-111111111111"
TENANT = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def policy() -> Policy:
    return Policy(approvers=frozenset({APPROVER}), tenant_id=TENANT)


@pytest.fixture
def engine(policy) -> Engine:
    """A full engine on an in-memory store; fixes are queued but not executed here."""
    store = SqliteStore(":memory:")
    return Engine(
        store,
        default_classifier(),
        lambda: policy,
        InProcessQueue(),
        RecordingNotifier(),
        PLAYBOOKS,
        arm_for=lambda run: pytest.fail("no ARM call expected in engine unit tests"),
    )
