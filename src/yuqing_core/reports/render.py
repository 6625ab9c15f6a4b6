"""The four documents as HTML, Markdown, DOCX and a short text.

Example::

    renderer = Renderer(settings_templates_dir)      # or Renderer() for the package's templates
    renderer.write(report, Path("var/reports"), "daily-2026-11-28")   # .html .md .docx .txt, each atomically
    renderer.short_text(report)                      # <= 200 (daily) or 500 characters, for SMS or IM

Templates are Jinja2 files looked up first in the user's folder (if one is
given) and then in the package's ``reports/templates/``, so a user can
replace one file (say ``daily.html.j2``) and keep the rest. Each kind of
document has ``<kind>.html.j2``, ``<kind>.md.j2`` and ``<kind>.txt.j2``;
kinds are ``daily``, ``periodic`` (周报、月报、季报), ``special``, ``supervision`` and ``risk_notice``. The
DOCX is laid out in code (``docx_writer``) in the official-document format.

Everything a template prints is escaped for its format, and nothing can
turn that off by accident: HTML is autoescaped; in Markdown every value is
escaped for Markdown (and ``<``/``>`` written as entities) before output, so
a hostile title can neither start a link, emphasis, list or table cell nor
inject HTML; in the short text every value is one line of plain text. Links
are printed only for http(s) URLs, checked again here whatever the model
promises. Values that are already ``Markup`` (charts, macro output) pass as
they are.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound
from jinja2.filters import make_attrgetter
from markupsafe import Markup

from yuqing_core.errors import InvalidInput
from yuqing_core.files import write_atomically
from yuqing_core.levels import Level
from yuqing_core.reports import charts
from yuqing_core.reports.formats import (
    ESCAPING_BY_FORMAT,
    KINDS,
    DocumentKind,
    Formats,
    kind_of,
    markdown_url,
    safe_url,
)
from yuqing_core.reports.model import (
    PeriodicReport,
    Report,
    RiskNoticeLetter,
    SpecialReport,
    SupervisionNotice,
)
from yuqing_core.timeutil import SHANGHAI
from yuqing_core.yamlfile import ConfigFileError, load_document

__all__ = [
    "KINDS",
    "SHORT_TEXT_LIMIT",
    "SHORT_TEXT_LIMITS",
    "DocumentKind",
    "RenderedFiles",
    "Renderer",
    "TemplatesError",
    "fit_text",
    "safe_url",
    "short_text",
    "short_text_limit",
    "suggested_handling",
]

PACKAGE_TEMPLATES = Path(__file__).with_name("templates")
HANDLING_FILE = "handling.yaml"
SHORT_TEXT_LIMIT = 500
# Kinds read on a phone by text message get a tighter limit: the daily report in under 200 characters.
SHORT_TEXT_LIMITS = {"daily": 200}
# Detail levels tried, most first, until the short text fits: how many entries each list may show.
SHORT_TEXT_LIST_SIZES = (5, 3, 2, 1, 0)
TRUNCATION_MARK = "…（余略）"
_SENTENCE_END = "。！？；!?;\n"
_CLAUSE_END = "，、：,:"


class TemplatesError(InvalidInput):
    """A user's templates folder or handling file that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class RenderedFiles:
    html: Path
    markdown: Path
    docx: Path
    text: Path

    @property
    def all(self) -> list[Path]:
        return [self.html, self.markdown, self.docx, self.text]


# --- handling texts ------------------------------------------------------------------------

HANDLING_KEYS = {"I": 1, "II": 2, "III": 3, "IV": 4, "unrated": None}


def _load_handling(path: Path) -> dict[int | None, str]:
    """The texts of a handling file, read with the bounds of every YAML file people edit (``yamlfile``)."""
    try:
        document = load_document(path)
    except ConfigFileError as exc:
        raise TemplatesError(f"无法读取处置建议文件：{exc}") from exc
    data = document.data
    levels = data.get("levels") if isinstance(data, dict) else None
    if not isinstance(levels, dict):
        raise TemplatesError(str(document.problem(("levels",), "应为 levels: 下按级别（I、II、III、IV、unrated）写处置建议文字")))
    texts: dict[int | None, str] = {}
    for key, text in levels.items():
        if str(key) not in HANDLING_KEYS:
            raise TemplatesError(str(document.problem(("levels", key), f"未知级别 {key!r}，可用：{'、'.join(HANDLING_KEYS)}")))
        if not isinstance(text, str) or not text.strip():
            raise TemplatesError(str(document.problem(("levels", key), f"级别 {key} 的处置建议应为非空文字")))
        texts[HANDLING_KEYS[str(key)]] = text.strip()
    return texts


