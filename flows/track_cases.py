"""The track-cases flow (hourly): chase supervision cases against their working-day deadlines.

Before a deadline it reminds the unit (催办) at the configured offsets; on the
first working day after the deadline it sends an overdue notice (超期) to the
unit and its leadership and emits the Prefect event ``yuqing.case.overdue``;
after a further number of working days it lists the case for public
reprimand (通报) in the daily report. It also recomputes provisional
deadlines once the year's holidays are known. Every notice goes through the
send-once ledger, so running it again (or retrying it) repeats nothing; a
notice that fails to send ends the run Failed (送达失败 N 条…) after every
other notice was tried, and goes again on the next run::

    prefect deployment run 'track-cases/hourly'
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.cases import track
from yuqing_core.notify import DeliveryFailed
from yuqing_core.timeutil import SHANGHAI, utcnow


def _run_name() -> str:
    return "track-cases-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")


@flow(name="track-cases", flow_run_name=_run_name)
def track_cases(now: datetime | None = None) -> State:
    """Send the reminders, overdue notices and reprimand listings due at ``now`` (default: the present)."""
    state = track(now, return_state=True)
    if state.is_failed():
        error = state.result(raise_on_failure=False)
        if isinstance(error, DeliveryFailed):  # everything was tried; the failed sends go again next hour
            return Failed(message=error.summary, data=error.lines)
        return state
    summary = state.result()
    return Completed(message=summary.lines()[0], data=summary)
