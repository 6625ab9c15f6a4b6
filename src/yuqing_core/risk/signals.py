"""Signals per risk point over time: how many items each matched, 24 hours at a time.

Both the warning stage (a risk point's spike raises its events' scores) and the risk notice
letters (a rising point gets a 提示函) read these counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import Item, ItemAnalysis, Match

# Spikes compare the last 24 hours with the 14 days before, 24 hours at a time: the same
# granularity, and "now" rather than the calendar day, so a burst late last night still counts this morning.
SPIKE_WINDOW = timedelta(hours=24)
BASELINE_DAYS = 14


def rolling_counts(stamps: Iterable[datetime], *, end: datetime, windows: int, width: timedelta = SPIKE_WINDOW) -> list[int]:
    """Counts in ``windows`` consecutive windows of ``width`` ending at ``end``, oldest first.

    >>> from datetime import timezone
    >>> end = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
    >>> rolling_counts([end - timedelta(hours=1), end - timedelta(hours=30)], end=end, windows=3)
    [0, 1, 1]
    """
    counts = [0] * windows
    start = end - width * windows
    for stamp in stamps:
        if start < stamp <= end:
            index = min(windows - 1, int((stamp - start) / width))
            counts[index] += 1
    return counts


def risk_point_counts(db: Database, names: Iterable[str], *, end: datetime, windows: int) -> dict[str, list[int]]:
    """Distinct items matched per risk point in each 24-hour window ending at ``end`` (latest analyses only)."""
    names = list(names)
    query = (
        select(Match.risk_point_name, Item.id, Item.published_at)
        .join(Item, Item.id == Match.item_id)
        .join(ItemAnalysis, and_(ItemAnalysis.item_id == Match.item_id, ItemAnalysis.version_id == Match.version_id))
        .where(
            Match.kind == "risk",
            Match.risk_point_name.in_(names),
            Item.published_at > end - SPIKE_WINDOW * windows,
            Item.published_at <= end,
        )
        .distinct()
    )
    stamps: dict[str, list[datetime]] = defaultdict(list)
    with db.reader() as session:
        for name, _item_id, published in session.execute(query):
            if name is not None:  # never: the query asks for named points
                stamps[name].append(published)
    return {name: rolling_counts(stamps.get(name, []), end=end, windows=windows) for name in names}
