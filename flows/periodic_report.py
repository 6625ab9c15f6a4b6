"""The periodic-report flow: 舆情周报、月报、季报, the office's review of a week, a month or a quarter.

For the period (default: the last complete one, Asia/Shanghai) it compares what was collected with
the period before, lists the incidents and how each was handled (warning, official response and
its timeliness, cases), counts response timeliness (on time / late / missing), each lead unit's
on-time closure over the period's cases, and the risk points that rose; writes HTML, Markdown,
DOCX and a short text under the reports folder (``weekly/``, ``monthly/``, ``quarterly/``) and
delivers it once to the recipients routed for ``periodic_report`` (or, without such a route, for
``daily_report``). Scheduled weekly on Monday 08:00, monthly on the 1st 08:00, quarterly on the
first day of a quarter 08:00; by hand::

    yuqing report weekly --period 2026-W48
    yuqing report monthly --period 2026-11
    yuqing report quarterly --period 2026-Q4
"""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from tasks.report import build_periodic, deliver_report, sends_of


def _run_name() -> str:
    kind = flow_run.parameters.get("kind", "weekly")
    return f"{kind}-report-" + (flow_run.parameters.get("period") or "last")


@flow(name="periodic-report", flow_run_name=_run_name)
def periodic_report(
    kind: str = "weekly",
    period: str | None = None,
    deliver: bool = True,
    recipients: list[str] | None = None,
    out_dir: str | None = None,
) -> State:
    """Write the ``kind`` report (weekly | monthly | quarterly) of ``period`` (default: the last complete one) and deliver it."""
    written = build_periodic(kind, period, out_dir)
    sent, failure = [], None
    if deliver:
        key = f"{kind}-report:{written.number}"
        sent, failure = sends_of(
            deliver_report(written, "periodic_report", key, recipients, routed_as="daily_report", return_state=True)
        )
    data = {"report": written, "delivery": sent, "failed": failure}
    if failure:  # the files are written; some recipients did not get them
        return Failed(message=failure, data=data)
    return Completed(message=written.summary[:300], data=data)
