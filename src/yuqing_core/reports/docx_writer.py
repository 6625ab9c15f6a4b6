"""The documents as DOCX: the HTML a template renders, laid out as official documents (公文格式, after GB/T 9704-2012).

One layout source: ``Renderer.docx_bytes`` renders the document's HTML
template (charts as PNG pictures drawn by ``figures`` instead of inline SVG)
and this module turns that HTML into Word paragraphs, so a user's template
override changes the DOCX as it changes the HTML. The templates use a small
semantic vocabulary, and each element maps to one part of the official layout:

- ``header.masthead`` (``.issuer``, ``.number``): 版头, the issuing office in red
  方正小标宋简体 over the document number and a red rule; ``p.secret``: 内部资料 注意保存
  at the top left in 黑体.
- ``h1``: 标题, 2号 方正小标宋简体, centred; ``p.kicker``, ``p.subtitle``: centred lines under it.
- ``h2``: first-level headings in 3号 黑体; ``h3``: second-level in 3号 楷体_GB2312;
  ``p`` and loose text: 3号 仿宋_GB2312, two-character indent, 28 pt lines
  (``.addressee`` flush left; ``.meta``, ``.empty`` quieter).
- ``ol``/``ul``: one paragraph per item (numbered for ``ol``); ``ul.stats``: a
  table of figures; ``ul.tags``: one line; ``table``: a grid table; ``figure``:
  its PNG picture and a numbered caption.
- ``footer.closing`` (``.signature``, ``.date``): 落款; ``section.banji``: 版记
  (报/送/抄送 lines between rules, ``.printed``: 印发机关 and 印发日期).
- Inline: ``strong``/``b``, ``a`` (a hyperlink for http(s) only), ``.deadline``
  (red), ``.badge.level-N`` (the level's colour); ``.colophon`` and ``.print-url``
  are for screens and paper only and are left out of Word.

Why hand-written and not a general HTML-to-DOCX converter (htmldocx,
html-for-docx, html2docx): those map inline CSS to run formatting; none
knows the official-document parts (版头, 版记, 落款), Chinese font names for
East Asian text (``w:eastAsia``), fixed 28 pt lines or repeating table
headers, so their output would need this same walk to be fixed up. docxtpl
would make a Word file the layout source, which a template override of the
HTML would never reach. Our templates are ours: mapping their few elements
straight to python-docx is shorter than either.

Page: A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (156 x 225 mm type area);
page numbers "— 1 —" in 4号 宋体, odd pages right, even pages left. Latin letters and digits
use Times New Roman. Feed text is written as text (python-docx escapes it).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import lxml.html
from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml.html import HtmlElement

from yuqing_core.levels import Level
from yuqing_core.office import Office
from yuqing_core.reports.formats import Formats, display_text, one_line, safe_url

# Font names of GB/T 9704 as Word and WPS know them on Chinese Windows. A machine without one
# substitutes its own choice (LibreOffice: a CJK serif or sans); the names stay in the file.
TITLE_FONT = "方正小标宋简体"  # 标题, 发文机关标志
FANGSONG = "仿宋_GB2312"  # 正文
HEITI = "黑体"  # 一级标题, 密级
KAITI = "楷体_GB2312"  # 二级标题
SONGTI = "宋体"  # 页码
LATIN = "Times New Roman"

# Chinese font sizes (字号) in points.
SIZE_2 = 22.0  # 二号
SIZE_3 = 16.0  # 三号
SIZE_4 = 14.0  # 四号
SIZE_XIAO4 = 12.0  # 小四
SIZE_5 = 10.5  # 五号
SIZE_ISSUER_MAX = 36.0  # 小初

BODY_LINE_PT = 28.0
TYPE_AREA_WIDTH_MM = 156.0
CHART_WIDTH_MM = 140.0
MAX_COLUMN_CHARS = 28.0
SHORT_VALUE_CHARS = 3.0  # values this short (超时, 按时, a count) never wrap in a table
TABLE_CHAR_MM = 5.0  # a 小四 character plus its share of the cell margins
RED = RGBColor(0xC0, 0x00, 0x00)
MUTED = RGBColor(0x59, 0x63, 0x70)
LINK = RGBColor(0x1A, 0x5F, 0xB4)
GOOD = RGBColor(0x2F, 0x7D, 0x32)
LEVEL_RGB = {int(level): RGBColor.from_string(level.rgb) for level in Level}
HEADER_FILL = "EEF1F5"

_BLOCK_TAGS = {"address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption", "figure",
               "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
               "pre", "section", "table", "ul"}  # fmt: skip
_SKIPPED_TAGS = {"script", "style", "svg", "template", "noscript", "head", "title", "button", "input", "select", "textarea"}
_SCREEN_ONLY = {"colophon", "print-url", "legend-note"}


def write_docx(html: str, office: Office, formats: Formats, *, kind: str, number: str, issued: datetime) -> bytes:
    """The bytes of a .docx laid out from ``html`` (a document rendered from its HTML template)."""
    root = lxml.html.document_fromstring(html)
    main = root.find(".//main")
    writer = _Writer(office, formats, kind=kind, number=number, issued=issued)
    _Layout(writer).blocks(main if main is not None else root)
    return writer.to_bytes()


@dataclass(frozen=True)
class RunStyle:
    """How a run of text looks (仿宋_GB2312 三号 unless said); ``link`` makes it a hyperlink."""

    font: str = FANGSONG
    size: float = SIZE_3
    bold: bool = False
    colour: RGBColor | None = None
    link: str | None = None


BODY = RunStyle()
QUIET = RunStyle(size=SIZE_4, colour=MUTED)


class _Writer:
    """A python-docx document with the official-document layout and a few writing helpers."""

    def __init__(self, office: Office, formats: Formats, *, kind: str, number: str, issued: datetime) -> None:
        self.document = new_document()
        self.office = office
        self.f = formats
        self.figures = 0
        self._set_up_page()
        self._describe(kind, number, issued)

    # set-up

    def _set_up_page(self) -> None:
        section = self.document.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(20)

        normal = self.document.styles["Normal"]
        normal.font.size = Pt(SIZE_3)
        _set_fonts(normal.element.get_or_add_rPr(), FANGSONG)
        normal.paragraph_format.space_before = Pt(0)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = Pt(BODY_LINE_PT)
        normal.paragraph_format.widow_control = True
        # The default template marks East Asian text as en-US; Word then checks and breaks it as English.
        for lang in self.document.styles.element.iter(qn("w:lang")):
            lang.set(qn("w:eastAsia"), "zh-CN")

        self.document.settings.odd_and_even_pages_header_footer = True
        _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
        _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)

    def _describe(self, kind: str, number: str, issued: datetime) -> None:
        """File properties: what it is, who issued it, when (the same for every rendering of one document)."""
        properties = self.document.core_properties
        properties.title = f"{kind} {one_line(number)}"
        properties.subject = kind
        properties.author = properties.last_modified_by = one_line(self.office.name)
        properties.language = "zh-CN"
        properties.keywords = "舆情"
        properties.comments = ""
        properties.revision = 1
        properties.created = properties.modified = issued.astimezone(UTC).replace(tzinfo=None)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()

    # the parts of an official document

    def secret(self, text: str) -> None:
        """密级 position: 内部资料 注意保存, 3号 黑体, flush left on the first line."""
        line = self.paragraph()
        line.paragraph_format.space_after = Pt(12)
        self.run(line, one_line(text), RunStyle(font=HEITI))

    def masthead(self, issuer: str, number: str) -> None:
        name = one_line(issuer)
        size = max(SIZE_2, min(SIZE_ISSUER_MAX, 440.0 / max(1, len(name))))
        line = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=size * 1.3)
        self.run(line, name, RunStyle(font=TITLE_FONT, size=size, colour=RED))
        line.paragraph_format.space_after = Pt(14)
        doc_number = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        self.run(doc_number, one_line(number), BODY)
        _border(doc_number, "bottom", "C00000", size_eighths=18, space=6)
        doc_number.paragraph_format.space_after = Pt(24)

    def title(self, text: str) -> None:
        title = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=SIZE_2 * 1.5)
        self.run(title, one_line(text), RunStyle(font=TITLE_FONT, size=SIZE_2))
        title.paragraph_format.space_after = Pt(6)
        title.paragraph_format.keep_with_next = True

    def centred(self) -> Paragraph:
        """A centred line under the title (kicker, subtitle)."""
        line = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        line.paragraph_format.space_after = Pt(8)
        line.paragraph_format.keep_with_next = True
        return line

    def heading(self) -> Paragraph:
        """A heading's paragraph: indented like the body, kept with what follows (the font is the caller's)."""
        line = self.paragraph(first_line_chars=2)
        line.paragraph_format.keep_with_next = True
        return line

    def picture(self, png: bytes, caption: str, width_mm: float = CHART_WIDTH_MM) -> None:
        self.document.add_picture(io.BytesIO(png), width=Mm(width_mm))
        picture = self.document.paragraphs[-1]
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        picture.paragraph_format.keep_with_next = bool(caption)
        if caption:
            line = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=20)
            self.run(line, caption, RunStyle(size=SIZE_XIAO4, colour=MUTED))

    def closing(self, name: str, day_text: str) -> None:
        """落款: two blank lines, the office centred over the date, the date four characters from the right."""
        self.paragraph()
        self.paragraph()
        name, day_text = one_line(name), one_line(day_text)
        date_width, name_width = _width_in_chars(day_text), _width_in_chars(name)
        office = self.paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT)
        office.paragraph_format.right_indent = Pt(SIZE_3 * max(0.0, 4 + (date_width - name_width) / 2))
        self.run(office, name, BODY)
        date_line = self.paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT)
        date_line.paragraph_format.right_indent = Pt(SIZE_3 * 4)
        self.run(date_line, day_text, BODY)
        for paragraph in (office, date_line):
            # Kept with what follows: a 版记 that does not fit takes the closing to the next page with it,
            # rather than standing alone on a page of its own.
            paragraph.paragraph_format.keep_together = True
            paragraph.paragraph_format.keep_with_next = True

    def banji(self, lines: Sequence[tuple[str, str]], issuer: str, printed: str) -> None:
        """版记: 报/送/抄送 lines, then 印发机关 and 印发日期, between rules, in 4号 仿宋."""
        self.paragraph().paragraph_format.keep_with_next = True
        quiet = RunStyle(size=SIZE_4)
        paragraphs: list[Paragraph] = []
        for label, names in lines:
            heading = f"{one_line(label).rstrip('：:')}："
            line = self.paragraph(line_pt=24)
            # A long list wraps under the names, not under its label (报：/抄送：).
            line.paragraph_format.left_indent = Pt(SIZE_4 * (1 + _width_in_chars(heading)))
            line.paragraph_format.first_line_indent = Pt(-SIZE_4 * _width_in_chars(heading))
            line.paragraph_format.right_indent = Pt(SIZE_4)
            self.run(line, heading, quiet)
            self.run(line, one_line(names), quiet)
            paragraphs.append(line)
        last = self.paragraph(line_pt=24)
        last.paragraph_format.left_indent = Pt(SIZE_4)
        last.paragraph_format.right_indent = Pt(SIZE_4)
        self.run(last, one_line(issuer), quiet)
        self.run(last, "\t" + one_line(printed), quiet)
        last.paragraph_format.tab_stops.add_tab_stop(Mm(TYPE_AREA_WIDTH_MM) - Pt(SIZE_4 * 2), WD_TAB_ALIGNMENT.RIGHT)
        first = paragraphs[0] if paragraphs else last
        _border(first, "top", "000000", size_eighths=8, space=4)
        if paragraphs:
            _border(paragraphs[-1], "bottom", "000000", size_eighths=4, space=4)
        _border(last, "bottom", "000000", size_eighths=8, space=4)
        for paragraph in [*paragraphs, last]:
            paragraph.paragraph_format.keep_together = True
            paragraph.paragraph_format.keep_with_next = paragraph is not last

    def table(self, rows: Sequence[Sequence[HtmlElement]], *, header_rows: int, numeric: set[int],
              layout: _Layout, centred: bool = False, caption: str = "") -> Table:  # fmt: skip
        """A grid table (小四) with shaded header rows that repeat on every page; rows never split across pages.

        A cell's ``colspan`` merges as many grid cells; a ``caption`` is a centred 黑体 line over the table.
        """
        columns = max(sum(_span(cell) for cell in row) for row in rows)
        widths = _column_widths(rows, columns)
        if caption:
            line = self.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
            line.paragraph_format.keep_with_next = True
            self.run(line, caption, RunStyle(font=HEITI))
        table: Table = self.document.add_table(rows=len(rows), cols=columns)
        table.style = self.document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _fixed_layout(table, widths)
        for row_index, cells in enumerate(rows):
            row = table.rows[row_index]
            is_header = row_index < header_rows
            _row_options(row, header=is_header)
            for column in range(columns):
                row.cells[column].width = Mm(widths[column])
                if is_header:
                    _shade(row.cells[column], HEADER_FILL)
                _compact(row.cells[column].paragraphs[0])
            position = 0
            for source in cells:
                span = min(_span(source), columns - position)
                cell = row.cells[position]
                if span > 1:
                    cell = cell.merge(row.cells[position + span - 1])
                align = WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.LEFT
                if is_header:
                    align = WD_ALIGN_PARAGRAPH.CENTER
                elif span == 1 and position in numeric:
                    align = WD_ALIGN_PARAGRAPH.RIGHT
                position += span
                bold = is_header or source.tag == "th"
                style = RunStyle(font=HEITI if bold else FANGSONG, size=SIZE_XIAO4)
                layout.cell(cell, source, style, align)
        self.paragraph(line_pt=10)  # a little air after the table
        return table

    # low level

    def paragraph(self, *, align: WD_ALIGN_PARAGRAPH | None = None, first_line_chars: float = 0,
                  line_pt: float | None = None) -> Paragraph:  # fmt: skip
        paragraph = self.document.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        if first_line_chars:
            paragraph.paragraph_format.first_line_indent = Pt(SIZE_3 * first_line_chars)
        if line_pt is not None:
            paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            paragraph.paragraph_format.line_spacing = Pt(line_pt)
        return paragraph

    @staticmethod
    def run(paragraph: Paragraph, text: str, style: RunStyle) -> Run:
        target = safe_url(style.link) if style.link else None
        run = paragraph.add_run(_xml_safe(text))
        run.font.size = Pt(style.size)
        run.font.bold = style.bold
        colour = LINK if target else style.colour
        if colour is not None:
            run.font.color.rgb = colour
        _set_fonts(run._element.get_or_add_rPr(), style.font)
        if target:
            run.font.underline = True
            relation = paragraph.part.relate_to(target, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
            link = OxmlElement("w:hyperlink")
            link.set(qn("r:id"), relation)
            run._element.addprevious(link)
            link.append(run._element)
        return run


# --- from HTML to the layout --------------------------------------------------------------------


def _classes(element: HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def _is_element(node: Any) -> bool:
    return isinstance(node.tag, str)  # comments and processing instructions have a function as their tag


def _text_of(element: HtmlElement) -> str:
    """The element's text on one line, without what Word leaves out (SVG, screen-only parts)."""
    parts: list[str] = []

    def collect(node: HtmlElement) -> None:
        if node.tag in _SKIPPED_TAGS or _classes(node) & _SCREEN_ONLY:
            return
        parts.append(node.text or "")
        for child in node:
            if _is_element(child):
                collect(child)
            parts.append(child.tail or "")

    collect(element)
    return one_line("".join(parts))


