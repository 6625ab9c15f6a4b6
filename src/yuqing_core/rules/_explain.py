"""Showing why an item matched: the hit spans of one field, marked in its original text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._engine import TermHit

__all__ = ["highlight", "marked_segments", "snippet", "snippet_segments"]

Segment = tuple[str, bool]  # a run of the original text, and whether a hit covers it


def marked_segments(original_text: str, hits: Iterable[TermHit], field: str) -> list[Segment]:
    """``original_text`` cut into runs, each marked or not by ``field``'s hits; overlapping spans merge.

    The web marks the runs with ``<mark>`` (escaping the text), the CLI with 【】.

    >>> marked_segments("青禾县化工厂泄漏了", [TermHit("化工厂", "text", 3, 6), TermHit("工厂泄漏", "text", 4, 8)], "text")
    [('青禾县', False), ('化工厂泄漏', True), ('了', False)]
    """
    length = len(original_text)
    spans = sorted((max(0, hit.start), min(length, hit.end)) for hit in hits if hit.field == field and hit.start < hit.end)
    segments: list[Segment] = []
    position = 0
    merged_start = merged_end = -1
    for start, end in spans:
        if start >= end:
            continue
        if start < merged_end:  # overlaps the span being built
            merged_end = max(merged_end, end)
            continue
        if merged_end > merged_start:
            segments.extend(((original_text[position:merged_start], False), (original_text[merged_start:merged_end], True)))
            position = merged_end
        merged_start, merged_end = start, end
    if merged_end > merged_start:
        segments.extend(((original_text[position:merged_start], False), (original_text[merged_start:merged_end], True)))
        position = merged_end
    segments.append((original_text[position:], False))
    return [(text, marked) for text, marked in segments if text]


def highlight(original_text: str, hits: Iterable[TermHit], field: str, *, mark: tuple[str, str] = ("【", "】")) -> str:
    """``original_text`` with the spans of ``field``'s hits wrapped in ``mark``; overlapping spans merge.

    >>> highlight("青禾县化工厂泄漏", [TermHit("化工厂", "text", 3, 6), TermHit("工厂泄漏", "text", 4, 8)], "text")
    '青禾县【化工厂泄漏】'
    """
    opening, closing = mark
    return "".join(
        f"{opening}{text}{closing}" if marked else text for text, marked in marked_segments(original_text, hits, field)
    )


def snippet_segments(text: str, hits: Sequence[TermHit], field: str, width: int = 40) -> list[Segment]:
    """The part of ``text`` around ``field``'s hits (``width`` characters either side), cut into marked runs;
    ``…`` where it is cut, line breaks as spaces. Without hits: the text's beginning.

    >>> snippet_segments("一二三四五六七八九十", [TermHit("五", "text", 4, 5)], "text", width=2)
    [('…', False), ('三四', False), ('五', True), ('六七', False), ('…', False)]
    """
    spans = [h for h in hits if h.field == field]
    if not spans:
        return [(text[: width * 2] + ("…" if len(text) > width * 2 else ""), False)] if text else []
    start = max(0, min(h.start for h in spans) - width)
    end = min(len(text), max(h.end for h in spans) + width)
    shifted = [TermHit(h.term, h.field, h.start - start, h.end - start) for h in spans if h.start >= start and h.end <= end]
    segments = [(part.replace("\n", " "), marked) for part, marked in marked_segments(text[start:end], shifted, field)]
    return [("…", False)] * bool(start) + segments + [("…", False)] * (end < len(text))


def snippet(text: str, hits: Sequence[TermHit], field: str, width: int = 40) -> str:
    """The part of ``text`` around its hits, with the hits marked 【】 (``yuqing rules test``, ``yuqing events show``)."""
    return "".join(f"【{part}】" if marked else part for part, marked in snippet_segments(text, hits, field, width))
