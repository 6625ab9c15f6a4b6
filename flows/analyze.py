"""The analyze flow: match new items against the risk library, group them into events,
score the events and raise graded warnings.

Run after each collect (the ``monitor`` deployment does), or by hand::

    yuqing analyze                                   # items not analysed yet
    yuqing analyze --since 2026-11-20 --until 2026-11-27   # re-analyse a window (e.g. after a library change)

Each batch of items goes through match, full text, group and warn tasks, named
``match-N``, ``fulltext-N``, ``group-N``, ``warn-N``: ``fulltext-N`` fetches the
article pages of the batch's relevant items (bounded per run, politely), keeps
evidence snapshots and runs the rules again on the full text; ``recheck-pages``
fetches kept pages again to notice deletions (原文已删除). The run is idempotent: retried or
repeated, it leaves the same database. Every new warning is announced as
the Prefect event ``yuqing.warning.raised`` (level and event id in its
payload) for automations, and told once to the units its level routes to.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.analyze import analyze_stage
from tasks.report import notify_warnings, sends_of
from yuqing_core.timeutil import SHANGHAI, utcnow

DEFAULT_BATCH = 2000


def _run_name() -> str:
    return "analyze-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")


@flow(name="analyze", flow_run_name=_run_name)
def analyze(since: datetime | None = None, until: datetime | None = None, batch_size: int = DEFAULT_BATCH) -> State:
    """Analyse the items not yet analysed, or those published in [since, until)."""
    summary = analyze_stage(since, until, batch_size)
    _sent, failure = sends_of(notify_warnings(summary.warnings, return_state=True))
    if failure:  # the analysis stands; some warning notices did not get through
        return Failed(message=f"{summary.description} {failure}", data=summary)
    return Completed(message=summary.description, data=summary)