def _is_block(node: HtmlElement) -> bool:
    return _is_element(node) and (node.tag in _BLOCK_TAGS or node.tag == "img")


class _Layout:
    """Walks the semantic HTML of a document and writes each part with the ``_Writer``."""

    def __init__(self, writer: _Writer) -> None:
        self.w = writer

    # blocks

    def blocks(self, container: HtmlElement, style: RunStyle = BODY, *, indent: float = 2) -> None:
        """The children of ``container``: block elements in turn, loose text and inline elements as paragraphs."""
        pending: list[Any] = []  # loose text and inline elements waiting for a paragraph
        if container.text and container.text.strip():
            pending.append(container.text)
        for child in container:
            if not _is_element(child):
                if child.tail and child.tail.strip():
                    pending.append(child.tail)
                continue
            if _is_block(child):
                self._loose(pending, style, indent)
                pending = []
                self.block(child, style)
            else:
                pending.append(child)
            if child.tail and child.tail.strip():
                pending.append(child.tail)
        self._loose(pending, style, indent)

    def _loose(self, pending: list[Any], style: RunStyle, indent: float) -> None:
        if not any(
            (isinstance(node, str) and node.strip()) or (not isinstance(node, str) and _text_of(node)) for node in pending
        ):
            return
        paragraph = self.w.paragraph(first_line_chars=indent)
        runs = _Runs(self.w, paragraph)
        for node in pending:
            if isinstance(node, str):
                runs.add(node, style)
            else:
                self.inline(runs, node, style)
        runs.finish()

    def block(self, element: HtmlElement, style: RunStyle = BODY) -> None:
        tag, classes = element.tag, _classes(element)
        if tag in _SKIPPED_TAGS or classes & _SCREEN_ONLY:
            return
        if tag == "header" and "masthead" in classes:
            issuer, number = element.find_class("issuer"), element.find_class("number")
            self.w.masthead(_text_of(issuer[0]) if issuer else self.w.office.name, _text_of(number[0]) if number else "")
        elif "secret" in classes:
            self.w.secret(_text_of(element))
        elif tag == "h1":
            self.w.title(_text_of(element))
        elif "kicker" in classes or "subtitle" in classes:
            look = RunStyle(font=HEITI, colour=RED) if "kicker" in classes else RunStyle(font=KAITI)
            self.paragraph_of(element, look, paragraph=self.w.centred())
        elif tag == "h2":
            self.paragraph_of(element, RunStyle(font=HEITI), paragraph=self.w.heading())
        elif tag == "h3":
            self.paragraph_of(element, RunStyle(font=KAITI, bold=True), paragraph=self.w.heading())
        elif tag in ("h4", "h5", "h6"):
            self.paragraph_of(element, replace(style, bold=True), paragraph=self.w.heading())
        elif tag in ("ol", "ul"):
            self.listing(element, style)
        elif tag == "table":
            self.table(element)
        elif tag == "figure":
            self.figure(element)
        elif tag == "img":
            self.picture(element, "")
        elif tag == "footer" and "closing" in classes:
            signature, day = element.find_class("signature"), element.find_class("date")
            self.w.closing(_text_of(signature[0]) if signature else self.w.office.name, _text_of(day[0]) if day else "")
        elif "banji" in classes:
            self.banji(element)
        elif tag == "hr":
            return
        elif tag == "p" or not any(_is_block(child) for child in element):
            look = self._look(classes, style)
            paragraph = None
            if look.size < SIZE_3 and _text_of(element):  # smaller text (.meta): tighter lines than the body's 28 pt
                paragraph = self.w.paragraph(first_line_chars=2, line_pt=look.size * 1.6)
            self.paragraph_of(element, look, paragraph=paragraph, indent=0 if "addressee" in classes else 2)
        else:
            self.blocks(element, self._look(classes, style))

    @staticmethod
    def _look(classes: set[str], style: RunStyle) -> RunStyle:
        if classes & {"meta", "empty"}:
            return replace(style, size=min(style.size, QUIET.size) if "meta" in classes else style.size, colour=MUTED)
        if "deadline" in classes:
            return replace(style, bold=True, colour=RED)
        return style

    def paragraph_of(self, element: HtmlElement, style: RunStyle, *, paragraph: Paragraph | None = None,
                     indent: float = 2) -> None:  # fmt: skip
        """The element's content (text and inline elements; nested blocks follow as their own paragraphs)."""
        if paragraph is None:
            if not _text_of(element):
                return
            paragraph = self.w.paragraph(first_line_chars=indent)
        runs = _Runs(self.w, paragraph)
        runs.add(element.text or "", style)
        later: list[HtmlElement] = []
        for child in element:
            if _is_element(child) and _is_block(child):
                later.append(child)
                runs.add(child.tail or "", style)
            else:
                if _is_element(child):
                    self.inline(runs, child, style)
                runs.add(child.tail or "", style)
        runs.finish()
        for child in later:
            self.block(child, style)

    def listing(self, element: HtmlElement, style: RunStyle) -> None:
        classes = _classes(element)
        items = [child for child in element if _is_element(child) and child.tag == "li"]
        if "stats" in classes:
            self.stats(items)
            return
        if "tags" in classes:
            paragraph = self.w.paragraph(first_line_chars=2)
            runs = _Runs(self.w, paragraph)
            runs.add("、".join(_text_of(item) for item in items) + "。", style)
            runs.finish()
            return
        for index, item in enumerate(items, 1):
            paragraph = self.w.paragraph(first_line_chars=2)
            runs = _Runs(self.w, paragraph)
            if element.tag == "ol":
                runs.add(f"{index}. ", style)
            runs.add(item.text or "", style)
            urls: list[str] = []
            for child in item:
                if not _is_element(child):
                    runs.add(child.tail or "", style)
                    continue
                if "print-url" in _classes(child):
                    url = safe_url(_text_of(child))
                    urls += [url] if url else []
                elif child.tag in ("div", "p") and "meta" in _classes(child):
                    runs.add(" ", style)
                    self.inline(runs, child, QUIET)
                elif _is_block(child):
                    runs.add(" ", style)
                    self.inline(runs, child, style)
                else:
                    self.inline(runs, child, style)
                runs.add(child.tail or "", style)
            runs.finish()
            for url in urls:  # printed below the item, as the print style of the HTML does
                line = self.w.paragraph(first_line_chars=2, line_pt=16)
                self.w.run(line, url, RunStyle(font=LATIN, size=SIZE_5, colour=MUTED))

    def stats(self, items: Sequence[HtmlElement]) -> None:
        """Figures as a two-row table: the labels over the values."""
        labels = [item.find_class("label") for item in items]
        values = [item.find_class("value") for item in items]
        header = [found[0] if found else item for found, item in zip(labels, items, strict=True)]
        figures = []
        for found, item in zip(values, items, strict=True):
            cell = lxml.html.fromstring("<td></td>")
            cell.text = _text_of(found[0]) if found else ""
            cell.set("class", " ".join(_classes(item)))
            figures.append(cell)
        self.w.table([header, figures], header_rows=1, numeric=set(), layout=self, centred=True)

    def table(self, element: HtmlElement) -> None:
        rows: list[list[HtmlElement]] = []
        header_rows = 0
        numeric: set[int] = set()
        for row in element.iter("tr"):
            cells = [cell for cell in row if _is_element(cell) and cell.tag in ("td", "th")]
            if not cells:
                continue
            in_head = row.getparent() is not None and row.getparent().tag == "thead"
            if in_head and len(rows) == header_rows:
                header_rows += 1
            position = 0
            for cell in cells:
                if "num" in _classes(cell):
                    numeric.add(position)
                position += _span(cell)
            rows.append(cells)
        if rows:
            caption = element.find("caption")
            self.w.table(rows, header_rows=header_rows, numeric=numeric, layout=self,
                         caption=_text_of(caption) if caption is not None else "")  # fmt: skip

    def cell(self, cell: _Cell, source: HtmlElement, style: RunStyle, align: WD_ALIGN_PARAGRAPH) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.alignment = align
        _compact(paragraph)
        classes = _classes(source)
        if "alert" in classes:
            style = replace(style, colour=RED)
        elif "good" in classes:
            style = replace(style, colour=GOOD)
        runs = _Runs(self.w, paragraph)
        runs.add(source.text or "", style)
        for child in source:
            if _is_element(child):
                if _is_block(child) and runs.started:
                    runs.finish()
                    paragraph = cell.add_paragraph()
                    _compact(paragraph)
                    paragraph.alignment = align
                    runs = _Runs(self.w, paragraph)
                self.inline(runs, child, replace(QUIET, size=SIZE_5) if "meta" in _classes(child) else style)
            runs.add(child.tail or "", style)
        runs.finish()

    def figure(self, element: HtmlElement) -> None:
        caption = element.find(".//figcaption")
        text = _text_of(caption) if caption is not None else ""
        images = list(element.iter("img"))
        if images:
            self.picture(images[0], text)
        elif text:  # a chart Word cannot show (an inline SVG of a user's template): its caption still says what it was
            line = self.w.paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=20)
            self.w.run(line, text, RunStyle(size=SIZE_XIAO4, colour=MUTED))

    def picture(self, image: HtmlElement, caption: str) -> None:
        png = _data_png(image.get("src") or "")
        if png is None:
            return  # only pictures carried in the page itself: the converter never fetches anything
        self.w.figures += 1
        self.w.picture(png, f"图{self.w.figures}　{caption}" if caption else "")

    def banji(self, element: HtmlElement) -> None:
        lines: list[tuple[str, str]] = []
        issuer, printed = self.w.office.issuing_body, ""
        for line in element.iter():
            if not _is_element(line):
                continue
            classes = _classes(line)
            if "banji-line" in classes:
                label, names = line.find_class("label"), line.find_class("names")
                lines.append((_text_of(label[0]) if label else "", _text_of(names[0]) if names else _text_of(line)))
            elif "printed" in classes:
                found_issuer, found_date = line.find_class("issuer"), line.find_class("date")
                issuer = _text_of(found_issuer[0]) if found_issuer else issuer
                printed = _text_of(found_date[0]) if found_date else _text_of(line)
        self.w.banji(lines, issuer, printed)

    # inline

    def inline(self, runs: _Runs, element: HtmlElement, style: RunStyle) -> None:
        """An inline element's text and children as runs, styled by what it is (its tail is the caller's)."""
        tag, classes = element.tag, _classes(element)
        if tag in _SKIPPED_TAGS or classes & _SCREEN_ONLY or tag == "img":
            return
        if tag in ("strong", "b"):
            style = replace(style, bold=True)
        elif tag == "a" and safe_url(element.get("href")):
            style = replace(style, link=element.get("href"))
        elif tag == "br":
            runs.line_break()
        if "deadline" in classes:
            style = replace(style, bold=True, colour=RED)
        if "meta" in classes:
            style = replace(style, size=min(style.size, QUIET.size), colour=MUTED)
        if "badge" in classes:
            level = next((int(name[6:]) for name in classes if name.startswith("level-") and name[6:].isdigit()), 0)
            style = replace(style, bold=True, colour=LEVEL_RGB.get(level, MUTED))
        runs.add(element.text or "", style)
        for child in element:
            if _is_element(child):
                self.inline(runs, child, style)
            runs.add(child.tail or "", style)


