"""Leads units report to the centre (报送), stored as items of the source 单位报送.

A unit member gives a link, a text, or both, and optionally a screenshot
or a document. The lead becomes an item the way a feed entry does
(``normalize_entries`` then ``insert_items``), so the next analyze run
matches, groups and scores it like any other item, and a second report of
the same link finds the item the first made. The link is kept as given
(http or https only) and never fetched here. The reporting unit and account
are kept in ``unit_leads``, nothing else about the person; the file is
checked like a case attachment and kept under ``<attachments_dir>/leads``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing_core.cases.attachments import CheckedFile, write_whole
from yuqing_core.collect.normalize import normalize_entries
from yuqing_core.collect.parse import RawEntry
from yuqing_core.collect.store import insert_items
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, Event, EventItem, Item, ItemAnalysis, Source, UnitLead
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.errors import InvalidInput
from yuqing_core.text import clean_whitespace, truncate
from yuqing_core.timeutil import utcnow

LEAD_SOURCE = "单位报送"
MAX_LEAD_TEXT_CHARS = 5000
MAX_LEAD_URL_CHARS = 2000
LEAD_TITLE_CHARS = 60
QUEUE_LIMIT = 200


class LeadRefused(InvalidInput):
    """The lead cannot be taken as given; the message says what to change."""


@dataclass(frozen=True)
class LeadRow:
    lead: UnitLead
    reporter: str  # the reporting account's display name
    title: str
    event_id: int | None  # the event the item joined, once analysed
    event_title: str | None
    analysed: bool


def checked_lead_url(url: str) -> str | None:
    """The link as given if it is an http(s) address with a host; None for an empty field.

    >>> checked_lead_url(" https://tieba.example/p/1 "), checked_lead_url("")
    ('https://tieba.example/p/1', None)
    >>> checked_lead_url("javascript:alert(1)")
    Traceback (most recent call last):
    ...
    yuqing_core.collect.leads.LeadRefused: 链接须以 http:// 或 https:// 开头。
    """
    url = url.strip()
    if not url:
        return None
    if len(url) > MAX_LEAD_URL_CHARS:
        raise LeadRefused(f"链接过长（超过 {MAX_LEAD_URL_CHARS} 个字符）。")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise LeadRefused("链接格式不对。") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise LeadRefused("链接须以 http:// 或 https:// 开头。")
    if not parts.hostname or any(ch.isspace() for ch in url):
        raise LeadRefused("链接格式不对。")
    return url


def report_lead(
    db: Database,
    settings: Settings,
    *,
    account: Account,
    text: str,
    url: str = "",
    file: CheckedFile | None = None,
    now: datetime | None = None,
) -> UnitLead:
    """Store the unit's lead as an item of 单位报送 (created on first use) and record who reported it."""
    if account.role != "unit" or not account.unit:
        raise LeadRefused("只有单位账号可以报送。")
    link = checked_lead_url(url)
    text = text.strip()
    if not text and link is None:
        raise LeadRefused("请填写链接或情况说明（至少一项）。")
    if len(text) > MAX_LEAD_TEXT_CHARS:
        raise LeadRefused(f"情况说明不能超过 {MAX_LEAD_TEXT_CHARS} 字。")
    now = now or utcnow()
    first_line = clean_whitespace(text.splitlines()[0]) if text else ""
    entry = RawEntry(link=link, title=truncate(first_line, LEAD_TITLE_CHARS) or (link or ""), title_is_html=False,
                     body=text, body_is_html=False, author=account.unit)  # fmt: skip
    records = normalize_entries([entry], base_url=None, source_tz=settings.tz, fetched_at=now,
                                max_text_chars=settings.fetch_max_field_chars)  # fmt: skip
    lead = UnitLead(unit=account.unit, account_id=account.id, url=link, text=text, reported_at=now)
    path = None
    if file is not None:
        lead.stored_name = uuid.uuid4().hex
        lead.filename, lead.content_type, lead.size_bytes = file.filename, file.content_type, len(file.content)
        lead.sha256 = hashlib.sha256(file.content).hexdigest()
        path = settings.effective_attachments_dir / "leads" / lead.stored_name
        write_whole(path, file.content)
    try:
        with db.writer() as session:
            source_id = _lead_source(session, settings, now)
            new_ids = insert_items(session, source_id, records, now)
            lead.item_id = new_ids[0] if new_ids else _existing_item(session, source_id, records[0].entry_key)
            session.add(lead)
            session.flush()
            session.expunge(lead)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    return lead


def lead_file_path(settings: Settings, lead: UnitLead) -> Path | None:
    if not lead.stored_name:
        return None
    return settings.effective_attachments_dir / "leads" / lead.stored_name


def get_lead(db: Database, lead_id: int) -> UnitLead | None:
    with db.reader() as session:
        return session.get(UnitLead, lead_id)


def list_leads(db: Database, *, unit: str | None = None, limit: int = QUEUE_LIMIT) -> list[LeadRow]:
    """The leads (or one unit's), newest first, with the reporter's display name and the item's event once analysed."""
    query = (
        select(UnitLead, Account.display_name, Item.title, Event.id, Event.title, ItemAnalysis.item_id.is_not(None))
        .join(Account, Account.id == UnitLead.account_id)
        .join(Item, Item.id == UnitLead.item_id)
        .outerjoin(EventItem, EventItem.item_id == UnitLead.item_id)
        .outerjoin(Event, Event.id == EventItem.event_id)
        .outerjoin(ItemAnalysis, ItemAnalysis.item_id == UnitLead.item_id)
        .order_by(UnitLead.reported_at.desc(), UnitLead.id.desc())
        .limit(limit)
    )
    if unit is not None:
        query = query.where(UnitLead.unit == unit)
    with db.reader() as session:
        return [LeadRow(*row) for row in session.execute(query)]


def _lead_source(session: Session, settings: Settings, now: datetime) -> int:
    """The id of the source 单位报送: no feed address, never polled, outside the feeds' coverage (kind archive)."""
    row = {"name": LEAD_SOURCE, "url": None, "kind": "archive", "category": "单位报送", "weight": 1.0,
           "poll_interval_s": 86400, "timezone": settings.timezone, "role": "public", "role_inferred": False,
           "enabled": True, "consecutive_errors": 0, "redirect_count": 0, "created_at": now, "updated_at": now}  # fmt: skip
    insert_ignore(session, Source.__table__, [row], conflict=("name",))
    found = session.scalar(select(Source.id).where(Source.name == LEAD_SOURCE))
    assert found is not None
    return found


def _existing_item(session: Session, source_id: int, entry_key: str) -> int:
    found = session.scalar(select(Item.id).where(Item.source_id == source_id, Item.entry_key == entry_key))
    assert found is not None
    return found
