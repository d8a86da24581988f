"""Hooks for the whole test run."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.settings import SDKS
from tests.corpus import report as corpus_report
from tests.french_readings import FailureSentences
from tests.reliability import summary


@pytest.fixture(params=SDKS)
def sdk(request: pytest.FixtureRequest) -> str:
    """Each bot SDK that BOT_SDK can choose: the bot's protocol tests run on all of them."""
    return request.param


@pytest.fixture(autouse=True)
def failures_read_in_french() -> Iterator[None]:
    """A fix that fails says why on its card, in French too (tests/french_readings.py)."""
    handler = FailureSentences()
    runs_log = logging.getLogger("remediation.runs")
    runs_log.addHandler(handler)
    yield
    runs_log.removeHandler(handler)
    untold = handler.untold()
    assert not untold, f"no French reading for these failures of a fix: {untold}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One table of what the reliability suites tried and that nothing was lost, and the
    real-text corpus figures (recall per language, false positives) when the corpus ran."""
    summary.report(terminalreporter, config)
    corpus_report.report(terminalreporter)
