"""Editing the risk library as text: validate, compare with the active version, import (the workbench's editor).

The text is checked exactly as ``yuqing risk validate`` checks a file, with
the units table standing in for the units file: a risk point naming a unit
the table lacks is a problem at that unit's line and column. An import stores
only text that validated; ``text_digest`` names the validated text, so a page
can tell whether what it is asked to import is what it checked.

Example::

    checked = check_library_text(db, text)  # ConfigFileError with every problem
    lines = line_diff(active_text, checked.content, "第 3 版", "修改稿")
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass

from yuqing_core.db.database import Database
from yuqing_core.notify import list_units
from yuqing_core.risk.library import LibrarySpec, LoadedLibraryFile, library_rules, load_library_text

EDITED_TEXT_NAME = "风险库"
DIFF_CONTEXT_LINES = 3


def normalise_text(text: str) -> str:
    """The text as stored: a browser's textarea sends CRLF line ends; the library is kept with LF.

    >>> normalise_text("name: 库\\r\\nrisk_points: []\\r\\n")
    'name: 库\\nrisk_points: []\\n'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_digest(text: str) -> str:
    """What names a validated text (SHA-256 of its normalised UTF-8)."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def known_unit_names(db: Database) -> set[str] | None:
    """The units table's names (what a risk point may name); None while the table is empty (nothing to check against)."""
    names = {unit.name for unit in list_units(db)}
    return names or None


def check_library_text(db: Database, text: str) -> LoadedLibraryFile:
    """The library in ``text`` (normalised), validated; ``ConfigFileError`` listing every problem with line and column."""
    content = normalise_text(text)
    spec = load_library_text(content, EDITED_TEXT_NAME, known_units=known_unit_names(db))
    return LoadedLibraryFile(spec=spec, content=content, path=EDITED_TEXT_NAME)


def library_summary(spec: LibrarySpec) -> str:
    """What a valid library holds, in one sentence (as ``yuqing risk validate`` says it)."""
    rules = sum(1 for _ in library_rules(spec))
    return f"有效：{len(spec.risk_points)} 个风险点，{len(spec.exclusions)} 条排除规则，共 {rules} 条规则。"


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add | del | hunk | same | file
    text: str


def line_diff(old: str, new: str, old_name: str, new_name: str) -> list[DiffLine]:
    """A unified line diff of two texts, each line marked by kind (for a page to colour; the text is not markup)."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, n=DIFF_CONTEXT_LINES, lineterm=""):
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = {"+": "add", "-": "del"}.get(line[:1], "same")
        lines.append(DiffLine(kind, line))
    return lines
