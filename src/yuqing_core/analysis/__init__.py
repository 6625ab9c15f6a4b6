"""The analyze stage: match new items against the risk library, group them into events,
score the events and raise warnings.

``analyze`` runs the whole stage in-process, batch by batch; the Prefect
flow ``flows.analyze`` runs the same three steps as tasks. Every step is
idempotent, so a retried or repeated run leaves the same database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from yuqing_core.analysis.grouping import GroupingSummary, events_of, group_batch
from yuqing_core.analysis.match import MatchSummary, items_to_analyze, match_batch
from yuqing_core.analysis.warn import RaisedWarning, WarnSummary, events_due_for_response, refresh_events
from yuqing_core.db.database import Database
from yuqing_core.risk.hotlist import events_with_hot_list_changes
from yuqing_core.risk.response import WorkdayCalendar
from yuqing_core.risk.versions import active_library
from yuqing_core.timeutil import utcnow

DEFAULT_BATCH = 2000


@dataclass
class AnalysisSummary:
    version: int = 0
    matched: MatchSummary = field(default_factory=MatchSummary)
    grouped: GroupingSummary = field(default_factory=GroupingSummary)
    events_refreshed: int = 0
    warnings: list[RaisedWarning] = field(default_factory=list)
    description: str = ""


def batches(item_ids: Sequence[int], size: int = DEFAULT_BATCH) -> Iterator[list[int]]:
    for start in range(0, len(item_ids), size):
        yield list(item_ids[start : start + size])


def analyze(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
    now: datetime | None = None,
    calendar: WorkdayCalendar | None = None,
) -> AnalysisSummary:
    """Analyse the items never analysed (or those published in [since, until)) with the active library.

    Then refresh the events whose response target passed without an official response
    (``events_due_for_response``), so they are marked overdue even when no new item arrived, and
    those whose items were seen on a hot list since they were scored, or whose sighting has left
    the window (``events_with_hot_list_changes``): a climb brings no new item.
    ``calendar`` is the office's working-day calendar (the cases file's; see ``refresh_events``).
    """
    now = now or until or utcnow()
    library = active_library(db)
    summary = AnalysisSummary(version=library.version.version)
    for batch in batches(items_to_analyze(db, since=since, until=until), batch_size):
        summary.matched.add(match_batch(db, library, batch, now=now))
        grouped = group_batch(db, library, batch, now=now)
        summary.grouped.add(grouped)
        refreshed = refresh_events(db, library, events_of(db, batch), now=now, calendar=calendar)
        summary.events_refreshed += refreshed.events
        summary.warnings += refreshed.warnings
    recheck = sorted(set(events_due_for_response(db, now)) | set(events_with_hot_list_changes(db, now)))
    due = refresh_events(db, library, recheck, now=now, calendar=calendar)
    summary.events_refreshed += due.events
    summary.warnings += due.warnings
    return summary


__all__ = [
    "AnalysisSummary",
    "GroupingSummary",
    "MatchSummary",
    "RaisedWarning",
    "WarnSummary",
    "analyze",
    "batches",
    "events_due_for_response",
    "events_of",
    "group_batch",
    "items_to_analyze",
    "match_batch",
    "refresh_events",
]