class _Runs:
    """Text added piece by piece to one paragraph, with HTML's whitespace rules (runs of it are one space)."""

    def __init__(self, writer: _Writer, paragraph: Paragraph) -> None:
        self.w = writer
        self.paragraph = paragraph
        self.pieces: list[tuple[str, RunStyle | None]] = []

    @property
    def started(self) -> bool:
        return any(text.strip() for text, _ in self.pieces)

    def add(self, text: str, style: RunStyle) -> None:
        if text:
            self.pieces.append((display_text(text), style))

    def line_break(self) -> None:
        self.pieces.append(("\n", None))

    def finish(self) -> None:
        text_so_far = ""
        merged: list[tuple[str, RunStyle | None]] = []
        for text, style in self.pieces:
            if style is None:
                merged.append((text, None))
                text_so_far = ""
                continue
            collapsed = " ".join(text.split()) if text.strip() else (" " if text else "")
            if text[:1].isspace() and text.strip():
                collapsed = " " + collapsed
            if text[-1:].isspace() and text.strip():
                collapsed += " "
            if not text_so_far or text_so_far.endswith(" "):
                collapsed = collapsed.lstrip()
            if not collapsed:
                continue
            text_so_far += collapsed
            if merged and merged[-1][1] == style:
                merged[-1] = (merged[-1][0] + collapsed, style)
            else:
                merged.append((collapsed, style))
        while merged and merged[-1][1] is not None and not merged[-1][0].rstrip():
            merged.pop()
        if merged and merged[-1][1] is not None:
            merged[-1] = (merged[-1][0].rstrip(), merged[-1][1])
        for text, style in merged:
            if style is None:
                self.paragraph.add_run().add_break(WD_BREAK.LINE)
            else:
                self.w.run(self.paragraph, text, style)
        self.pieces = []


