"""Sightings: a county item on a hot list (上榜), and whether it climbed, from the polls of the list.

``collect.hotlist`` records where each entry of a hot list stood at each poll. Here those
observations are read back per list and item over a window: the rank it was first seen at, the
best it reached, the last, and its heat. A climb is the places it rose from its first rank in the
window to its best (``上升12位``); an item first seen at its best did not climb.

The warn stage gives the score a part for the sightings of an event's problem items in the
``HOT_LIST_WINDOW`` before ``now`` (``risk.scoring``); the daily report lists the county's
items seen on a hot list during its day (上榜).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, true

from yuqing_core.db.database import Database
from yuqing_core.db.filters import one_of
from yuqing_core.db.models import Event, EventItem, HotListObservation, Source
from yuqing_core.risk.scoring import CLIMB_MIN_PLACES

# An event's sightings count in its score for a day after the poll that saw them.
HOT_LIST_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Observation:
    """One poll's view of one item on one list (a row of ``hot_list_observations`` with its list's name)."""

    list_name: str
    item_id: int
    polled_at: datetime
    rank: int | None
    heat: int | None = None
    heat_text: str | None = None


@dataclass(frozen=True)
class Sighting:
    """One item on one hot list over a window: where it was first seen, the best it reached, where it was last seen."""

    list_name: str
    item_id: int
    first_seen: datetime
    last_seen: datetime
    polls: int
    first_rank: int | None
    best_rank: int | None
    last_rank: int | None
    heat: int | None  # the highest heat seen, as a number
    heat_text: str | None  # that heat as the list wrote it

    @property
    def climb(self) -> int:
        """Places risen from the first rank in the window to the best (0 if it was first seen at its best)."""
        if self.first_rank is None or self.best_rank is None:
            return 0
        return max(0, self.first_rank - self.best_rank)

    @property
    def climbing(self) -> bool:
        return self.climb >= CLIMB_MIN_PLACES

    def describe(self) -> str:
        """``江华同城热榜第3名（上升12位）``: the list, the best rank and the climb to it.

        >>> from datetime import UTC
        >>> t = datetime(2026, 11, 27, tzinfo=UTC)
        >>> Sighting("江华同城热榜", 1, t, t, 3, 15, 3, 5, 1234000, "123.4万").describe()
        '江华同城热榜第3名（上升12位）'
        >>> Sighting("江华同城热榜", 1, t, t, 1, None, None, None, None, None).describe()
        '江华同城热榜（无名次）'
        """
        if self.best_rank is None:
            return f"{self.list_name}（无名次）"
        climbed = f"（上升{self.climb}位）" if self.climb else ""
        return f"{self.list_name}第{self.best_rank}名{climbed}"


def sightings_of(observations: Iterable[Observation]) -> list[Sighting]:
    """The sightings the observations make, one per list and item, the best-ranked first.

    >>> from datetime import UTC
    >>> t = datetime(2026, 11, 27, tzinfo=UTC)
    >>> seen = [Observation("热榜", 7, t + timedelta(hours=h), r, 1000 * h) for h, r in ((0, 18), (1, 9), (2, 3), (3, 5))]
    >>> (s,) = sightings_of(seen)
    >>> (s.first_rank, s.best_rank, s.last_rank, s.climb, s.climbing, s.heat, s.polls)
    (18, 3, 5, 15, True, 3000, 4)
    """
    grouped: dict[tuple[str, int], list[Observation]] = defaultdict(list)
    for observation in observations:
        grouped[(observation.list_name, observation.item_id)].append(observation)
    found = []
    for (list_name, item_id), seen in grouped.items():
        seen.sort(key=lambda o: o.polled_at)
        ranked = [o.rank for o in seen if o.rank is not None]
        hottest = max((o for o in seen if o.heat is not None), key=lambda o: o.heat or 0, default=None)
        found.append(
            Sighting(
                list_name=list_name, item_id=item_id, first_seen=seen[0].polled_at, last_seen=seen[-1].polled_at,
                polls=len(seen), first_rank=ranked[0] if ranked else None, best_rank=min(ranked) if ranked else None,
                last_rank=ranked[-1] if ranked else None, heat=hottest.heat if hottest else None,
                heat_text=hottest.heat_text if hottest else None,
            )
        )  # fmt: skip
    return sorted(found, key=best_first)


def best_first(sighting: Sighting) -> tuple[int, int, int, str, int]:
    """Sort key: ranked before unranked, the best rank first, then the bigger climb, then the hotter."""
    unranked = sighting.best_rank is None
    return (unranked, sighting.best_rank or 0, -sighting.climb, sighting.list_name, sighting.item_id)


def _observations(db: Database, condition: ColumnElement[bool], since: datetime, until: datetime) -> list[Observation]:
    query = (
        select(
            Source.name, HotListObservation.item_id, HotListObservation.polled_at, HotListObservation.rank,
            HotListObservation.heat, HotListObservation.heat_text,
        )
        .join(Source, Source.id == HotListObservation.source_id)
        .where(condition, HotListObservation.polled_at > since, HotListObservation.polled_at <= until)
    )  # fmt: skip
    with db.reader() as session:
        return [Observation(*row) for row in session.execute(query)]


def item_sightings(db: Database, item_ids: Sequence[int], *, since: datetime, until: datetime) -> dict[int, list[Sighting]]:
    """The sightings of the given items in (since, until], by item, the best-ranked first."""
    if not item_ids:
        return {}
    found: dict[int, list[Sighting]] = defaultdict(list)
    for sighting in sightings_of(_observations(db, one_of(HotListObservation.item_id, item_ids, db.dialect), since, until)):
        found[sighting.item_id].append(sighting)
    return dict(found)


def sightings_between(db: Database, since: datetime, until: datetime) -> list[Sighting]:
    """Every item's sightings in (since, until], the best-ranked first (the daily report picks the county's)."""
    return sightings_of(_observations(db, true(), since, until))


def events_with_hot_list_changes(db: Database, now: datetime) -> list[int]:
    """Events whose hot-list part is out of date: an item was seen on a list after the event was last
    scored, or a sighting the last score counted has since left the window.

    Observations come without new items (the same entry polled again), so the analysis refreshes
    these events itself; refreshing them sets their ``updated_at`` to ``now``, after which they are
    not returned again for the same observations.
    """
    window = HOT_LIST_WINDOW
    query = (
        select(EventItem.event_id, Event.updated_at, HotListObservation.polled_at)
        .join(EventItem, EventItem.item_id == HotListObservation.item_id)
        .join(Event, Event.id == EventItem.event_id)
        .where(
            HotListObservation.polled_at > now - 2 * window,
            HotListObservation.polled_at <= now,
            Event.merged_into_id.is_(None),
        )
    )
    stale: set[int] = set()
    with db.reader() as session:
        rows: list[Any] = list(session.execute(query))
    for event_id, updated_at, polled_at in rows:
        seen_since_scored = polled_at > updated_at and polled_at > now - window
        counted_then_expired = updated_at - window < polled_at <= updated_at and polled_at <= now - window
        if seen_since_scored or counted_then_expired:
            stale.add(event_id)
    return sorted(stale)
