"""Backtesting a proposed risk library against stored items, before anything is applied.

Both the proposed library and the active one judge the same items (those
published in the last N days), in memory; nothing is written. Per risk
point the report shows which items would newly match and which would stop
matching, with examples, so an analyst sees the effect of a change first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from yuqing_core.db.database import Database
from yuqing_core.db.models import Item, Source
from yuqing_core.risk.library import CompiledLibrary, LibrarySpec
from yuqing_core.risk.versions import NoActiveLibrary, active_library
from yuqing_core.rules import MatchText
from yuqing_core.timeutil import utcnow

BATCH = 2000
EXAMPLES = 5


@dataclass
class RiskPointChange:
    name: str
    before: int = 0
    after: int = 0
    newly: list[int] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)


@dataclass
class BacktestReport:
    since: datetime
    until: datetime
    items: int
    active_version: int | None
    points: dict[str, RiskPointChange]
    titles: dict[int, str]

    @property
    def changed(self) -> list[RiskPointChange]:
        return [p for p in self.points.values() if p.newly or p.stopped]

    def lines(self) -> list[str]:
        """The report as an analyst reads it."""
        against = f"当前第 {self.active_version} 版" if self.active_version else "空库（尚未导入）"
        out = [f"回测 {self.items} 条信息（{self.since:%Y-%m-%d} 起），对比{against}："]
        for point in sorted(self.points.values(), key=lambda p: p.name):
            delta = point.after - point.before
            sign = f"+{delta}" if delta > 0 else str(delta)
            out.append(
                f"  {point.name}：{point.before} → {point.after}（{sign}），新命中 {len(point.newly)}，不再命中 {len(point.stopped)}"
            )
            for item_id in point.newly[:EXAMPLES]:
                out.append(f"      + #{item_id} {self.titles.get(item_id, '')}")
            for item_id in point.stopped[:EXAMPLES]:
                out.append(f"      - #{item_id} {self.titles.get(item_id, '')}")
        if not self.changed:
            out.append("  没有任何风险点的命中发生变化。")
        return out


def backtest(db: Database, proposed: LibrarySpec, *, days: int = 14, now: datetime | None = None) -> BacktestReport:
    """Judge the last ``days`` of stored items with ``proposed`` and with the active library."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    new_library = CompiledLibrary(proposed)
    try:
        current = active_library(db)
        old_library: CompiledLibrary | None = current.compiled
        active_version: int | None = current.version.version
    except NoActiveLibrary:
        old_library, active_version = None, None

    before: dict[str, set[int]] = defaultdict(set)
    after: dict[str, set[int]] = defaultdict(set)
    titles: dict[int, str] = {}
    count = 0
    query = (
        select(Item.id, Item.title, Item.text, Source.name)
        .join(Source, Source.id == Item.source_id)
        .where(Item.published_at >= since, Item.published_at < now)
        .order_by(Item.id)
        .execution_options(yield_per=BATCH)
    )
    with db.reader() as session:
        result = session.execute(query)
        for rows in result.partitions(BATCH):
            ids = [row.id for row in rows]
            documents = [MatchText(title=row.title, text=row.text, source=row.name) for row in rows]
            count += len(ids)
            for item_id, verdict in zip(ids, new_library.judge_many(documents), strict=True):
                for name in verdict.risk_points:
                    after[name].add(item_id)
            if old_library is not None:
                for item_id, verdict in zip(ids, old_library.judge_many(documents), strict=True):
                    for name in verdict.risk_points:
                        before[name].add(item_id)
            for row in rows:
                titles[row.id] = row.title or row.text[:40]

    points = {}
    for name in sorted(set(before) | set(after) | {p.name for p in proposed.risk_points}):
        points[name] = RiskPointChange(
            name=name,
            before=len(before[name]),
            after=len(after[name]),
            newly=sorted(after[name] - before[name]),
            stopped=sorted(before[name] - after[name]),
        )
    shown = {i for p in points.values() for i in p.newly[:EXAMPLES] + p.stopped[:EXAMPLES]}
    return BacktestReport(since, now, count, active_version, points, {i: t for i, t in titles.items() if i in shown})
