"""Matching a batch of items against the active risk library, and storing why they matched.

Each item also gets its stance (``risk.stance``: complaint, rumour, official response, 辟谣 …) from
its title, text and its source's role, stored with the reason on its analysis record.

A reply that grouping placed in its post's event because of the thread (``analysis.grouping``:
relevant with its post, whatever its words) stays relevant when the batch is matched again, unless
a rule now excludes it.

Idempotent: matches are keyed by (item, rule) and inserted with ON CONFLICT
DO NOTHING; the per-item analysis record is overwritten with the same
values. Matching the same batch twice leaves the same rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from yuqing_core.collect.sources import SOURCE_ROLES
from yuqing_core.db.database import Database
from yuqing_core.db.filters import one_of
from yuqing_core.db.models import EventItem, Item, ItemAnalysis, Match, Source
from yuqing_core.db.upsert import insert_ignore, upsert
from yuqing_core.events import count_words
from yuqing_core.items import published_within
from yuqing_core.risk.stance import classify_stance
from yuqing_core.risk.versions import ActiveLibrary
from yuqing_core.rules import MatchText
from yuqing_core.timeutil import utcnow
from yuqing_core.yamlfile import ConfigFileError, Problem


@dataclass
class MatchSummary:
    items: int = 0
    relevant: int = 0
    excluded: int = 0
    matches_new: int = 0
    risk_points: Counter[str] = field(default_factory=Counter)
    stances: Counter[str] = field(default_factory=Counter)

    def add(self, other: MatchSummary) -> None:
        self.items += other.items
        self.relevant += other.relevant
        self.excluded += other.excluded
        self.matches_new += other.matches_new
        self.risk_points.update(other.risk_points)
        self.stances.update(other.stances)


# (item id or line number, what the rules read, the source's role for the stance classifier). The rules read
# an item's full text (the article page's, ``collect.fulltext``) once it has one, else the feed's text.
Document = tuple[int, MatchText, str | None]


def load_documents(db: Database, item_ids: Sequence[int]) -> list[Document]:
    """(item id, MatchText, source role) for the given items, in the order given."""
    with db.reader() as session:
        rows = session.execute(
            select(Item.id, Item.title, Item.text, Item.full_text, Source.name, Source.role)
            .join(Source, Source.id == Item.source_id)
            .where(one_of(Item.id, item_ids, db.dialect))
        ).all()
    by_id = {row.id: (MatchText(title=row.title, text=row.full_text or row.text, source=row.name), row.role) for row in rows}
    return [(item_id, *by_id[item_id]) for item_id in item_ids if item_id in by_id]


def iter_match_texts(db: Database, *, since: datetime, until: datetime, limit: int | None = None) -> Iterator[Document]:
    """(item id, MatchText, source role) for the items published in ``[since, until)``, oldest first, at most ``limit``."""
    query = (
        select(Item.id, Item.title, Item.text, Item.full_text, Source.name, Source.role)
        .join(Source, Source.id == Item.source_id)
        .where(Item.published_at >= since, Item.published_at < until)
        .order_by(Item.published_at, Item.id)
    )
    if limit:
        query = query.limit(limit)
    with db.reader() as session:
        for row in session.execute(query.execution_options(yield_per=1000)):
            yield row.id, MatchText(title=row.title, text=row.full_text or row.text, source=row.name), row.role


def read_match_texts(path: Path) -> list[Document]:
    """(line number, MatchText, source role) from a JSON Lines file of ``title``, ``text`` (or ``summary``),
    ``source`` and optionally ``source_role`` (official | media | public).

    Every bad line is named (``ConfigFileError`` with file, line and field), and nothing is returned
    unless all lines are good.
    """
    problems, texts = [], []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(str(path), number, exc.colno, "", f"JSON 格式错误：{exc.msg}"))
                continue
            if not isinstance(obj, dict):
                problems.append(Problem(str(path), number, None, "", "每行应为一个 JSON 对象"))
                continue
            fields = {}
            for name in ("title", "text", "summary", "source"):
                value = obj.get(name)
                if value is not None and not isinstance(value, str):
                    problems.append(Problem(str(path), number, None, name, "应为文本"))
                fields[name] = value if isinstance(value, str) else ""
            role = obj.get("source_role")
            if role is not None and role not in SOURCE_ROLES:
                problems.append(Problem(str(path), number, None, "source_role", f"应为 {' | '.join(SOURCE_ROLES)} 之一"))
                role = None
            texts.append(
                (
                    number,
                    MatchText(title=fields["title"], text=fields["text"] or fields["summary"], source=fields["source"]),
                    role,
                )
            )
    if problems:
        raise ConfigFileError(problems)
    return texts


def hot_word_text(title: str | None, text: str | None) -> str:
    """The text of an item that its event's hot words are drawn from."""
    return f"{title or ''} {text or ''}"


