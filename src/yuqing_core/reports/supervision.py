"""Writing a case's 舆情督报 (supervision notice) beside the other reports, as opening a case does.

``yuqing case open`` and the office desk's "open a case from a warning" both
call ``write_case_notice`` once the case is dispatched: the notice goes to
``<reports>/supervision/<case label>/舆情督报-<label>.html|.md|.docx|.txt``.
"""

from __future__ import annotations

from pathlib import Path

from yuqing_core.analysis.queries import get_warning
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case
from yuqing_core.errors import NotFound
from yuqing_core.reports.data import build_supervision_notice
from yuqing_core.reports.render import Renderer


def case_label(number: str) -> str:
    """A case number as a file name: ``督〔2026〕17号`` -> ``督-2026-17``.

    >>> case_label("督〔2026〕17号")
    '督-2026-17'
    """
    return number.replace("〔", "-").replace("〕", "-").rstrip("号")


def write_case_notice(db: Database, settings: Settings, case: Case) -> list[Path]:
    """The notice of a dispatched case opened from a warning, an event or an item; nothing for one opened by hand."""
    if case.origin_kind == "manual" or case.origin_id is None or case.deadline_at is None:
        return []
    event_id = case.origin_id if case.origin_kind == "event" else None
    if case.origin_kind == "warning":
        warning = get_warning(db, case.origin_id)
        if warning is None:
            raise NotFound(f"督办件 {case.number} 已立案，但预警 {case.origin_id} 已不存在，未写督报。")
        event_id = warning.event_id
    document = build_supervision_notice(
        db, settings, unit=case.lead_unit, co_units=case.co_units, requirements=case.requirement,
        deadline=case.deadline_at, event_id=event_id, item_id=case.origin_id if case.origin_kind == "item" else None,
        case_number=case.number,
    )  # fmt: skip
    label = case_label(case.number)
    folder = settings.effective_reports_dir / "supervision" / label
    return list(Renderer(settings.templates_dir, tz=settings.tz).write(document, folder, f"舆情督报-{label}").all)
