"""The 舆情督报 that goes with a case: built, numbered, written, and sent when the case is dispatched.

Used by ``yuqing case open``, ``yuqing case dispatch``, the workbench, the
case-action flow and the demo, so all write the same document to the same
place (``<reports_dir>/supervision/<the case's number>``) and send it the
same way::

    issued = issue_case_notice(db, settings, case, config=units_file)
    for line in issued.lines():
        print(line)

Sending goes through the send-once ledger (``notify``): the message key
names the case (``supervision:督〔2026〕3号``), so dispatching from the CLI,
retrying the flow or opening the page again never sends it twice. It goes
to the case's lead and co-units (routing kind ``supervision_notice``,
default ``[risk_point_units]``: for a case, its lead and co-units), each
through its own channels, with the DOCX and HTML attached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from yuqing_core.analysis.queries import get_warning
from yuqing_core.cases.service import Origin
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case
from yuqing_core.errors import NotFound
from yuqing_core.notify import DeliveryReport, Message, UnitsFile, deliver, import_units, load_units_file, resolve_recipients
from yuqing_core.notify.channels import Sender
from yuqing_core.notify.units import CONCERNED_UNITS
from yuqing_core.reports.data import build_supervision_notice
from yuqing_core.reports.render import RenderedFiles, Renderer

SUPERVISION_KIND = "supervision_notice"
DEFAULT_SUPERVISION_ROUTE = [CONCERNED_UNITS]  # the case's lead and co-units


@dataclass
class IssuedNotice:
    """What issuing a case's 督报 did: the files written and the sends tried (empty when nothing was due)."""

    files: list[Path] = field(default_factory=list)
    report: DeliveryReport = field(default_factory=DeliveryReport)
    note: str | None = None  # why nothing was sent, if nothing was

    def lines(self) -> list[str]:
        out = [str(path) for path in self.files]
        if self.note:
            out.append(self.note)
        return out + self.report.lines()


def origin_of_case(case: Case) -> Origin:
    """A stored case's origin, as ``write_case_notice`` needs it."""
    return Origin(case.origin_kind, case.origin_id, case.title, ())


def units_config(db: Database, settings: Settings) -> UnitsFile | None:
    """The configured units file, its units imported first (as the flows do); None if none is configured."""
    if settings.units_file is None:
        return None
    spec = load_units_file(settings.units_file)
    import_units(db, spec)
    return spec


def _label(number: str) -> str:
    return number.replace("〔", "-").replace("〕", "-").rstrip("号")


def render_case_notice(db: Database, settings: Settings, case: Case, origin: Origin) -> tuple[RenderedFiles, str] | None:
    """Write the case's 督报 (HTML, Markdown, DOCX, text) and its short text; None for a case opened by hand
    or not yet dispatched."""
    if origin.kind == "manual" or case.deadline_at is None:
        return None
    event_id = origin.id if origin.kind == "event" else None
    if origin.kind == "warning":
        warning = get_warning(db, origin.id) if origin.id is not None else None
        if warning is None:
            raise NotFound(f"督办件 {case.number} 已立案，但预警 {origin.id} 已不存在，未写督报。")
        event_id = warning.event_id
    limit = case.time_limit or {}
    document = build_supervision_notice(
        db, settings, unit=case.lead_unit, co_units=case.co_units, requirements=case.requirement, deadline=case.deadline_at,
        event_id=event_id, item_id=origin.id if origin.kind == "item" else None,
        risk_notice_id=origin.id if origin.kind == "risk_notice" else None, case_number=case.number, matter=case.title,
        work_days=limit.get("days") if limit.get("kind") == "working_days" else None,
    )  # fmt: skip
    label = _label(case.number)
    folder = settings.effective_reports_dir / "supervision" / label
    renderer = Renderer(settings.templates_dir, tz=settings.tz)
    return renderer.write(document, folder, f"舆情督报-{label}"), renderer.short_text(document)


def write_case_notice(db: Database, settings: Settings, case: Case, origin: Origin) -> list[Path]:
    """Write the case's 督报 (HTML, Markdown, DOCX, text); nothing for a case opened by hand or not yet dispatched."""
    written = render_case_notice(db, settings, case, origin)
    return written[0].all if written else []


def send_case_notice(
    db: Database,
    case: Case,
    files: RenderedFiles,
    short_text: str,
    *,
    config: UnitsFile,
    now: datetime | None = None,
    sender: Sender | None = None,
) -> DeliveryReport:
    """Send the 督报 to the case's lead and co-units through their channels, once per case."""
    routes = config if SUPERVISION_KIND in config.routing else config.model_copy(
        update={"routing": {**config.routing, SUPERVISION_KIND: DEFAULT_SUPERVISION_ROUTE}}
    )  # fmt: skip
    message = Message(
        kind=SUPERVISION_KIND, key=f"supervision:{case.number}", subject=f"【舆情督报】{case.number} {case.title}",
        body=short_text, attachments=(files.docx, files.html), reference=case.number,
    )  # fmt: skip
    recipients = resolve_recipients(db, SUPERVISION_KIND, [case.lead_unit, *case.co_units], config=routes)
    return deliver(db, message, recipients, config=routes, now=now, sender=sender)


def issue_case_notice(
    db: Database,
    settings: Settings,
    case: Case,
    origin: Origin | None = None,
    *,
    config: UnitsFile | None,
    now: datetime | None = None,
    sender: Sender | None = None,
) -> IssuedNotice:
    """Write the dispatched case's 督报 and send it to its units (``config`` None: written, not sent, and said so)."""
    issued = IssuedNotice()
    written = render_case_notice(db, settings, case, origin or origin_of_case(case))
    if written is None:
        issued.note = f"{case.number} 未派单或为手工立案，未写督报。"
        return issued
    files, short_text = written
    issued.files = files.all
    if config is None:
        issued.note = "未配置单位文件（YUQING_UNITS_FILE），督报已写出，未发送。"
        return issued
    issued.report = send_case_notice(db, case, files, short_text, config=config, now=now, sender=sender)
    return issued


__all__ = [
    "SUPERVISION_KIND",
    "IssuedNotice",
    "issue_case_notice",
    "origin_of_case",
    "render_case_notice",
    "send_case_notice",
    "units_config",
    "write_case_notice",
]
