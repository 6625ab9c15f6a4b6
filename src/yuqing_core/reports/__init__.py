"""The report stage: the four documents leaders and units read.

``reports.data`` builds them from the database (``reports.model``);
``reports.render`` writes them as HTML, Markdown, DOCX and a short text,
from templates a user folder may override (``YUQING_TEMPLATES_DIR``).
"""

from yuqing_core.reports.data import (
    build_daily_report,
    build_risk_notice_letter,
    build_special_report,
    build_supervision_notice,
    yesterday,
)
from yuqing_core.reports.model import DailyReport, RiskNoticeLetter, SpecialReport, SupervisionNotice
from yuqing_core.reports.render import RenderedFiles, Renderer, short_text, suggested_handling

__all__ = [
    "DailyReport",
    "RenderedFiles",
    "Renderer",
    "RiskNoticeLetter",
    "SpecialReport",
    "SupervisionNotice",
    "build_daily_report",
    "build_risk_notice_letter",
    "build_special_report",
    "build_supervision_notice",
    "short_text",
    "suggested_handling",
    "yesterday",
]
