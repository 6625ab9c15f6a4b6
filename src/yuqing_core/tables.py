"""Plain-text tables that line up with Chinese text in a terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any


def display_width(text: str) -> int:
    """Terminal columns: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def render_table(rows: Sequence[dict[str, Any]], *, max_column_width: int = 40) -> str:
    """Rows of dicts (same keys) as an aligned table with a header line.

    >>> print(render_table([{"名称": "县政府网", "新增": 3}]))
    名称      新增
    --------  ----
    县政府网  3
    """
    if not rows:
        return ""
    headers = list(rows[0].keys())
    cells = [[clip(str(row.get(h, "")).replace("\n", " "), max_column_width) for h in headers] for row in rows]
    widths = [max(display_width(h), *(display_width(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(c) for c in cells)])
