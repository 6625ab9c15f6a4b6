"""Hot lists (热榜): ranked lists read by a ``page`` or ``json`` source, and where each entry stood at each poll.

A source becomes a hot list with ``hot_list: true`` in the sources file; its selectors (``page``)
or mapping (``json``) may then name each entry's rank and heat::

    - name: 江华同城热榜
      url: http://hot.example.org/jianghua
      kind: page
      hot_list: true
      page:
        items: "ol.hot-list > li"
        title: "a.title"
        rank: "span.rank"      # optional: without it, the entry's place in the list (1, 2, 3 ...)
        heat: "span.heat"      # optional: "123.4万", "热 98765", "1.2亿", "98,765"

Entries are stored as items of the source like any other, exactly once (the same topic polled
again is the same item); what changes from poll to poll is its place, so each poll of a changed
list also writes one observation per entry (``HotListObservation``: source, item, polled_at,
rank, heat), and drops that source's observations older than ``hot_list_retention_days``.
A poll that finds the list unchanged (304, or the same bytes) writes none: the ranks are those
last observed. ``risk.hotlist`` reads the observations back as sightings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from yuqing_core.db.models import HotListObservation, Item
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.text import clean_whitespace

if TYPE_CHECKING:
    from yuqing_core.collect.normalize import ItemRecord
    from yuqing_core.collect.parse import RawEntry

MAX_HEAT_TEXT_CHARS = 50
MAX_RANK = 100_000
# What a heat unit multiplies by: 万 and its latin shorthand w, 亿, 千 and k.
_HEAT_UNITS = {"千万": 10_000_000, "百万": 1_000_000, "亿": 100_000_000, "万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}
_HEAT = re.compile(r"(\d{1,3}(?:[,，]\d{3})+|\d+)(\.\d+)?\s*(千万|百万|亿|万|千|[wWkK](?![A-Za-z]))?")
_RANK = re.compile(r"\d+")


@dataclass(frozen=True)
class ListPosition:
    """Where an entry stood on a hot list at one poll: its rank (1 = top) and its heat, parsed and as the list wrote it."""

    rank: int | None
    heat: int | None = None
    heat_text: str | None = None


def parse_heat(text: str | None) -> int | None:
    """The heat (热度) a list writes, as a number: the first number in ``text`` times its unit, if any.

    >>> parse_heat("123.4万"), parse_heat("热 98765"), parse_heat("1.2亿"), parse_heat("98,765")
    (1234000, 98765, 120000000, 98765)
    >>> parse_heat("523万热度"), parse_heat("12.3w"), parse_heat("4987123"), parse_heat("爆") is None
    (5230000, 123000, 4987123, True)
    """
    if not text:
        return None
    found = _HEAT.search(text)
    if found is None:
        return None
    whole, fraction, unit = found.groups()
    value = float(re.sub(r"[,，]", "", whole) + (fraction or ""))
    return round(value * (_HEAT_UNITS[unit.lower()] if unit else 1))


def parse_rank(text: str | None) -> int | None:
    """The rank in an entry's rank text ("3", "TOP3", "No.3", "第3名"); None without a number (置顶, 荐).

    >>> parse_rank("TOP 3"), parse_rank("第12名"), parse_rank("置顶") is None
    (3, 12, True)
    """
    found = _RANK.search(text or "")
    if found is None:
        return None
    rank = int(found.group())
    return rank if 1 <= rank <= MAX_RANK else None


def place_entries(entries: Sequence[RawEntry], *, ranks_given: bool) -> None:
    """Give each entry of a hot list its ``position``: its rank text's rank, or its place in the list when
    the list has no rank selector or mapping; its heat parsed from the heat text."""
    for place, entry in enumerate(entries, start=1):
        heat_text = clean_whitespace(entry.heat_raw or "")[:MAX_HEAT_TEXT_CHARS] or None
        rank = parse_rank(entry.rank_raw) if ranks_given else place
        entry.position = ListPosition(rank=rank, heat=parse_heat(heat_text), heat_text=heat_text)


def describe_position(position: ListPosition) -> str:
    """A position as ``yuqing sources test`` shows it: the rank, the heat as written and as read.

    >>> describe_position(ListPosition(3, 1234000, "123.4万")), describe_position(ListPosition(None, 98765, "98765"))
    ('第3名，热度 123.4万（1234000）', '无名次，热度 98765')
    """
    rank = f"第{position.rank}名" if position.rank is not None else "无名次"
    if position.heat_text is None:
        return rank
    parsed = str(position.heat) if position.heat is not None else "无法识别"
    shown = position.heat_text if parsed == position.heat_text else f"{position.heat_text}（{parsed}）"
    return f"{rank}，热度 {shown}"


def record_positions(
    session: Session, source_id: int, records: Sequence[ItemRecord], polled_at: datetime, *, keep: timedelta
) -> int:
    """Write where each stored entry of this poll stood, and drop the source's observations older than ``keep``.

    Runs in the poll's transaction, after its items are stored: an entry that was an item already
    is not stored again, only observed again. Records without a position (every source that is
    not a hot list) cost nothing. Returns how many observations were written; a retried commit
    writes none twice (unique on source, polled_at, item).
    """
    placed = [record for record in records if record.position is not None]
    if not placed:
        return 0
    keys = [record.entry_key for record in placed]
    item_ids = dict(
        session.execute(select(Item.entry_key, Item.id).where(Item.source_id == source_id, Item.entry_key.in_(keys))).all()
    )
    rows = [
        {
            "source_id": source_id,
            "item_id": item_ids[record.entry_key],
            "polled_at": polled_at,
            "rank": record.position.rank,
            "heat": record.position.heat,
            "heat_text": record.position.heat_text,
        }
        for record in placed
        if record.position is not None and record.entry_key in item_ids  # an entry the database refused has no item
    ]
    written = insert_ignore(session, HotListObservation.__table__, rows, conflict=("source_id", "polled_at", "item_id"))
    session.execute(
        delete(HotListObservation).where(
            HotListObservation.source_id == source_id, HotListObservation.polled_at < polled_at - keep
        )
    )
    return len(written)