def _data_png(src: str) -> bytes | None:
    """The bytes of a ``data:image/png;base64,`` picture, or None for anything else."""
    prefix = "data:image/png;base64,"
    if not src.startswith(prefix):
        return None
    try:
        data = base64.b64decode(src[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(b"\x89PNG\r\n\x1a\n") else None


def _column_widths(rows: Sequence[Sequence[HtmlElement]], columns: int) -> list[float]:
    """Widths in mm over the type area, by how wide each column's text is (long texts capped, so they wrap).

    Short values (按时, 超时, a count) keep their width when long texts squeeze the table; a column
    whose cells are all blank (a 回执 to fill in by hand) is as wide as the widest.
    """
    need, short = [2.0] * columns, [2.0] * columns
    written = [False] * columns
    for row in rows:
        column = 0
        for cell in row:
            if column >= columns:
                break
            if _span(cell) == 1:
                width = _width_in_chars(_text_of(cell))
                need[column] = max(need[column], min(MAX_COLUMN_CHARS, width + 1))
                if cell.tag == "td" and width:
                    short[column] = max(short[column], min(SHORT_VALUE_CHARS, width) + 1)
                written[column] |= bool(width)
            column += _span(cell)
    widest = max(need)
    need = [width if written[index] else widest for index, width in enumerate(need)]
    total = sum(need)
    widths = [TYPE_AREA_WIDTH_MM * width / total for width in need]
    floor = [width * TABLE_CHAR_MM for width in short]
    lifted = [index for index in range(columns) if widths[index] < floor[index]]
    spare = TYPE_AREA_WIDTH_MM - sum(floor[index] for index in lifted)
    others = sum(widths[index] for index in range(columns) if index not in lifted)
    if not lifted or others <= 0 or spare <= 0:
        return widths
    return [floor[index] if index in lifted else widths[index] * spare / others for index in range(columns)]


def _span(cell: HtmlElement) -> int:
    """How many grid columns a table cell covers (its ``colspan``, 1 when absent or not a number)."""
    value = (cell.get("colspan") or "1").strip()
    return max(1, min(int(value), 50)) if value.isdigit() else 1


# --- OOXML details python-docx has no API for ------------------------------------------------


def _xml_safe(text: str) -> str:
    """Text lxml accepts (no control characters); the caller has already made it display text."""
    return "".join(ch for ch in text if ch in "\t\n" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff"))


def _set_fonts(rpr: CT_RPr, east_asian: str) -> None:
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


# Successors of w:pBdr in w:pPr (the schema fixes the order; Word rejects files that break it).
_PBDR_SUCCESSORS = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
    "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_PBDR_ORDER = ("top", "left", "bottom", "right", "between", "bar")


def _border(paragraph: Paragraph, side: str, colour: str, *, size_eighths: int, space: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = ppr.insert_element_before(OxmlElement("w:pBdr"), *_PBDR_SUCCESSORS)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size_eighths))
    edge.set(qn("w:space"), str(space))
    edge.set(qn("w:color"), colour)
    later = [qn(f"w:{name}") for name in _PBDR_ORDER[_PBDR_ORDER.index(side) + 1 :]]
    successor = next((child for child in borders if child.tag in later), None)
    if successor is not None:
        successor.addprevious(edge)
    else:
        borders.append(edge)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _row_options(row: _Row, *, header: bool) -> None:
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


def _fixed_layout(table: Table, widths_mm: Sequence[float]) -> None:
    """Column widths that Word and LibreOffice both honour: the grid columns and the table's own width.

    (``autofit = False`` has already made the layout fixed.)
    """
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    total = table._tbl.tblPr.find(qn("w:tblW"))
    if total is not None:
        total.set(qn("w:w"), str(round(sum(widths_mm) / 25.4 * 1440)))
        total.set(qn("w:type"), "dxa")


def _compact(paragraph: Paragraph) -> None:
    paragraph.paragraph_format.first_line_indent = Pt(0)
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.paragraph_format.space_before = Pt(1)
    paragraph.paragraph_format.space_after = Pt(1)


def _page_number(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """ "— N —" in 4号 宋体, one character in from the outer margin."""
    paragraph.alignment = align
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        paragraph.paragraph_format.right_indent = Pt(SIZE_4)
    else:
        paragraph.paragraph_format.left_indent = Pt(SIZE_4)
    _Writer.run(paragraph, "— ", RunStyle(font=SONGTI, size=SIZE_4))
    number = _Writer.run(paragraph, "1", RunStyle(font=SONGTI, size=SIZE_4))  # what Word shows until it updates the field
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number._element.addprevious(field)
    field.append(number._element)
    _Writer.run(paragraph, " —", RunStyle(font=SONGTI, size=SIZE_4))


def _width_in_chars(text: str) -> float:
    """Width in full-width characters: ASCII letters and digits count half."""
    return sum(0.5 if ord(ch) < 0x80 else 1.0 for ch in text)
