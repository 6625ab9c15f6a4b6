"""The 舆情督报 that goes with a case opened from a warning, an event or an item: built, numbered and written.

Used by ``yuqing case open`` and by the demo, so both write the same document
to the same place (``<reports_dir>/supervision/<the case's number>``).
"""

from __future__ import annotations

from pathlib import Path

from yuqing_core.analysis.queries import get_warning
from yuqing_core.cases.service import Origin
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case
from yuqing_core.errors import NotFound
from yuqing_core.reports.data import build_supervision_notice
from yuqing_core.reports.render import Renderer


def write_case_notice(db: Database, settings: Settings, case: Case, origin: Origin) -> list[Path]:
    """Write the case's 督报 (HTML, Markdown, DOCX, text); nothing for a case opened by hand or not yet dispatched."""
    if origin.kind == "manual" or case.deadline_at is None:
        return []
    event_id = origin.id if origin.kind == "event" else None
    if origin.kind == "warning":
        warning = get_warning(db, origin.id) if origin.id is not None else None
        if warning is None:
            raise NotFound(f"督办件 {case.number} 已立案，但预警 {origin.id} 已不存在，未写督报。")
        event_id = warning.event_id
    document = build_supervision_notice(
        db, settings, unit=case.lead_unit, co_units=case.co_units, requirements=case.requirement, deadline=case.deadline_at,
        event_id=event_id, item_id=origin.id if origin.kind == "item" else None, case_number=case.number,
    )  # fmt: skip
    label = case.number.replace("〔", "-").replace("〕", "-").rstrip("号")
    folder = settings.effective_reports_dir / "supervision" / label
    return list(Renderer(settings.templates_dir, tz=settings.tz).write(document, folder, f"舆情督报-{label}").all)
