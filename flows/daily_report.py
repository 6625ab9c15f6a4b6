"""The daily-report flow: 舆情日报, the office's morning report to the county's leaders.

For one local day (default: yesterday, Asia/Shanghai, 00:00–24:00) it counts
what was collected by source and category, lists positive coverage and
sensitive items, the day's events by heat with their warning levels, new
warnings, supervision cases, source coverage (so "no items" is never read as
"no risk"), hot words and a 14-day trend; writes it as HTML, Markdown, DOCX
and a short text under the reports folder; and delivers it once to the
recipients routed for ``daily_report``. Scheduled at 08:00 Asia/Shanghai;
by hand::

    yuqing report daily --day 2026-11-27
"""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from tasks.report import build_daily, deliver_report, sends_of
from yuqing_core.config import get_settings
from yuqing_core.reports.data import yesterday


def _run_name() -> str:
    day = flow_run.parameters.get("day") or yesterday(get_settings())
    return f"daily-report-{day}"


@flow(name="daily-report", flow_run_name=_run_name)
def daily_report(
    day: date | None = None, deliver: bool = True, recipients: list[str] | None = None, out_dir: str | None = None
) -> State:
    """Write the daily report of ``day`` (default: yesterday) and deliver it to its recipients."""
    day = day or yesterday(get_settings())
    written = build_daily(day, out_dir)
    sent, failure = [], None
    if deliver:
        sent, failure = sends_of(deliver_report(written, "daily_report", f"daily-report:{day.isoformat()}", recipients,
                                                return_state=True))  # fmt: skip
    data = {"report": written, "delivery": sent, "failed": failure}
    if failure:  # the files are written; some recipients did not get them
        return Failed(message=failure, data=data)
    return Completed(message=written.summary[:300], data=data)
