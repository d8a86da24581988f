"""The ARM write budget at its edges: its documented default (half of ARM's 200 at 10/s), one
bucket per subscription whatever the case of its id, refills measured from the last write only,
waits allowed up to the caller's limit exactly, multi-token writes, and configurations that
could never write refused in words."""

from __future__ import annotations

import pytest

from remediation.azure.throttle import WriteBudget, WriteBudgetExceeded
from tests.azure.test_clients_retry_throttle import FakeClock


def _budget(**kwargs) -> tuple[WriteBudget, FakeClock]:
    clock = FakeClock()
    return WriteBudget(clock=clock, sleep=clock.sleep, **kwargs), clock


def test_the_default_is_half_of_arms_write_budget():
    budget, _ = _budget()
    assert [budget.acquire("sub") for _ in range(100)] == [0.0] * 100
    assert budget.acquire("sub") == pytest.approx(0.2)  # refilled at 5 per second


def test_one_bucket_per_subscription_whatever_the_case_of_its_id():
    budget, _ = _budget(capacity=2, refill_per_second=1)
    budget.acquire("SUB-1")
    budget.acquire("sub-1")
    assert budget.available("Sub-1") == 0
    assert budget.available("sub-2") == 2


def test_tokens_refill_from_the_last_write_up_to_the_capacity():
    budget, clock = _budget(capacity=4, refill_per_second=2)
    clock.now = 1000.0
    for _ in range(4):
        budget.acquire("sub")
    clock.now += 0.5
    assert budget.available("sub") == pytest.approx(1.0)
    clock.now += 60
    assert budget.available("sub") == 4


def test_a_write_costing_several_tokens_takes_them_all():
    budget, _ = _budget(capacity=5, refill_per_second=1)
    assert budget.acquire("sub", cost=3) == 0.0
    assert budget.available("sub") == 2
    assert budget.acquire("sub", cost=3) == pytest.approx(1.0)


def test_a_wait_up_to_the_callers_limit_is_allowed_and_beyond_it_refused():
    budget, _ = _budget(capacity=1, refill_per_second=0.5)
    budget.acquire("sub")
    assert budget.acquire("sub", max_wait=2.0) == pytest.approx(2.0)
    with pytest.raises(WriteBudgetExceeded) as refused:
        budget.acquire("sub", max_wait=1.9)
    assert str(refused.value) == "subscription sub: next write in 2.0s exceeds 1.9s"


@pytest.mark.parametrize(("capacity", "refill"), [(0, 5), (100, 0), (100, -1), (0.5, 1)])
def test_a_budget_that_could_never_write_is_refused(capacity, refill):
    with pytest.raises(ValueError) as refused:
        WriteBudget(capacity, refill)
    assert str(refused.value) == "capacity must be >= 1 and refill_per_second > 0"


def test_the_smallest_budget_that_can_write_is_allowed():
    assert WriteBudget(1, 0.001).available("sub") == 1


def test_a_write_larger_than_the_bucket_is_refused_in_words():
    budget, _ = _budget(capacity=2, refill_per_second=1)
    with pytest.raises(ValueError) as refused:
        budget.acquire("sub", cost=3)
    assert str(refused.value) == "cost 3 exceeds the bucket capacity 2.0"
