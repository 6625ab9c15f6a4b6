"""The notices addressed to units -- 舆情督报 and 网络风险提示函 -- and the units' acknowledgements (回执).

A 督报 is known by the number it was given (``document_numbers``, kind
``supervision``, subject ``event:12|县应急管理局`` or ``item:5|柳湾镇``): its unit
is the subject's last part, its matter the event or item before it. A 提示函
is a ``risk_notices`` record, addressed to its risk point's responsible
units; its number exists once the letter was written. A unit acknowledges a
notice once, with an optional note; the office sees which units have and
which have not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, DocumentNumber, Event, Item, NoticeReceipt, RiskNotice
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.numbers import format_number
from yuqing_core.office import load_office
from yuqing_core.reports.data import supervision_title
from yuqing_core.timeutil import utcnow

NoticeKind = Literal["supervision", "risk_notice"]
NOTICE_KINDS: tuple[NoticeKind, ...] = get_args(NoticeKind)
KIND_LABELS: dict[NoticeKind, str] = {"supervision": "舆情督报", "risk_notice": "网络风险提示函"}
MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class UnitNotice:
    kind: NoticeKind
    id: int
    number: str | None  # 舆情督〔2026〕3号; None for a 提示函 whose letter is not yet written
    title: str
    summary: str
    units: tuple[str, ...]
    issued_at: datetime

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def path(self) -> str:
        """The notice's page: ``/notices/supervision/3``."""
        return f"/notices/{self.kind}/{self.id}"


@dataclass(frozen=True)
class Receipt:
    unit: str
    by: str  # the signing account's display name
    note: str | None
    at: datetime


def list_notices(db: Database, settings: Settings, *, unit: str | None = None) -> list[UnitNotice]:
    """Every notice (or those addressed to ``unit``), newest first."""
    notices = _supervision_notices(db, settings) + _risk_notices(db, settings)
    if unit is not None:
        notices = [notice for notice in notices if unit in notice.units]
    return sorted(notices, key=lambda n: (n.issued_at, n.kind, n.id), reverse=True)


def get_notice(db: Database, settings: Settings, kind: str, notice_id: int) -> UnitNotice | None:
    if kind == "supervision":
        found = _supervision_notices(db, settings, notice_id=notice_id)
    elif kind == "risk_notice":
        found = _risk_notices(db, settings, notice_id=notice_id)
    else:
        return None
    return found[0] if found else None


def receipts_of(db: Database, notices: Iterable[UnitNotice]) -> dict[tuple[str, int], dict[str, Receipt]]:
    """Each notice's receipts by unit (only the units it is addressed to)."""
    wanted = {(notice.kind, notice.id): set(notice.units) for notice in notices}
    found: dict[tuple[str, int], dict[str, Receipt]] = {key: {} for key in wanted}
    if not wanted:
        return found
    with db.reader() as session:
        rows = session.execute(
            select(NoticeReceipt, Account.display_name)
            .join(Account, Account.id == NoticeReceipt.account_id)
            .where(NoticeReceipt.notice_id.in_({notice_id for _kind, notice_id in wanted}))
        ).all()
    for receipt, by in rows:
        key = (receipt.notice_kind, receipt.notice_id)
        if key in wanted and receipt.unit in wanted[key]:
            found[key][receipt.unit] = Receipt(receipt.unit, by, receipt.note, receipt.acknowledged_at)
    return found


def acknowledge(
    db: Database, notice: UnitNotice, *, unit: str, account: Account, note: str | None = None, now: datetime | None = None
) -> bool:
    """Record the unit's 回执 of the notice; False if the unit had already acknowledged it (the first one stands)."""
    if unit not in notice.units:
        raise ValueError(f"{notice.kind_label} {notice.id} is not addressed to {unit}")
    note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    row = {"notice_kind": notice.kind, "notice_id": notice.id, "unit": unit, "account_id": account.id, "note": note,
           "acknowledged_at": now or utcnow()}  # fmt: skip
    with db.writer() as session:
        created = insert_ignore(session, NoticeReceipt.__table__, [row], conflict=("notice_kind", "notice_id", "unit"))
    return bool(created)


