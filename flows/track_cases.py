"""The track-cases flow (hourly): chase supervision cases against their working-day deadlines.

Before a deadline it reminds the unit (催办) at the configured offsets; on the
first working day after the deadline it sends an overdue notice (超期) to the
unit and its leadership and emits the Prefect event ``yuqing.case.overdue``;
after a further number of working days it lists the case for public
reprimand (通报) in the daily report. It also recomputes provisional
deadlines once the year's holidays are known. Every notice goes through the
send-once ledger, so running it again (or retrying it) repeats nothing::

    prefect deployment run 'track-cases/hourly'
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.states import Completed, State

from tasks.cases import track
from yuqing_core.timeutil import SHANGHAI, utcnow


def _run_name() -> str:
    return "track-cases-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")


@flow(name="track-cases", flow_run_name=_run_name)
def track_cases(now: datetime | None = None) -> State:
    """Send the reminders, overdue notices and reprimand listings due at ``now`` (default: the present)."""
    summary = track(now)
    return Completed(message=summary.lines()[0], data=summary)
