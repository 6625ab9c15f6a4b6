"""What every format of a report shares: how dates, levels and items read, and how text is made safe.

The Jinja2 templates (HTML, Markdown, text) and the DOCX writer both format through ``Formats``
and the escaping helpers here, so a date or a hostile title reads the same in all four files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from datetime import datetime as DateTime  # in Formats, where ``datetime`` names a method
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

from yuqing_core.levels import Level
from yuqing_core.reports.model import (
    DailyReport,
    HourCount,
    ItemRef,
    PeriodicReport,
    Report,
    RiskNoticeLetter,
    SpecialReport,
    SupervisionNotice,
)
from yuqing_core.timeutil import SHANGHAI, to_local

MAX_URL_CHARS = 2000
HEADLINE_CHARS = 100  # a feed title longer than this is cut in lists (the link still leads to the whole)
WEEKDAYS = "一二三四五六日"
CN_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class DocumentKind:
    template: str  # file stem of its templates: daily.html.j2 ...
    name: str  # what the document is called: 舆情日报 ...


KINDS: dict[type, DocumentKind] = {
    DailyReport: DocumentKind("daily", "舆情日报"),
    SpecialReport: DocumentKind("special", "舆情专报"),
    SupervisionNotice: DocumentKind("supervision", "舆情督报"),
    RiskNoticeLetter: DocumentKind("risk_notice", "网络风险提示函"),
}


def kind_of(doc: Report) -> DocumentKind:
    if isinstance(doc, PeriodicReport):  # one layout, named for its period: 舆情周报, 舆情月报, 舆情季报
        return DocumentKind("periodic", doc.name)
    try:
        return KINDS[type(doc)]
    except KeyError:
        raise TypeError(f"not a report document: {type(doc).__name__}") from None


# --- text hygiene and escaping -------------------------------------------------------

# Control characters (no place in a document, and XML cannot carry them) and bidirectional
# overrides, which would let a title visually reorder the text printed after it.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")
_MD_ALWAYS = re.compile(r"([\\`*_\[\]()|~])")
_MD_LINE_START = re.compile(r"^([#+\-=]|\d{1,9}(?=[.)](?:\s|$)))")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def display_text(value: Any) -> str:
    """Text as a document may show it: invisible and reordering characters removed."""
    return _INVISIBLE.sub("", str(value))


def one_line(value: Any) -> str:
    """Display text on one line: every run of whitespace (line breaks included) becomes one space."""
    return _WHITESPACE.sub(" ", display_text(value)).strip()


def markdown_escape(value: Any) -> str:
    """One line of text that Markdown shows literally.

    Backslash escapes for the characters that start links, emphasis, code,
    strike-through and table cells; entities for ``<``, ``>`` and anything
    that looks like an entity, so no HTML passes; and the value is escaped
    as if it stood at the start of a line (headings, list markers).

    >>> markdown_escape("[点我](javascript:alert(1)) **粗体** <b>")
    '\\\\[点我\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\) \\\\*\\\\*粗体\\\\*\\\\* &lt;b&gt;'
    """
    text = _ENTITY_LIKE.sub("&amp;", one_line(value))
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ALWAYS.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: "\\" + m.group(1) if not m.group(1).isdigit() else m.group(1) + "\\", text)


def safe_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host and nothing hidden in it, else None.

    >>> safe_url("https://example.cn/a?b=1"), safe_url("javascript:alert(1)"), safe_url(" java\\tscript:x")
    ('https://example.cn/a?b=1', None, None)
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_CHARS:
        return None
    if _INVISIBLE.search(value) or any(char.isspace() for char in value):
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return value


def markdown_url(value: Any) -> Markup:
    """An http(s) URL as a Markdown link destination: characters that could end or break it are percent-encoded."""
    url = safe_url(value)
    return Markup(quote(url, safe="/:?#@!$&+,;=%-._~")) if url else Markup("")


def _finalize_html(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return display_text(value)
    return value


def _finalize_markdown(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return value
    return Markup(markdown_escape(value))


def _finalize_text(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return value
    return Markup(one_line(value))


def _html_escape(value: Any) -> str:
    return escape(display_text(value))


# Per format: what every printed value goes through (finalize), and how filters that join or
# replace text escape it.
ESCAPING_BY_FORMAT: dict[str, tuple[Callable[[Any], Any], Callable[[Any], str]]] = {
    "html": (_finalize_html, _html_escape),
    "md": (_finalize_markdown, markdown_escape),
    "txt": (_finalize_text, one_line),
}


# --- formatting shared by templates and the DOCX writer ---------------------------------


class Formats:
    """How dates, levels and items read in every format, in one display time zone."""

    def __init__(self, tz: tzinfo = SHANGHAI) -> None:
        self.tz = tz

    def local(self, value: DateTime) -> DateTime:
        return to_local(value, self.tz)

    def datetime(self, value: DateTime | None) -> str:
        """2026-11-28 09:30"""
        return "" if value is None else f"{self.local(value):%Y-%m-%d %H:%M}"

    def short_datetime(self, value: DateTime | None) -> str:
        """11-28 09:30"""
        return "" if value is None else f"{self.local(value):%m-%d %H:%M}"

    def month_day(self, value: date | DateTime) -> str:
        """11-28"""
        day = self.local(value).date() if isinstance(value, datetime) else value
        return f"{day:%m-%d}"

    def time(self, value: DateTime | None) -> str:
        return "" if value is None else f"{self.local(value):%H:%M}"

    def cn_date(self, value: date | DateTime | None) -> str:
        """2026年11月28日"""
        if value is None:
            return ""
        day = self.local(value).date() if isinstance(value, datetime) else value
        return f"{day.year}年{day.month}月{day.day}日"

    def weekday(self, value: date | DateTime) -> str:
        day = self.local(value).date() if isinstance(value, datetime) else value
        return "星期" + WEEKDAYS[day.weekday()]

    def cn_datetime(self, value: DateTime | None) -> str:
        """2026年12月1日（星期二）17:00"""
        if value is None:
            return ""
        return f"{self.cn_date(value)}（{self.weekday(value)}）{self.local(value):%H:%M}"

    def time_span(self, start: DateTime, end: DateTime) -> str:
        """06:42—23:10 within one day, else 11-27 22:00—11-28 06:10."""
        a, b = self.local(start), self.local(end)
        if a.date() == b.date():
            return f"{a:%H:%M}—{b:%H:%M}"
        return f"{a:%m-%d %H:%M}—{b:%m-%d %H:%M}"

    def hour_labels(self, hours: Sequence[HourCount]) -> list[str]:
        """9时, 10时 ...; with the day (28日0时) at the start and at midnights when the hours span days."""
        local = [self.local(h.hour) for h in hours]
        several_days = bool(local) and local[0].date() != local[-1].date()
        return [
            f"{t.day}日{t.hour}时" if several_days and (i == 0 or t.hour == 0) else f"{t.hour}时" for i, t in enumerate(local)
        ]

    def span(self, start: DateTime, end: DateTime) -> str:
        """The shortest clear way to write a period: one day, or from one moment to another."""
        a, b = self.local(start), self.local(end)
        if b.time() == a.time() == b.time().min and (b - a).days == 1:
            return self.cn_date(a)
        if a.date() == b.date():
            return f"{self.cn_date(a)} {a:%H:%M}—{b:%H:%M}"
        return f"{self.cn_date(a)} {a:%H:%M} 至 {self.cn_date(b)} {b:%H:%M}"

    @staticmethod
    def headline(item: ItemRef, limit: int = HEADLINE_CHARS) -> str:
        """The title, or the start of the text for untitled posts, on one line and at most ``limit`` characters."""
        text = one_line(item.title) or one_line(item.excerpt)
        if not item.title and len(text) > 60:
            text = text[:60] + "…"
        if not text:
            return "（无标题）"
        return text if len(text) <= limit else text[: limit - 1] + "…"

    @staticmethod
    def clip(value: Any, limit: int) -> str:
        text = one_line(value)
        return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"

    @staticmethod
    def percent(share: float) -> str:
        return f"{share * 100:.1f}%"

    @staticmethod
    def number(value: float, digits: int = 1) -> str:
        return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else str(round(value))

    @staticmethod
    def level_numeral(level: int | None) -> str:
        return Level(level).name if level in tuple(Level) else ""

    @staticmethod
    def level_text(level: int | None) -> str:
        """IV级（一般）; 未达预警级别 when there is no level."""
        return Level.label_of(level, "未达预警级别")

    @staticmethod
    def cn_ordinal(index: int) -> str:
        """一 .. 十, then digits (section numbers)."""
        return CN_NUMERALS[index - 1] if 1 <= index <= len(CN_NUMERALS) else str(index)

    @staticmethod
    def paragraphs(value: Any) -> list[str]:
        """Non-empty lines of a multi-line text, each on one line."""
        return [line for line in (one_line(part) for part in display_text(value).splitlines()) if line]

    @staticmethod
    def ratio(current: float, expected: float) -> str:
        """How current compares with expected, in words: 约为平时的 3.2 倍."""
        if expected <= 0:
            return "平时几乎没有" if current else "与平时持平"
        times = current / expected
        return f"约为平时的 {times:.1f} 倍"