def _supervision_notices(db: Database, settings: Settings, *, notice_id: int | None = None) -> list[UnitNotice]:
    query = select(DocumentNumber).where(DocumentNumber.kind == "supervision")
    if notice_id is not None:
        query = query.where(DocumentNumber.id == notice_id)
    with db.reader() as session:
        rows = list(session.scalars(query))
        matters = _matter_titles(session, [row.subject.rpartition("|")[0] for row in rows])
    prefix = load_office(settings).number_prefix("supervision")
    notices = []
    for row in rows:
        matter, _, unit = row.subject.rpartition("|")
        title = matters.get(matter) or "（原信息已不存在）"
        number = format_number(prefix, row.year, row.number)
        summary = f"请{unit}核实“{title}”反映的情况，依法依规处置，并按要求反馈办理结果。"
        notices.append(UnitNotice("supervision", row.id, number, supervision_title(title), summary, (unit,), row.created_at))
    return notices


def _matter_titles(session: Session, matters: list[str]) -> dict[str, str]:
    """``event:12``, ``item:5`` and ``risk_notice:3`` subjects with their event's, item's or 提示函's title."""
    ids: dict[str, set[int]] = {"event": set(), "item": set(), "risk_notice": set()}
    for matter in matters:
        kind, _, number = matter.partition(":")
        if kind in ids and number.isdigit():
            ids[kind].add(int(number))
    titles: dict[str, str] = {}
    if ids["event"]:
        for event_id, title in session.execute(select(Event.id, Event.title).where(Event.id.in_(ids["event"]))):
            titles[f"event:{event_id}"] = title
    if ids["item"]:
        for item_id, title, excerpt in session.execute(select(Item.id, Item.title, Item.excerpt).where(Item.id.in_(ids["item"]))):
            titles[f"item:{item_id}"] = title or excerpt[:40]
    if ids["risk_notice"]:
        rows = session.execute(
            select(RiskNotice.id, RiskNotice.title, RiskNotice.risk_point_name).where(RiskNotice.id.in_(ids["risk_notice"]))
        )
        for notice_id, notice_title, subject in rows:
            titles[f"risk_notice:{notice_id}"] = notice_title or subject
    return titles


def _risk_notices(db: Database, settings: Settings, *, notice_id: int | None = None) -> list[UnitNotice]:
    query = select(RiskNotice)
    if notice_id is not None:
        query = query.where(RiskNotice.id == notice_id)
    with db.reader() as session:
        rows = list(session.scalars(query))
        numbered = {
            subject: (year, number)
            for subject, year, number in session.execute(
                select(DocumentNumber.subject, DocumentNumber.year, DocumentNumber.number).where(
                    DocumentNumber.kind == "risk_notice", DocumentNumber.subject.in_([f"notice:{row.id}" for row in rows])
                )
            )
        }
    prefix = load_office(settings).number_prefix("risk_notice")
    notices = []
    for row in rows:
        year_number = numbered.get(f"notice:{row.id}")
        number = format_number(prefix, *year_number) if year_number else None
        if row.origin == "manual":  # written by hand for a foreseen risk (关口前移)
            summary = (row.body or "") + ("\n" + row.requirements if row.requirements else "")
            title = row.title or f"关于“{row.risk_point_name}”网络舆情风险的提示"
        else:
            summary = (f"{row.day} 与“{row.risk_point_name}”相关的信息 {row.current_count} 条，"
                       f"明显高于此前的日均水平（约 {row.expected:.1f} 条）。请提前研判、及早处置。")  # fmt: skip
            title = f"关于“{row.risk_point_name}”风险信号上升的提示"
        notices.append(UnitNotice("risk_notice", row.id, number, title, summary, tuple(row.units), row.created_at))
    return notices
