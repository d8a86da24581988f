"""Hooks for the whole test run."""

from __future__ import annotations

import pytest

from bot.settings import SDKS
from tests.corpus import report as corpus_report
from tests.reliability import summary


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    """Each bot SDK that BOT_SDK can choose: the bot's protocol tests run on all of them."""
    return request.param


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One table of what the reliability suites tried and that nothing was lost, and the
    real-text corpus figures (recall per language, false positives) when the corpus ran."""
    summary.report(terminalreporter, config)
    corpus_report.report(terminalreporter)
