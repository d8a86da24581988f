"""Timer trigger: poll migration items and Backup jobs of the configured vaults."""

from __future__ import annotations

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("poller")
@bp.timer_trigger(arg_name="timer", schedule="%POLLER_SCHEDULE%", run_on_startup=False)
def poller(timer: func.TimerRequest) -> None:
    from wiring.services import services

    app = services()
    result = app.poll()
    log.info("poll: %s (past due: %s)", result, timer.past_due)