@lru_cache(maxsize=32)
def _handling_texts(user_file: Path | None, mtime_ns: int | None) -> dict[int | None, str]:
    texts = _load_handling(PACKAGE_TEMPLATES / HANDLING_FILE)
    if user_file is not None:
        texts.update(_load_handling(user_file))  # a user's file may set only some levels
    return texts


def suggested_handling(level: int | None, templates_dir: Path | None = None) -> str:
    """The suggested handling text for a warning level (4 = IV .. 1 = I; None = not warned).

    Read from ``handling.yaml`` in ``templates_dir`` if it has one (levels it
    leaves out come from the package's file), else from the package's.
    """
    user_file = None
    if templates_dir is not None and (Path(templates_dir) / HANDLING_FILE).is_file():
        user_file = (Path(templates_dir) / HANDLING_FILE).resolve()
    texts = _handling_texts(user_file, user_file.stat().st_mtime_ns if user_file else None)
    return texts[level if level in tuple(Level) else None]


# --- short texts ----------------------------------------------------------------------------


def fit_text(text: str, limit: int = SHORT_TEXT_LIMIT, mark: str = TRUNCATION_MARK) -> str:
    """``text`` if it fits in ``limit`` characters; else cut after the last whole sentence that fits, and marked.

    Without a sentence end (。！？；or a line break) in what fits, the cut
    falls after the last clause (，、：) in its second half, and failing that
    wherever the limit falls. The result never exceeds ``limit``.

    >>> fit_text("第一句。第二句很长很长。", 9, "…")
    '第一句。…'
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= len(mark):
        return text[:limit]
    room = text[: limit - len(mark)]
    sentence = max(room.rfind(char) for char in _SENTENCE_END)
    if sentence > 0:
        return room[: sentence + 1].rstrip() + mark
    clause = max(room.rfind(char) for char in _CLAUSE_END)
    if clause >= len(room) // 2:
        return room[: clause + 1] + mark
    return room.rstrip() + mark


def _tidy_text(text: str) -> str:
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _render_block(template: Template, name: str, context: dict[str, Any]) -> str:
    if name not in template.blocks:
        return ""
    return _tidy_text("".join(template.blocks[name](template.new_context(context))))


_HEADING = re.compile(r"^#{1,6} ")


def tidy_markdown(text: str) -> str:
    """A blank line around every heading, never two in a row, one newline at the end.

    Only template text can start a line with ``#``: values are escaped.
    """
    out: list[str] = []
    for line in (raw.rstrip() for raw in text.splitlines()):
        if _HEADING.match(line):
            if out and out[-1]:
                out.append("")
            out.extend([line, ""])
        elif line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


# --- the renderer ------------------------------------------------------------------------------


class Renderer:
    """Renders documents with the package's templates, or a user's folder laid over them."""

    def __init__(self, templates_dir: Path | None = None, *, tz: tzinfo = SHANGHAI) -> None:
        if templates_dir is not None:
            templates_dir = Path(templates_dir)
            if not templates_dir.is_dir():
                raise TemplatesError(f"模板目录不存在：{templates_dir}（请检查 YUQING_TEMPLATES_DIR 设置）")
        self.templates_dir = templates_dir
        self.formats = Formats(tz)
        # The user's folder first, so one replaced file wins and every other one falls back.
        loader = FileSystemLoader([*([str(templates_dir)] if templates_dir else []), str(PACKAGE_TEMPLATES)])
        self._envs = {fmt: self._environment(loader, fmt) for fmt in ESCAPING_BY_FORMAT}
        self._envs["md"].filters["url"] = markdown_url

    def _environment(self, loader: FileSystemLoader, fmt: str) -> Environment:
        finalize, escape_value = ESCAPING_BY_FORMAT[fmt]
        env = Environment(
            loader=loader,
            autoescape=True,
            finalize=finalize,
            undefined=StrictUndefined,
            # Blank lines do not matter in the short text (they are dropped), so block tags may keep theirs.
            trim_blocks=fmt != "txt",
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        f = self.formats
        env.filters.update(
            datetime=f.datetime,
            short_datetime=f.short_datetime,
            time=f.time,
            month_day=f.month_day,
            cn_date=f.cn_date,
            cn_datetime=f.cn_datetime,
            weekday=f.weekday,
            headline=f.headline,
            clip=f.clip,
            percent=f.percent,
            number=f.number,
            level_numeral=f.level_numeral,
            level_text=f.level_text,
            cn_ordinal=f.cn_ordinal,
            paragraphs=f.paragraphs,
            url=safe_url,
        )
        env.globals.update(
            span=f.span,
            time_span=f.time_span,
            hour_labels=f.hour_labels,
            ratio=f.ratio,
            trend_chart=lambda points: charts.trend_chart(points).svg(),
            hour_chart=lambda hours: charts.hour_chart(hours, tz=f.tz).svg(),
            source_chart=lambda counts: charts.source_chart(counts).svg(),
            sparkline=lambda baseline, current, expected: charts.sparkline(baseline, current, expected).svg("chart sparkline"),
        )
        _escape_builtin_filters(env, escape_value, markup_filters=fmt == "html")
        return env

    def _template(self, doc: Report, fmt: str) -> Template:
        name = f"{kind_of(doc).template}.{fmt}.j2"
        try:
            return self._envs[fmt].get_template(name)
        except TemplateNotFound as exc:
            raise TemplatesError(f"找不到模板 {name}（{exc}）") from exc

    def _context(self, doc: Report, **extra: Any) -> dict[str, Any]:
        return {
            "doc": doc,
            "office": doc.office,
            "kind": kind_of(doc).name,
            "doc_kind": kind_of(doc).template,  # daily, special ...: the office's distribution and number prefix key
            "issued": _issued(doc),  # 印发日期
            "concerned": _concerned_units(doc),  # risk_point_units in the office's distribution (版记)
            "report_to": _report_to(doc),  # the 报 line when the document names its own addressees
            **extra,
        }

    def html(self, doc: Report) -> str:
        return self._template(doc, "html").render(self._context(doc))

    def markdown(self, doc: Report) -> str:
        return tidy_markdown(self._template(doc, "md").render(self._context(doc)))

    def short_text(self, doc: Report, limit: int | None = None) -> str:
        """The essentials in at most ``limit`` characters (default: the kind's ``SHORT_TEXT_LIMITS``, else 500).

        A text template has two blocks: ``essentials`` (kept whole: lists are
        shortened until they fit) and ``details`` (cut after the last whole
        sentence that fits). A template without them is all essentials.
        """
        limit = limit if limit is not None else short_text_limit(doc)
        template = self._template(doc, "txt")
        text = ""
        for list_size in SHORT_TEXT_LIST_SIZES:
            context = self._context(doc, list_size=list_size)
            if "essentials" in template.blocks:
                essentials, details = (_render_block(template, name, context) for name in ("essentials", "details"))
            else:
                essentials, details = _tidy_text(template.render(context)), ""
            text = "\n".join(part for part in (essentials, details) if part)
            if len(text) <= limit:
                return text
            if len(essentials) + len(TRUNCATION_MARK) < limit:
                return fit_text(text, limit)
        return fit_text(text, limit)

    def docx_html(self, doc: Report) -> str:
        """The HTML the DOCX is laid out from: the document's HTML template, charts as PNG pictures (``figures``)."""
        return self._template(doc, "html").render(self._context(doc, **self._docx_charts()))

    def _docx_charts(self) -> dict[str, Callable[..., Markup]]:
        # Word cannot show inline SVG everywhere: the same chart calls draw PNGs (matplotlib, Chinese labels).
        from yuqing_core.reports import figures

        tz = self.formats.tz
        return {
            "trend_chart": lambda points: _picture(figures.trend_png(tuple(points)), "趋势图"),
            "hour_chart": lambda hours: _picture(figures.hour_png(tuple(hours), tz), "时段分布图"),
            "source_chart": lambda counts: _picture(figures.source_png(tuple(counts)), "来源分布图"),
            "sparkline": lambda baseline, current, expected: _picture(
                figures.baseline_png(tuple(baseline), current, expected), "信息量变化图"
            ),
        }

    def docx_bytes(self, doc: Report) -> bytes:
        """The DOCX, laid out from the same HTML template (so a template override reaches Word too)."""
        # python-docx, lxml and matplotlib are loaded only when a DOCX is asked for.
        from yuqing_core.reports.docx_writer import write_docx

        return write_docx(self.docx_html(doc), doc.office, self.formats, kind=kind_of(doc).name, number=doc.number,
                          issued=_issued(doc))  # fmt: skip

    def docx(self, doc: Report, path: Path) -> Path:
        path = Path(path)
        write_atomically(path, self.docx_bytes(doc))
        return path

    def suggested_handling(self, level: int | None) -> str:
        return suggested_handling(level, self.templates_dir)

    def write(self, doc: Report, out_dir: Path, basename: str) -> RenderedFiles:
        """All four formats as ``basename.html/.md/.docx/.txt`` in ``out_dir``.

        Everything is rendered before anything is written, and each file
        appears under its name only when complete (written beside it, then
        renamed), so readers never see half a report.
        """
        if not basename or Path(basename).name != basename or basename.startswith("."):
            raise ValueError(f"basename must be a plain file name, not {basename!r}")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        files = RenderedFiles(
            html=out_dir / f"{basename}.html",
            markdown=out_dir / f"{basename}.md",
            docx=out_dir / f"{basename}.docx",
            text=out_dir / f"{basename}.txt",
        )
        contents = {
            files.html: self.html(doc).encode("utf-8"),
            files.markdown: self.markdown(doc).encode("utf-8"),
            files.docx: self.docx_bytes(doc),
            files.text: (self.short_text(doc) + "\n").encode("utf-8"),
        }
        for path, data in contents.items():
            write_atomically(path, data)
        return files


def _escape_builtin_filters(env: Environment, escape: Callable[[Any], str], *, markup_filters: bool) -> None:
    """Make Jinja's filters that escape on their own (join, replace, escape) escape the way this format needs.

    Jinja's versions HTML-escape and return Markup, which would skip the
    format's own escaping (Markdown, plain text) and the removal of invisible
    characters. Without ``markup_filters``, filters that write HTML (urlize,
    xmlattr, tojson, safe) are removed, so a template using them fails
    loudly instead of printing markup.
    """

    def escaped(value: Any) -> Markup:
        return value if hasattr(value, "__html__") else Markup(escape(value))

    def join(values: Iterable[Any], separator: str = "", attribute: str | int | None = None) -> Markup:
        if attribute is not None:
            values = map(make_attrgetter(env, attribute), values)
        return Markup(str(separator).join(escaped(value) for value in values))

    def replace(value: Any, old: str, new: str, count: int | None = None) -> str:
        return str(value).replace(old, new, -1 if count is None else count)  # a plain str: finalize escapes it

    env.filters.update(join=join, replace=replace, escape=escaped, e=escaped, forceescape=escaped)
    if not markup_filters:
        for name in ("urlize", "xmlattr", "tojson", "safe"):
            env.filters.pop(name, None)


def _issued(doc: Report) -> datetime:
    """The 印发日期: when a notice or letter was issued, when a report was generated."""
    return doc.issued_at if isinstance(doc, SupervisionNotice | RiskNoticeLetter) else doc.generated_at


def _concerned_units(doc: Report) -> tuple[str, ...]:
    """The units a document concerns: a special report's responsible units, a notice's lead and co-units, a letter's units."""
    if isinstance(doc, SpecialReport):
        return doc.units
    if isinstance(doc, SupervisionNotice):
        return (doc.unit, *doc.co_units)
    if isinstance(doc, RiskNoticeLetter):
        return doc.units
    return ()


def _report_to(doc: Report) -> tuple[str, ...] | None:
    """The leaders a 专报 or 周报/月报/季报 is addressed to (its 报 line); None: the office's distribution says."""
    if isinstance(doc, SpecialReport | PeriodicReport):
        return doc.recipients or None
    return None


def _picture(png: bytes, alt: str) -> Markup:
    """A PNG carried in the page itself (the DOCX converter reads only such pictures, never a URL)."""
    return Markup('<img class="chart" alt="{}" src="data:image/png;base64,{}">').format(alt, base64.b64encode(png).decode())


@lru_cache(maxsize=8)
def _renderer(templates_dir: Path | None) -> Renderer:
    return Renderer(templates_dir)


def short_text_limit(doc: Report) -> int:
    """How long the short text of ``doc`` may be: 200 characters for the daily report's SMS, else 500."""
    return SHORT_TEXT_LIMITS.get(kind_of(doc).template, SHORT_TEXT_LIMIT)


def short_text(doc: Report, limit: int | None = None, templates_dir: Path | None = None) -> str:
    """``Renderer(templates_dir).short_text(doc, limit)``, with the renderer kept for the next call."""
    return _renderer(Path(templates_dir) if templates_dir else None).short_text(doc, limit)