def match_batch(db: Database, library: ActiveLibrary, item_ids: Sequence[int], *, now: datetime | None = None) -> MatchSummary:
    """Judge every item of the batch with the library and store the verdicts and matches."""
    now = now or utcnow()
    documents = load_documents(db, item_ids)
    verdicts = library.compiled.judge_many([doc for _, doc, _ in documents])
    summary = MatchSummary(items=len(documents))
    threaded = _grouped_replies(db, [item_id for item_id, _, _ in documents])
    joins = {
        item_id
        for (item_id, _, _), verdict in zip(documents, verdicts, strict=True)
        if not verdict.excluded and (verdict.relevant or item_id in threaded)
    }
    # Word counts for the hot words of the events these items will join (only relevant items join events).
    grouped = [doc for (item_id, doc, _) in documents if item_id in joins]
    counts = iter(count_words([hot_word_text(doc.title, doc.text) for doc in grouped], library.compiled.ruleset.terms))
    analysis_rows, match_rows = [], []
    for (item_id, doc, role), verdict in zip(documents, verdicts, strict=True):
        stance = classify_stance(doc.title, doc.text, role)
        summary.stances[stance.stance] += 1
        summary.relevant += verdict.relevant or item_id in joins
        summary.excluded += verdict.excluded
        summary.risk_points.update(verdict.risk_points)
        analysis_rows.append(
            {
                "item_id": item_id,
                "version_id": library.version_id,
                "relevant": verdict.relevant or item_id in joins,
                "excluded": verdict.excluded,
                "analyzed_at": now,
                "word_counts": next(counts) if item_id in joins else None,
                "stance": stance.stance,
                "stance_reason": stance.reason,
            }
        )
        for rule_id, match in verdict.matches:
            meta = library.compiled.meta[rule_id]
            match_rows.append(
                {
                    "item_id": item_id,
                    "rule_id": rule_id,
                    "version_id": library.version_id,
                    "kind": meta.kind,
                    "risk_point_name": meta.label if meta.kind == "risk" else None,
                    "hits": [{"term": h.term, "field": h.field, "start": h.start, "end": h.end} for h in match.hits],
                    "created_at": now,
                }
            )
    with db.writer() as session:
        upsert(
            session,
            ItemAnalysis.__table__,
            analysis_rows,
            conflict=("item_id",),
            update=("version_id", "relevant", "excluded", "analyzed_at", "word_counts", "stance", "stance_reason"),
        )
        summary.matches_new = len(insert_ignore(session, Match.__table__, match_rows, conflict=("item_id", "rule_id")))
    return summary


def _grouped_replies(db: Database, item_ids: Sequence[int]) -> set[int]:
    """The items among ``item_ids`` that answer a post and are already in an event."""
    with db.reader() as session:
        return set(
            session.scalars(
                select(Item.id)
                .join(EventItem, EventItem.item_id == Item.id)
                .where(one_of(Item.id, item_ids, db.dialect), Item.in_reply_to.is_not(None))
            )
        )


def items_to_analyze(db: Database, *, since: datetime | None = None, until: datetime | None = None) -> list[int]:
    """Item ids to analyse, oldest first: those published in ``[since, until)`` if a window is
    given (re-analysis), else those never analysed."""
    query = select(Item.id).order_by(Item.published_at, Item.id)
    if since is None and until is None:
        query = query.outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id).where(ItemAnalysis.item_id.is_(None))
    query = published_within(query, since, until)
    with db.reader() as session:
        return list(session.scalars(query))
