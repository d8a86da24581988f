from datetime import datetime

import pytest

from devtools.localhost.ncrontab import Schedule, ScheduleError


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */5 * * * *", datetime(2026, 11, 23, 17, 3, 7), datetime(2026, 11, 23, 17, 5, 0)),
        ("0 */5 * * * *", datetime(2026, 11, 23, 17, 5, 0), datetime(2026, 11, 23, 17, 10, 0)),
        ("30 0 9 * * 1-5", datetime(2026, 11, 28, 10, 0), datetime(2026, 11, 30, 9, 0, 30)),
        ("0 0 0 1 1 *", datetime(2026, 6, 1), datetime(2027, 1, 1)),
        ("*/20 * * * * *", datetime(2026, 1, 1, 0, 0, 59), datetime(2026, 1, 1, 0, 1, 0)),
    ],
)
def test_next_fire_time(expression, after, expected):
    assert Schedule.parse(expression).next_after(after) == expected


@pytest.mark.parametrize("bad", ["* * * * *", "61 * * * * *", "a * * * * *", "0 5-1 * * * *"])
def test_bad_expressions_are_refused(bad):
    with pytest.raises(ScheduleError):
        Schedule.parse(bad)
