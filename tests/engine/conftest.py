from __future__ import annotations

from datetime import UTC, datetime

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


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)  # a Monday

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed_engine(policy, clock) -> Engine:
    """An engine on `clock`; fixes are queued, never run."""
    engine = Engine(
        SqliteStore(":memory:"), default_classifier(), lambda: policy, InProcessQueue(),
        RecordingNotifier(), PLAYBOOKS, arm_for=lambda run: pytest.fail("no ARM call"),
        clock=clock,
    )  # fmt: skip
    engine.runner.start = lambda run_id: None
    return engine


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
