"""The reports folder as the office reads it back: written reports, newest first, and one file by its name.

Reports are written under ``Settings.effective_reports_dir`` as
``<kind>/<label>/<name>.html|.md|.docx|.txt`` (``tasks/report.py``,
``yuqing report …``). Only the HTML and DOCX files are offered; a name is
resolved inside the folder and nowhere else (no ``..``, no absolute path,
no link that leads out of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

OFFERED_SUFFIXES = (".html", ".docx")
# The folders the writers use, in the words of the office.
KIND_LABELS = {
    "daily": "舆情日报",
    "special": "舆情专报",
    "weekly": "舆情周报",
    "monthly": "舆情月报",
    "quarterly": "舆情季报",
    "supervision": "舆情督报",
    "risk-notice": "网络风险提示函",
    "notices": "通知",
}


@dataclass(frozen=True)
class ArchivedReport:
    """One written report: its folder's kind, its name, and the offered files by suffix (names relative to the root)."""

    kind: str
    name: str
    written_at: datetime
    files: dict[str, str]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def archived_reports(root: Path) -> list[ArchivedReport]:
    """Every report under ``root`` with an HTML or DOCX file, the most recently written first."""
    if not root.is_dir():
        return []
    found: dict[tuple[Path, str], dict[str, Path]] = {}
    for path in root.rglob("*"):
        if path.suffix.lower() in OFFERED_SUFFIXES and report_file(root, path.relative_to(root).as_posix()) is not None:
            found.setdefault((path.parent, path.stem), {})[path.suffix.lower().lstrip(".")] = path
    reports = []
    for (folder, stem), files in found.items():
        relative = folder.relative_to(root).parts
        written = max(datetime.fromtimestamp(p.stat().st_mtime, UTC) for p in files.values())
        reports.append(ArchivedReport(relative[0] if relative else "", stem, written,
                                      {suffix: p.relative_to(root).as_posix() for suffix, p in sorted(files.items())}))  # fmt: skip
    return sorted(reports, key=lambda r: (r.written_at, r.name), reverse=True)


def event_label(event_id: int) -> str:
    """The folder (under ``special/``) and file label of an event's special report: ``event-12``."""
    return f"event-{event_id}"


def event_special_reports(root: Path, event_id: int) -> list[ArchivedReport]:
    """The special report written for one event (``special/event-<id>/``), as the archive lists it."""
    folder = f"special/{event_label(event_id)}/"
    return [report for report in archived_reports(root) if all(name.startswith(folder) for name in report.files.values())]


def report_file(root: Path, name: str) -> Path | None:
    """The HTML or DOCX file ``name`` (relative to ``root``) if it is a regular file inside ``root``, else None.

    >>> report_file(Path("/srv/reports"), "../yuqing.db") is None
    True
    """
    if not name or "\x00" in name or Path(name).is_absolute() or Path(name).suffix.lower() not in OFFERED_SUFFIXES:
        return None
    base = root.resolve()
    try:
        resolved = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(base) or not resolved.is_file() or resolved.suffix.lower() not in OFFERED_SUFFIXES:
        return None
    return resolved
