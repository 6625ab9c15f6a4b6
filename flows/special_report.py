"""The special-report flow: 舆情专报 on one event, or on a rule expression over a time window.

Analysts start it from the Prefect UI's run form (typed parameters) or the CLI::

    yuqing report special --event 12
    yuqing report special --expr '化工园区 & (泄漏 | 异味)' --since 2026-11-25 --until 2026-11-28

It writes HTML, Markdown, DOCX and a short text, and, if asked, delivers
them once to the given recipients (unit names) or to the units responsible
for the risk points involved.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.report import build_special, deliver_report, sends_of
from yuqing_core.timeutil import SHANGHAI, utcnow


def _run_name() -> str:
    return "special-report-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")


@flow(name="special-report", flow_run_name=_run_name)
def special_report(
    event_id: int | None = None,
    expression: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    recipients: list[str] | None = None,
    deliver: bool = False,
    out_dir: str | None = None,
) -> State:
    """One event (``event_id``), or the items ``expression`` matches in [since, until)."""
    written = build_special(event_id, expression, since, until, recipients or [], out_dir)
    key = f"special-report:{written.number}"
    sent, failure = (
        sends_of(deliver_report(written, "special_report", key, recipients, return_state=True)) if deliver else ([], None)
    )
    data = {"report": written, "delivery": sent, "failed": failure}
    if failure:  # the files are written; some recipients did not get them
        return Failed(message=failure, data=data)
    return Completed(message=written.title, data=data)
