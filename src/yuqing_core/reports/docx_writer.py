"""The documents as DOCX, laid out as official documents (公文格式, after GB/T 9704-2012) as far as python-docx allows.

- Page: A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm (a 156 x 225 mm type area).
- Masthead (版头): the issuing office (发文机关标志) centred in red, then the
  document number (发文字号) centred, then a red rule across the type area.
- Title (标题): 2号 (22 pt) bold 宋体, centred; body (正文) 3号 (16 pt) 仿宋 with
  a two-character first-line indent and 28 pt exact line spacing; first-level
  headings 一、 in 黑体, second-level （一） in 楷体.
- Closing (落款): the issuing office centred over the date, the date four
  characters from the right margin; distribution (报送) between two rules.
- Page numbers in 4号 as "— 1 —", odd pages on the right, even pages on the left.
- Chinese font names are set for East Asian text (``w:eastAsia``); Latin
  letters and digits use Times New Roman.

Charts are PNG pictures drawn by ``charts`` (without text), each followed by a
table with its figures. Feed text is written as text (python-docx escapes
it); links are real hyperlinks, for http(s) URLs only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from yuqing_core.cases.metrics import CaseLine
from yuqing_core.levels import Level
from yuqing_core.reports import charts
from yuqing_core.reports.formats import Formats, kind_of, one_line, safe_url
from yuqing_core.reports.model import (
    ApprovedAssessment,
    Count,
    DailyReport,
    EventSummary,
    ItemRef,
    Office,
    Report,
    RiskNoticeLetter,
    SpecialReport,
    SupervisionNotice,
)

# Font names as Word knows them on Chinese Windows (and WPS). 小标宋 is not installed
# everywhere, so titles use bold 宋体, which every machine has.
FANGSONG = "仿宋"
SONGTI = "宋体"
HEITI = "黑体"
KAITI = "楷体"
LATIN = "Times New Roman"

# Chinese font sizes (字号) in points.
SIZE_XIAOCHU = 36.0  # 小初
SIZE_2 = 22.0  # 二号
SIZE_3 = 16.0  # 三号
SIZE_4 = 14.0  # 四号
SIZE_XIAO4 = 12.0  # 小四
SIZE_5 = 10.5  # 五号

BODY_LINE_PT = 28.0
TYPE_AREA_WIDTH_MM = 156.0
CHART_WIDTH_MM = 140.0
RED = RGBColor(0xC0, 0x00, 0x00)
MUTED = RGBColor(0x59, 0x63, 0x70)
LINK = RGBColor(0x1A, 0x5F, 0xB4)
LEVEL_RGB = {int(level): RGBColor.from_string(level.rgb) for level in Level}
HEADER_FILL = "EEF1F5"


def write_docx(doc: Report, formats: Formats) -> bytes:
    """The document as the bytes of a .docx file."""
    issued = doc.generated_at if isinstance(doc, (DailyReport, SpecialReport)) else doc.issued_at
    writer = _Writer(doc.office, formats, kind=kind_of(doc).name, number=doc.number, issued=issued)
    if isinstance(doc, DailyReport):
        _daily(writer, doc)
    elif isinstance(doc, SpecialReport):
        _special(writer, doc)
    elif isinstance(doc, SupervisionNotice):
        _supervision(writer, doc)
    elif isinstance(doc, RiskNoticeLetter):
        _risk_notice(writer, doc)
    return writer.to_bytes()


# --- the page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """Table cell content: text, optionally bold or coloured, with an optional second line."""

    text: str
    bold: bool = False
    colour: RGBColor | None = None
    note: str = ""  # a second, smaller line


class RunOptions(TypedDict, total=False):
    """How a run of body text differs from the rest (仿宋 三号 unless said)."""

    font: str
    size: float
    bold: bool
    colour: RGBColor | None


class _Writer:
    """A python-docx document with the official-document layout and a few writing helpers."""

    def __init__(self, office: Office, formats: Formats, *, kind: str, number: str, issued: datetime) -> None:
        self.document = new_document()
        self.office = office
        self.f = formats
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

    def masthead(self, number: str) -> None:
        name = one_line(self.office.name)
        size = max(22.0, min(SIZE_XIAOCHU, 440.0 / max(1, len(name))))
        issuer = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=size * 1.3)
        self._run(issuer, name, SONGTI, size, bold=True, colour=RED)
        issuer.paragraph_format.space_after = Pt(14)
        doc_number = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        self._run(doc_number, one_line(number), FANGSONG, SIZE_3)
        _border(doc_number, "bottom", "C00000", size_eighths=18, space=6)
        doc_number.paragraph_format.space_after = Pt(24)

    def title(self, text: str) -> None:
        title = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=SIZE_2 * 1.5)
        self._run(title, one_line(text), SONGTI, SIZE_2, bold=True)
        title.paragraph_format.space_after = Pt(6)
        title.paragraph_format.keep_with_next = True

    def subtitle(self, text: str) -> None:
        line = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER)
        self._run(line, text, KAITI, SIZE_3)
        line.paragraph_format.space_after = Pt(12)

    def heading(self, text: str) -> None:
        line = self._paragraph(first_line_chars=2)
        self._run(line, text, HEITI, SIZE_3)
        line.paragraph_format.keep_with_next = True

    def subheading(self, text: str) -> None:
        line = self._paragraph(first_line_chars=2)
        self._run(line, text, KAITI, SIZE_3, bold=True)
        line.paragraph_format.keep_with_next = True

    def addressee(self, text: str) -> None:
        """主送机关: flush left, ending in a full-width colon."""
        line = self._paragraph()
        self._run(line, f"{one_line(text)}：", FANGSONG, SIZE_3)

    def text(self, *parts: str | tuple[str, RunOptions]) -> Paragraph:
        """A body paragraph; parts are plain strings or (text, run options) pairs."""
        paragraph = self._paragraph(first_line_chars=2)
        for part in parts:
            if isinstance(part, tuple):
                value, options = part
                self._run(
                    paragraph,
                    value,
                    options.get("font", FANGSONG),
                    options.get("size", SIZE_3),
                    bold=options.get("bold", False),
                    colour=options.get("colour"),
                )
            else:
                self._run(paragraph, part, FANGSONG, SIZE_3)
        return paragraph

    def paragraphs(self, text: str) -> None:
        for line in self.f.paragraphs(text):
            self.text(line)

    def note(self, text: str) -> None:
        """A quiet remark (nothing to list, a source note)."""
        self.text((text, {"colour": MUTED}))

    def items(self, items: Sequence[ItemRef], empty: str, *, print_urls: bool = False, with_points: bool = True) -> None:
        """Numbered items: headline (a link where the URL is http(s)), then source and time."""
        if not items:
            self.note(empty)
            return
        for index, item in enumerate(items, 1):
            paragraph = self._paragraph(first_line_chars=2)
            self._run(paragraph, f"{index}. ", FANGSONG, SIZE_3)
            self._link_or_text(paragraph, self.f.headline(item), item.url, FANGSONG, SIZE_3)
            meta = f"（{one_line(item.source)}，{self.f.short_datetime(item.published)}"
            if with_points and item.risk_points:
                meta += "；" + "、".join(one_line(p) for p in item.risk_points)
            self._run(paragraph, meta + "）", FANGSONG, SIZE_4, colour=MUTED)
            url = safe_url(item.url)
            if print_urls and url:
                line = self._paragraph(first_line_chars=2, line_pt=16)
                self._run(line, url, LATIN, SIZE_5, colour=MUTED)

    def table(self, header: Sequence[str | int | Cell], rows: Iterable[Sequence[str | int | Cell]], widths_mm: Sequence[float],
              numeric: Iterable[int] = (), size: float = SIZE_XIAO4) -> Table:  # fmt: skip
        """A grid table (小四 unless ``size`` says otherwise) with a shaded header row that repeats on every page;
        rows never split across pages."""
        numeric = set(numeric)
        rows = list(rows)
        table: Table = self.document.add_table(rows=1 + len(rows), cols=len(header))
        table.style = self.document.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _fixed_layout(table, widths_mm)
        for row_index, values in enumerate([list(header), *rows]):
            row = table.rows[row_index]
            _row_options(row, header=row_index == 0)
            for column, value in enumerate(values):
                cell = row.cells[column]
                cell.width = Mm(widths_mm[column])
                content = value if isinstance(value, Cell) else Cell(str(value), bold=row_index == 0)
                align = WD_ALIGN_PARAGRAPH.RIGHT if column in numeric and row_index else WD_ALIGN_PARAGRAPH.LEFT
                if row_index == 0:
                    _shade(cell, HEADER_FILL)
                    align = WD_ALIGN_PARAGRAPH.CENTER
                self._fill_cell(cell, content, align, size)
        self._paragraph(line_pt=10)  # a little air after the table
        return table

    def _fill_cell(self, cell: _Cell, content: Cell, align: WD_ALIGN_PARAGRAPH, size: float) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.alignment = align
        _compact(paragraph)
        font = HEITI if content.bold else FANGSONG
        self._run(paragraph, one_line(content.text), font, size, colour=content.colour)
        if content.note:
            note = cell.add_paragraph()
            _compact(note)
            self._run(note, one_line(content.note), FANGSONG, SIZE_5, colour=MUTED)

    def picture(self, png: bytes, caption: str, width_mm: float = CHART_WIDTH_MM) -> None:
        self.document.add_picture(io.BytesIO(png), width=Mm(width_mm))
        picture = self.document.paragraphs[-1]
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        picture.paragraph_format.keep_with_next = True
        line = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, line_pt=20)
        self._run(line, caption, FANGSONG, SIZE_XIAO4, colour=MUTED)

    def closing(self, day_text: str) -> None:
        """落款: two blank lines, the office centred over the date, the date four characters from the right."""
        self._paragraph()
        self._paragraph()
        name = one_line(self.office.name)
        date_width, name_width = _width_in_chars(day_text), _width_in_chars(name)
        office = self._paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT)
        office.paragraph_format.right_indent = Pt(SIZE_3 * max(0.0, 4 + (date_width - name_width) / 2))
        self._run(office, name, FANGSONG, SIZE_3)
        date_line = self._paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT)
        date_line.paragraph_format.right_indent = Pt(SIZE_3 * 4)
        self._run(date_line, day_text, FANGSONG, SIZE_3)
        for paragraph in (office, date_line):
            paragraph.paragraph_format.keep_together = True
            paragraph.paragraph_format.keep_with_next = paragraph is office

    def distribution(self, label: str, names: Sequence[str], printed: str) -> None:
        """版记: who receives it, and who printed it when, between rules."""
        self._paragraph()
        first = self._paragraph(line_pt=24)
        first.paragraph_format.left_indent = Pt(SIZE_4)
        first.paragraph_format.right_indent = Pt(SIZE_4)
        self._run(first, f"{label}：", FANGSONG, SIZE_4)
        self._run(first, "、".join(one_line(n) for n in names) + "。", FANGSONG, SIZE_4)
        _border(first, "top", "000000", size_eighths=8, space=4)
        _border(first, "bottom", "000000", size_eighths=4, space=4)
        last = self._paragraph(line_pt=24)
        last.paragraph_format.left_indent = Pt(SIZE_4)
        last.paragraph_format.right_indent = Pt(SIZE_4)
        self._run(last, one_line(self.office.name), FANGSONG, SIZE_4)
        self._run(last, "\t" + printed, FANGSONG, SIZE_4)
        last.paragraph_format.tab_stops.add_tab_stop(Mm(TYPE_AREA_WIDTH_MM) - Pt(SIZE_4 * 2), WD_TAB_ALIGNMENT.RIGHT)
        _border(last, "bottom", "000000", size_eighths=8, space=4)
        first.paragraph_format.keep_with_next = True

    # low level

    def _paragraph(self, *, align: WD_ALIGN_PARAGRAPH | None = None, first_line_chars: float = 0,
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
    def _run(paragraph: Paragraph, text: str, font: str, size: float, *, bold: bool = False,
             colour: RGBColor | None = None) -> Run:  # fmt: skip
        run = paragraph.add_run(_xml_safe(text))
        run.font.size = Pt(size)
        run.font.bold = bold
        if colour is not None:
            run.font.color.rgb = colour
        _set_fonts(run._element.get_or_add_rPr(), font)
        return run

    def _link_or_text(self, paragraph: Paragraph, text: str, url: str | None, font: str, size: float,
                      colour: RGBColor | None = None) -> Run:  # fmt: skip
        target = safe_url(url)
        run = self._run(paragraph, text, font, size, colour=LINK if target else colour)
        if target:
            run.font.underline = True
            relation = paragraph.part.relate_to(target, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
            link = OxmlElement("w:hyperlink")
            link.set(qn("r:id"), relation)
            run._element.addprevious(link)
            link.append(run._element)
        return run


# --- the four documents ------------------------------------------------------------------------


def _level_cell(level: int | None, label: str, colour: str = "") -> Cell:
    """The level in its colour, and the colour named below it (a black-and-white printout loses the colour)."""
    text = label or Formats.level_text(level)
    return Cell(text, bold=bool(level), colour=LEVEL_RGB.get(level or 0), note=f"{colour}预警" if colour and level else "")


def _count_rows(counts: Sequence[Count], f: Formats) -> list[list[str | int | Cell]]:
    return [[Cell(c.label), c.count, f.percent(c.share)] for c in counts]


def _case_rows(lines: Sequence[CaseLine], f: Formats) -> list[list[str | Cell]]:
    return [
        [
            c.number,
            c.title,
            c.lead_unit,
            c.state_label + (f"（超期{c.overdue_days}天）" if c.overdue_days else ""),
            f.datetime(c.deadline) or "—",
        ]
        for c in lines
    ]


def _daily(w: _Writer, doc: DailyReport) -> None:
    f = w.f
    cov = doc.coverage
    events = sorted(doc.events, key=lambda e: e.score, reverse=True)
    w.masthead(doc.number)
    w.title("舆情日报")
    w.subtitle(f"（{f.cn_date(doc.day)}　{f.weekday(doc.day)}）")

    w.heading("一、总体情况")
    if doc.items == 0:
        outages = "；".join(
            f"{label}：{'、'.join(one_line(s.name) for s in group)}"
            for label, group in (("采集失败", cov.failing), ("已停用", cov.disabled))
            if group
        )
        w.text(("本日未采集到任何信息。", {"bold": True, "colour": RED}),
               f"这不代表没有舆情风险：信息源可能故障、被停用或长时间无更新。请先查看“八、信息源覆盖”：{cov.sentence}"
               + (f"，{outages}" if outages else "") + "。")  # fmt: skip
    w.paragraphs(doc.summary)
    w.table(
        ["采集信息", "涉本县", "敏感信息", "正面信息", "舆情事件", "新增预警"],
        [
            [
                doc.items,
                doc.relevant,
                Cell(str(doc.sensitive), colour=RED if doc.sensitive else None),
                doc.positive,
                len(doc.events),
                Cell(str(len(doc.new_warnings)), colour=RED if doc.new_warnings else None),
            ]
        ],
        [26.0] * 6,
        numeric=range(6),
    )
    w.text(f"信息源：{_coverage_counts(doc)}。" + (f"近{len(doc.trend)}日趋势见第七部分。" if doc.trend else ""))

    w.heading("二、舆情事件")
    if events:
        w.text(f"本日共有舆情事件 {len(events)} 起，按风险分排列如下。")
        w.table(
            ["序号", "事件", "级别", "风险分", "条数/来源"],
            [
                [
                    index,
                    Cell(e.title, note=_event_note(e, f)),
                    _level_cell(e.level, e.level_label, e.level_colour),
                    f.number(e.score),
                    f"{e.items}/{e.sources}",
                ]
                for index, e in enumerate(events, 1)
            ],
            [13.0, 71.0, 32.0, 16.0, 24.0],
            numeric=(0, 3, 4),
        )
    else:
        w.note("本日无舆情事件。")
    _responses(w, doc)

    w.heading("三、新增预警")
    if doc.new_warnings:
        w.table(
            ["级别", "事件", "状态", "风险分", "预警时间"],
            [
                [
                    _level_cell(x.effective_level, x.effective_label, x.level_colour if x.effective_level == x.level else ""),
                    Cell(x.title, note=("原为" + x.level_label) if x.effective_level != x.level else "、".join(x.risk_points)),
                    x.status_label,
                    f.number(x.score),
                    f.short_datetime(x.raised),
                ]
                for x in doc.new_warnings
            ],
            [32.0, 64.0, 18.0, 14.0, 28.0],
            numeric=(3,),
        )
    else:
        w.note("本日无新增预警。")

    w.heading("四、敏感信息")
    w.items(doc.sensitive_items, "本日无敏感信息。")
    w.heading("五、正面宣传")
    w.items(doc.positive_items, "本日无正面宣传信息。")

    w.heading("六、督办情况")
    cases = doc.cases
    if not cases.available:
        w.note(cases.note or "督办数据暂不可用。")
    else:
        if cases.note:
            w.text(cases.note)
        w.text(
            f"新开 {len(cases.opened)} 件，已反馈 {len(cases.answered)} 件，超期 {len(cases.overdue)} 件，办结 {len(cases.closed)} 件。"
        )
        groups = (("新开督办件", cases.opened), ("已反馈", cases.answered), ("超期未办结", cases.overdue),
                  ("已办结", cases.closed), ("拟通报", cases.reprimands))  # fmt: skip
        number = 0
        for title, lines in groups:
            if lines:
                number += 1
                w.subheading(f"（{f.cn_ordinal(number)}）{title}（{len(lines)} 件）")
                w.table(["编号", "事项", "牵头单位", "状态", "办理时限"], _case_rows(lines, f), [26.0, 50.0, 30.0, 22.0, 28.0])
        if cases.unit_metrics:
            number += 1
            w.subheading(f"（{f.cn_ordinal(number)}）各单位办理情况")
            w.table(
                ["单位", "按期办结率", "平均办理天数", "超期件数"],
                [
                    [
                        u.unit,
                        f.percent(u.on_time_rate) if u.on_time_rate is not None else "—",
                        f.number(u.average_handling_days) if u.average_handling_days is not None else "—",
                        u.overdue,
                    ]
                    for u in cases.unit_metrics
                ],
                [60.0, 32.0, 34.0, 30.0],
                numeric=(1, 2, 3),
            )

    w.heading("七、信息来源")
    if doc.trend:
        w.subheading(f"（一）近{len(doc.trend)}日信息量")
        w.picture(
            charts.trend_chart(doc.trend, text=False).png(),
            f"图1　近{len(doc.trend)}日信息量（灰色虚线：采集；蓝线：相关；下方红柱：敏感）",
        )
        half = (len(doc.trend) + 1) // 2
        left, right = doc.trend[:half], doc.trend[half:]
        rows = []
        for index, point in enumerate(left):
            row: list[str | int] = [f.month_day(point.day), point.items, point.relevant, point.sensitive]
            if index < len(right):
                other = right[index]
                row += [f.month_day(other.day), other.items, other.relevant, other.sensitive]
            else:
                row += ["", "", "", ""]
            rows.append(row)
        w.table(["日期", "采集", "相关", "敏感"] * 2, rows, [19.5] * 8, numeric=(1, 2, 3, 5, 6, 7))
    number = 1 if doc.trend else 0
    for label, counts, empty in (("信息源", doc.by_source, "本日无信息。"), ("类别", doc.by_category, "本日无信息。"),
                                 ("风险点", doc.by_risk_point, "")):  # fmt: skip
        if counts or empty:
            number += 1
            w.subheading(f"（{f.cn_ordinal(number)}）按{label}")
            _counts_or_note(w, counts, label, empty)

    w.heading("八、信息源覆盖")
    if cov.failing or cov.silent or cov.disabled:
        w.text((cov.sentence, {"bold": True}), "。未正常运行的信息源如下；其覆盖范围内“没有信息”不代表“没有风险”。")
        for title, problems in (("采集失败", cov.failing), ("长时间无新信息", cov.silent), ("已停用", cov.disabled)):
            for problem in problems:
                since = f"（自 {f.short_datetime(problem.since)}）" if problem.since else ""
                w.text(
                    (f"{title}：", {"font": HEITI}),
                    (one_line(problem.name), {"bold": True}),
                    f"，{one_line(problem.detail)}{since}",
                )
    else:
        w.text((cov.sentence, {"bold": True}), "。全部信息源运行正常。")

    w.heading("九、热词")
    if doc.hot_words:
        w.text("、".join(one_line(word) for word, _ in doc.hot_words) + "。")
    else:
        w.note("本日无热词。")
    w.closing(f.cn_date(doc.generated_at))


def _coverage_counts(doc: DailyReport) -> str:
    cov = doc.coverage
    parts = [cov.sentence]
    if cov.failing:
        parts.append(f"{len(cov.failing)} 个采集失败")
    if cov.silent:
        parts.append(f"{len(cov.silent)} 个长时间无新信息")
    if cov.disabled:
        parts.append(f"{len(cov.disabled)} 个已停用")
    return "，".join(parts)


def _event_note(event: EventSummary, f: Formats) -> str:
    parts = [f.time_span(event.first_seen, event.last_seen)]
    if event.risk_points:
        parts.append("风险点：" + "、".join(event.risk_points))
    if event.units:
        parts.append("责任单位：" + "、".join(event.units))
    return "；".join(parts)


def _counts_or_note(w: _Writer, counts: Sequence[Count], label: str, empty: str) -> None:
    if counts:
        w.table([label, "条数", "占比"], _count_rows(counts, w.f), [96.0, 30.0, 30.0], numeric=(1, 2))
    else:
        w.note(empty)


def _responses(w: _Writer, doc: DailyReport) -> None:
    """快速回应: on time / late / unanswered counts, then one row per event."""
    f, section = w.f, doc.response_section
    w.subheading("快速回应")
    w.text(section.sentence)
    if section.events:
        w.table(
            ["事件", "首发时间", "首次官方回应", "用时（工作/自然小时）", "状态"],
            [
                [
                    Cell(r.title, note=r.level_label),
                    f.short_datetime(r.first_signal),
                    f.short_datetime(r.first_response) if r.first_response else "尚无",
                    f"{f.number(r.work_hours or 0)} / {f.number(r.clock_hours or 0)}",
                    Cell(r.status_label, colour=RED if r.status in ("overdue", "late") else None),
                ]
                for r in section.events
            ],
            [56.0, 28.0, 28.0, 24.0, 20.0],
        )


def _special(w: _Writer, doc: SpecialReport) -> None:
    f = w.f
    w.masthead(doc.number)
    w.title(doc.title)
    w.subtitle(f"（{one_line(doc.subject)}　{f.span(doc.period_start, doc.period_end)}）")

    w.heading("一、基本情况")
    w.text(
        f"{f.span(doc.period_start, doc.period_end)}，监测到相关信息 {doc.items} 条，来自 {doc.sources} 个信息源。当前研判为",
        (doc.level_label or f.level_text(doc.level), {"bold": True, "colour": LEVEL_RGB.get(doc.level or 0)}),
        (f"（{doc.level_colour}预警）" if doc.level_colour else "") + f"，风险分 {f.number(doc.score)}。",
    )

    w.heading("二、事件经过")
    if doc.timeline:
        for index, item in enumerate(doc.timeline, 1):
            paragraph = w.text((f"{index}. {f.short_datetime(item.published)} ", {"bold": True}), f"{one_line(item.source)}：")
            w._link_or_text(paragraph, f.headline(item), item.url, FANGSONG, SIZE_3)
    else:
        w.note("暂无可列出的节点信息。")

    w.heading("三、传播情况")
    w.subheading("（一）时段分布")
    if doc.by_hour:
        w.picture(charts.hour_chart(doc.by_hour, tz=f.tz, text=False).png(), "图1　每小时信息量（柱高为条数，数据见下表）")
        _label_rows(w, f.hour_labels(doc.by_hour), [h.count for h in doc.by_hour], columns=12)
    else:
        w.note("暂无数据。")
    w.subheading("（二）来源分布")
    _counts_or_note(w, doc.by_source, "信息源", "暂无数据。")

    w.heading("四、重点信息")
    w.items(doc.key_items, "暂无重点信息。", print_urls=True)

    w.heading("五、热词")
    if doc.hot_words:
        w.text("、".join(one_line(word) for word, _ in doc.hot_words) + "。")
    else:
        w.note("暂无热词。")

    w.heading("六、涉及风险点和责任单位")
    w.text("风险点：" + ("、".join(one_line(p) for p in doc.risk_points) if doc.risk_points else "未命中风险点") + "。")
    w.text("责任单位：" + ("、".join(one_line(u) for u in doc.units) if doc.units else "暂未确定") + "。")

    w.heading("七、研判意见")
    w.text("研判级别：", (doc.level_label or f.level_text(doc.level), {"bold": True, "colour": LEVEL_RGB.get(doc.level or 0)}),
           (f"（{doc.level_colour}）" if doc.level_colour else "") + f"，风险分 {f.number(doc.score)}")  # fmt: skip
    if doc.parts:
        w.table(
            ["构成", "分值", "说明"],
            [[p.label, f"{p.points:+g}", p.detail] for p in doc.parts],
            [30.0, 18.0, 108.0],
            numeric=(1,),
        )
    if doc.response_lines:
        w.subheading("快速回应")
        for line in doc.response_lines:
            w.text(line)
    w.paragraphs(doc.assessment)
    if doc.approved_assessment:
        _approved_assessment(w, doc.approved_assessment, "中心研判（已签发）")

    w.heading("八、处置建议")
    w.paragraphs(doc.suggested_handling)
    w.closing(f.cn_date(doc.generated_at))
    w.distribution("报送", doc.recipients or ("（未指定）",), f"{f.cn_date(doc.generated_at)}印发")


def _label_rows(w: _Writer, labels: Sequence[str], values: Sequence[int | Cell], *, columns: int) -> None:
    """Figures under their labels, ``columns`` to a row pair: compact enough for 24 hours or 15 days."""
    rows: list[list[str | int | Cell]] = []
    for start in range(0, len(labels), columns):
        pad = [""] * (columns - len(labels[start : start + columns]))
        rows.append([*(Cell(label, bold=True) for label in labels[start : start + columns]), *pad])
        rows.append([*values[start : start + columns], *pad])
    w.table(rows[0], rows[1:], [TYPE_AREA_WIDTH_MM / columns] * columns, numeric=range(columns), size=SIZE_5)


def _approved_assessment(w: _Writer, assessment: ApprovedAssessment, heading: str) -> None:
    w.subheading(heading)
    w.note(f"{one_line(assessment.approved_by)} 于 {w.f.datetime(assessment.approved_at)} 签发")
    for label, text in assessment.sections():
        w.text((f"{label}：", {"bold": True}))
        w.paragraphs(text)


def _supervision(w: _Writer, doc: SupervisionNotice) -> None:
    f = w.f
    within = f"（{doc.work_days} 个工作日内）" if doc.work_days else ""
    w.masthead(doc.number)
    w.title(doc.title)
    if doc.case_number:
        w.subtitle(f"（督办编号：{one_line(doc.case_number)}）")
    w.addressee(doc.unit)
    w.heading("一、监测情况")
    w.paragraphs(doc.seen)
    w.subheading(f"网民反映的问题（{len(doc.items)} 条）")
    w.items(doc.items, "暂未见网民投诉或提问。", print_urls=True, with_points=False)
    if doc.approved_assessment:
        _approved_assessment(w, doc.approved_assessment, "研判意见")
    w.heading("二、核查反馈要求")
    w.paragraphs(doc.requirements)
    w.heading("三、办理时限")
    w.text("请于", (f.cn_datetime(doc.deadline), {"bold": True, "colour": RED}),
           f"前{within}将核查处置情况书面反馈{one_line(w.office.name)}"
           + (f"（督办编号 {one_line(doc.case_number)}）" if doc.case_number else "") + "。逾期未反馈的，按超期督办处理。")  # fmt: skip
    if doc.co_units:
        w.text("协办单位：" + "、".join(one_line(u) for u in doc.co_units) + "。")
    if doc.contact:
        w.text(f"联系方式：{one_line(doc.contact)}")
    if doc.receipt:
        w.heading("四、回执")
        w.text(doc.receipt)
        w.table(["签收单位", "签收时间", "经办人（岗位）", "办理情况"], [[doc.unit, "", "", ""]], [40.0, 32.0, 32.0, 52.0])
    w.closing(f.cn_date(doc.issued_at))


def _risk_notice(w: _Writer, doc: RiskNoticeLetter) -> None:
    f = w.f
    w.masthead(doc.number)
    w.title("网络风险提示函")
    w.subtitle(
        f"（{one_line(doc.subject_title)}）" if doc.subject_title else f"（关于“{one_line(doc.risk_point)}”网络舆情风险的提示）"
    )
    w.addressee("、".join(one_line(u) for u in doc.units))
    if doc.foreseen:
        w.heading("一、风险提示")
        w.paragraphs(doc.foreseen)
        w.text("为防患于未然、把工作做在前面，现予提示，请提前研判、及早处置。")
        w.heading("二、工作要求")
        w.paragraphs(doc.watch)
        w.text("请于收到本函当日在舆情工作台「通知」页签收（回执）。")
        w.closing(f.cn_date(doc.issued_at))
        return
    category = f"（{one_line(doc.category)}）" if doc.category else ""
    w.text(
        f"经监测，截至{f.cn_date(doc.day)}，近24小时与“{one_line(doc.risk_point)}”{category}相关的网络信息",
        (f" {doc.current} 条", {"bold": True, "colour": RED}),
        f"，近 {len(doc.baseline)} 日平均每日约 {f.number(doc.expected)} 条，{f.ratio(doc.current, doc.expected)}，"
        "呈明显上升态势。为防患于未然，现予提示，请提前研判、及早处置。",
    )
    w.heading("一、信号变化")
    w.picture(
        charts.sparkline(doc.baseline, doc.current, doc.expected, text=False).png(),
        f"图1　近{len(doc.baseline)}日每日信息量（灰）与当日（红），虚线为平时水平",
        width_mm=100.0,
    )
    days = len(doc.baseline)
    labels = [f"前{days - i}日" for i in range(days)] + ["当日"]
    _label_rows(w, labels, [*doc.baseline, Cell(str(doc.current), bold=True, colour=RED)], columns=8)
    w.heading("二、信息示例")
    w.items(doc.examples, "暂无示例。", print_urls=True, with_points=False)
    w.heading("三、需关注事项")
    w.paragraphs(doc.watch)
    if doc.extra:
        w.table(["事项", "内容"], [[Cell(k, bold=True), v] for k, v in doc.extra.items()], [40.0, 116.0])
    w.closing(f.cn_date(doc.issued_at))


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
    _Writer._run(paragraph, "— ", SONGTI, SIZE_4)
    number = _Writer._run(paragraph, "1", SONGTI, SIZE_4)  # what Word shows until it updates the field
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number._element.addprevious(field)
    field.append(number._element)
    _Writer._run(paragraph, " —", SONGTI, SIZE_4)


def _width_in_chars(text: str) -> float:
    """Width in full-width characters: ASCII letters and digits count half."""
    return sum(0.5 if ord(ch) < 0x80 else 1.0 for ch in text)
