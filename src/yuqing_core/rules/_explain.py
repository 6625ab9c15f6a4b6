"""Showing why an item matched: the hit spans of one field, marked in its original text."""

from __future__ import annotations

from collections.abc import Iterable

from ._engine import TermHit

__all__ = ["highlight"]


def highlight(original_text: str, hits: Iterable[TermHit], field: str, *, mark: tuple[str, str] = ("【", "】")) -> str:
    """``original_text`` with the spans of ``field``'s hits wrapped in ``mark``; overlapping spans merge.

    >>> highlight("青禾县化工厂泄漏", [TermHit("化工厂", "text", 3, 6), TermHit("工厂泄漏", "text", 4, 8)], "text")
    '青禾县【化工厂泄漏】'
    """
    length = len(original_text)
    spans = sorted((max(0, hit.start), min(length, hit.end)) for hit in hits if hit.field == field and hit.start < hit.end)
    opening, closing = mark
    parts: list[str] = []
    position = 0
    merged_start = merged_end = -1
    for start, end in spans:
        if start >= end:
            continue
        if start < merged_end:  # overlaps the span being built
            merged_end = max(merged_end, end)
            continue
        if merged_end > merged_start:
            parts.extend((original_text[position:merged_start], opening, original_text[merged_start:merged_end], closing))
            position = merged_end
        merged_start, merged_end = start, end
    if merged_end > merged_start:
        parts.extend((original_text[position:merged_start], opening, original_text[merged_start:merged_end], closing))
        position = merged_end
    parts.append(original_text[position:])
    return "".join(parts)
