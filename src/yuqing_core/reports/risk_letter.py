"""A 网络风险提示函 from written to answered: the letter written, sent to its units, acknowledged, tracked.

One function per step, for the CLI (``yuqing notices ...``), the demo and
tests::

    notice = write_hand_notice(db, subject="城东片区征收补偿兑付", units=[...], body="...", actor="张三")
    issued = send_risk_letter(db, settings, notice.id, config=units_file)   # written and sent, once
    track = track_risk_letter(db, settings, notice.id)                       # 回执 and cases, unit by unit

The letter is sent through the send-once ledger (key ``risk-notice:<id>``,
routing kind ``risk_notice``, default: the units it is addressed to). Units
acknowledge it (回执) on the workbench's notice page (``reports.receipts``).
A case opened from it (``cases.origin_of(risk_notice_id=...)``) keeps the
letter as its origin, its 督报 names the letter's matter and is acknowledged
the same way, so the chain 提示函 → 督办件 → 督报 → 回执 can be followed
from either end (一函四单).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case, Delivery, DocumentNumber
from yuqing_core.errors import NotFound
from yuqing_core.notify import Message, UnitsFile, deliver, resolve_recipients
from yuqing_core.notify.channels import Sender
from yuqing_core.notify.units import CONCERNED_UNITS
from yuqing_core.reports.case_notice import IssuedNotice
from yuqing_core.reports.data import build_risk_notice_letter
from yuqing_core.reports.receipts import Receipt, get_notice, receipts_of
from yuqing_core.reports.render import RenderedFiles, Renderer
from yuqing_core.risk.notices import get_risk_notice

RISK_NOTICE_KIND = "risk_notice"
DEFAULT_RISK_NOTICE_ROUTE = [CONCERNED_UNITS]  # the units the letter is addressed to


def write_risk_letter(db: Database, settings: Settings, notice_id: int) -> tuple[RenderedFiles, str, str]:
    """Write the letter (HTML, Markdown, DOCX, text): its files, short text and number."""
    letter = build_risk_notice_letter(db, settings, notice_id)
    label = letter.number.replace("〔", "-").replace("〕", "-").rstrip("号")
    folder = settings.effective_reports_dir / "risk-notice" / label
    renderer = Renderer(settings.templates_dir, tz=settings.tz)
    return renderer.write(letter, folder, f"网络风险提示函-{label}"), renderer.short_text(letter), letter.number


def send_risk_letter(
    db: Database,
    settings: Settings,
    notice_id: int,
    *,
    config: UnitsFile | None,
    now: datetime | None = None,
    sender: Sender | None = None,
) -> IssuedNotice:
    """Write the letter and send it to its units through their channels, once (``config`` None: written only)."""
    notice = get_risk_notice(db, notice_id)
    files, short_text, number = write_risk_letter(db, settings, notice_id)
    issued = IssuedNotice(files=files.all)
    if config is None:
        issued.note = "未配置单位文件（YUQING_UNITS_FILE），提示函已写出，未发送。"
        return issued
    routes = config if RISK_NOTICE_KIND in config.routing else config.model_copy(
        update={"routing": {**config.routing, RISK_NOTICE_KIND: DEFAULT_RISK_NOTICE_ROUTE}}
    )  # fmt: skip
    subject = notice.title or f"关于“{notice.risk_point_name}”网络舆情风险的提示"
    message = Message(
        kind=RISK_NOTICE_KIND, key=f"risk-notice:{notice_id}", subject=f"【网络风险提示函】{number} {subject}",
        body=short_text, attachments=(files.docx, files.html), reference=number,
    )  # fmt: skip
    recipients = resolve_recipients(db, RISK_NOTICE_KIND, list(notice.units), config=routes)
    issued.report = deliver(db, message, recipients, config=routes, now=now, sender=sender)
    return issued


@dataclass(frozen=True)
class UnitTrack:
    """Where one addressed unit stands with a letter."""

    unit: str
    delivery: str | None  # the ledger's status of its sends: sent | failed | held | ... (None: never sent)
    receipt: Receipt | None


@dataclass(frozen=True)
class CaseTrack:
    """A case opened from the letter, and where its 督报 stands."""

    number: str
    state: str
    lead_unit: str
    supervision_number: str | None  # the 督报's document number, once written
    supervision_receipt: Receipt | None  # the lead unit's 回执 of that 督报


@dataclass
class LetterTrack:
    """A letter's chain: its units (sent? acknowledged?) and the cases opened from it."""

    notice_id: int
    number: str | None
    title: str
    units: list[UnitTrack] = field(default_factory=list)
    cases: list[CaseTrack] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return sum(1 for unit in self.units if unit.receipt is not None)


def _delivery_status(statuses: list[str]) -> str | None:
    """One word for a unit's sends over its channels: sent if any went out, else the most telling other status."""
    for status in ("sent", "digested", "uncertain", "pending", "held", "failed"):
        if status in statuses:
            return status
    return None


def track_risk_letter(db: Database, settings: Settings, notice_id: int) -> LetterTrack:
    """Who got the letter, who acknowledged it, which cases it opened and whether their 督报 were acknowledged."""
    notice = get_notice(db, settings, "risk_notice", notice_id)
    if notice is None:
        raise NotFound(f"没有编号为 {notice_id} 的风险提示函")
    receipts = receipts_of(db, [notice])[("risk_notice", notice_id)]
    with db.reader() as session:
        sends = session.execute(
            select(Delivery.recipient, Delivery.status).where(Delivery.key.like(f"risk-notice:{notice_id}|%"))
        ).all()
        cases = list(
            session.scalars(select(Case).where(Case.origin_kind == "risk_notice", Case.origin_id == notice_id).order_by(Case.id))
        )
        numbers = {
            row.subject: row.id
            for row in session.scalars(
                select(DocumentNumber).where(
                    DocumentNumber.kind == "supervision",
                    DocumentNumber.subject.in_([f"risk_notice:{notice_id}|{case.lead_unit}" for case in cases]),
                )
            )
        }
    by_unit: dict[str, list[str]] = {}
    for recipient, status in sends:
        by_unit.setdefault(recipient, []).append(status)
    track = LetterTrack(notice_id, notice.number, notice.title)
    track.units = [UnitTrack(unit, _delivery_status(by_unit.get(unit, [])), receipts.get(unit)) for unit in notice.units]
    for case in cases:
        document_id = numbers.get(f"risk_notice:{notice_id}|{case.lead_unit}")
        supervision = get_notice(db, settings, "supervision", document_id) if document_id is not None else None
        receipt = receipts_of(db, [supervision])[("supervision", supervision.id)].get(case.lead_unit) if supervision else None
        track.cases.append(
            CaseTrack(case.number, case.state, case.lead_unit, supervision.number if supervision else None, receipt)
        )
    return track


__all__ = [
    "RISK_NOTICE_KIND",
    "CaseTrack",
    "LetterTrack",
    "UnitTrack",
    "send_risk_letter",
    "track_risk_letter",
    "write_risk_letter",
]
