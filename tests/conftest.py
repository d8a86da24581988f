"""Hooks for the whole test run."""

from __future__ import annotations

import pytest

from tests.reliability import summary


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One table of what the reliability suites tried and that nothing was lost."""
    summary.report(terminalreporter, config)
