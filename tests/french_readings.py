"""Every sentence a real playbook ends a failed fix with must read in French on a French card.

The runs log each failed fix with its sentence (remediation.runs); a handler on that log
collects the sentences a test makes, and the test fails when one has no French reading in
bot.wording (the card would fall back to a generic "the fix failed at step X").
"""

from __future__ import annotations

import logging

FAILED_RUN = "run %s (%s for %s) failed: %s"


class FailureSentences(logging.Handler):
    """The failure sentences of the real playbooks' runs, as the runs log them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.sentences: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        from remediation.playbooks import PLAYBOOKS

        if record.msg == FAILED_RUN and record.args and record.args[1] in PLAYBOOKS:
            self.sentences.append(str(record.args[3]))

    def untold(self) -> list[str]:
        from bot.wording import in_language

        return [s for s in dict.fromkeys(self.sentences) if not in_language(s, "fr")]
