"""Rendering the four documents: content, escaping of hostile feed text, DOCX layout, short texts,
template overrides and charts. Every sample of ``reports.samples`` is rendered in every format."""

from __future__ import annotations

import html as htmllib
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import markdown_it
import pytest
from docx import Document as open_docx
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing_core.reports import charts
from yuqing_core.reports.formats import markdown_escape, one_line, safe_url
from yuqing_core.reports.model import Count, HourCount, TrendPoint
from yuqing_core.reports.render import (
    SHORT_TEXT_LIMIT,
    RenderedFiles,
    Renderer,
    TemplatesError,
    fit_text,
    short_text,
    suggested_handling,
)
from yuqing_core.reports.samples import (
    CASES_NOT_AVAILABLE,
    HOSTILE_SCRIPT_TITLE,
    SAMPLES,
    busy_daily_report,
    daily_report,
    special_report,
    supervision_notice,
)

DAILY_HEADINGS = ["一、总体情况", "二、舆情事件", "三、新增预警", "四、敏感信息", "五、正面宣传", "六、督办情况",
                  "七、信息来源", "八、信息源覆盖", "九、热词"]  # fmt: skip
SPECIAL_HEADINGS = ["一、基本情况", "二、事件概况", "三、群众关切", "四、官方回应", "五、事件经过", "六、传播情况", "七、重点信息",
                    "八、热词", "九、涉及风险点和责任单位", "十、研判意见", "十一、处置建议"]  # fmt: skip
RENDERER = Renderer()


@cache
def rendered(name: str) -> tuple[str, str, str]:
    """(html, markdown, short text) of a sample, rendered once per test session."""
    doc = SAMPLES[name]()
    return RENDERER.html(doc), RENDERER.markdown(doc), RENDERER.short_text(doc)


@cache
def docx_text(name: str) -> str:
    """Every paragraph and table cell of a sample's DOCX, one per line."""
    document = open_docx(io.BytesIO(RENDERER.docx_bytes(SAMPLES[name]())))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def all_formats(name: str) -> dict[str, str]:
    html, md, _text = rendered(name)
    return {"html": visible_text(html), "markdown": md_text(md), "docx": docx_text(name)}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title", "svg"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "svg"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def parse_html(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def visible_text(html: str) -> str:
    return " ".join("".join(parse_html(html).text).split())


def markdown_to_html(md: str) -> str:
    # html=True on purpose: raw HTML in the Markdown would pass through and be caught below.
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def md_text(md: str) -> str:
    return visible_text(markdown_to_html(md))


def hrefs(html: str) -> list[str]:
    return [attrs.get("href") or "" for tag, attrs in parse_html(html).tags if "href" in attrs]


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


# --- every kind, every format ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_writes_all_four_files_atomically(name: str, tmp_path: Path) -> None:
    doc = SAMPLES[name]()
    files = RENDERER.write(doc, tmp_path / "out", name)
    assert isinstance(files, RenderedFiles)
    assert files.all == [files.html, files.markdown, files.docx, files.text]
    assert [p.name for p in files.all] == [f"{name}.html", f"{name}.md", f"{name}.docx", f"{name}.txt"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in files.all)  # no temporaries left
    assert files.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert files.markdown.read_text(encoding="utf-8").startswith("# ")
    assert len(files.text.read_text(encoding="utf-8").rstrip("\n")) <= SHORT_TEXT_LIMIT
    assert zipfile.is_zipfile(files.docx)
    assert doc.number in files.html.read_text(encoding="utf-8")

    again = RENDERER.write(doc, tmp_path / "out", name)  # replacing existing files is fine too
    assert again == files and len(list((tmp_path / "out").iterdir())) == 4


def test_write_refuses_a_basename_that_is_a_path(tmp_path: Path) -> None:
    for bad in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            RENDERER.write(daily_report(), tmp_path, bad)
    assert not list(tmp_path.iterdir())


def test_docx_writes_to_the_given_path(tmp_path: Path) -> None:
    path = RENDERER.docx(supervision_notice(), tmp_path / "sub" / "notice.docx")
    assert path == tmp_path / "sub" / "notice.docx" and zipfile.is_zipfile(path)


# --- content ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_daily_report_says_what_a_leader_needs(fmt: str) -> None:
    text = all_formats("daily")[fmt]
    for heading in DAILY_HEADINGS:
        assert heading in text, heading
    assert text.index(DAILY_HEADINGS[0]) < text.index(DAILY_HEADINGS[-1])
    for figure in ("1286", "214", "37", "12"):
        assert figure in text
    assert "II级（重大）" in text and "橙色" in text  # the event's warning level
    assert "原为III级（较大）" in text  # a downgraded warning shows what it was
    assert CASES_NOT_AVAILABLE in text  # cases stage not there yet: said with its note
    assert "12 个信息源中 9 个正常" in text
    for source in ("青禾吧", "江华电视台", "云江新闻网"):  # failing, silent, disabled: named
        assert source in text
    assert "HTTP 503" in text
    assert "化工园区异味泄漏" in text and "县应急管理局" in text
    assert "青禾县与三家企业集中签约" in text  # positive coverage listed
    assert "东坪村" in text  # hot words


def test_daily_events_are_ordered_by_risk_score() -> None:
    # The one risk score orders events (issue 10: leaders see one number); heat (热度) no longer does:
    # the tea festival, hotter than the compensation debate, is positive coverage and scores 0.
    text = all_formats("daily")["html"]
    titles = ["白沙镇东坪村周边异味", "柳湾镇安置小区项目工人", "城东片区征收补偿标准", "第五届梅岭茶文化旅游节开幕"]
    section = text[text.index("二、舆情事件") : text.index("三、新增预警")]
    assert [section.index(t) for t in titles] == sorted(section.index(t) for t in titles)


def test_daily_trend_chart_and_table() -> None:
    html, md, _ = rendered("daily")
    (trend, *_rest) = svgs(html)
    assert "近14日信息量趋势" in trend and "11-28" in trend and "采集" in trend and "敏感" in trend
    assert "| 11-28 | 1286 | 214 | 37 |" in md
    assert "11-28" in docx_text("daily") and "1286" in docx_text("daily")


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_an_empty_day_says_nothing_was_collected_and_points_at_coverage(fmt: str) -> None:
    text = all_formats("daily-empty")[fmt]
    assert "本日未采集到任何信息" in text
    assert "不代表没有舆情风险" in text
    assert "八、信息源覆盖" in text
    assert "12 个信息源中 2 个正常" in text
    assert "青禾论坛" in text and "连接超时" in text  # failing sources named
    assert "本日无舆情事件" in text and "本日无新增预警" in text


def test_an_empty_day_links_to_its_coverage_section() -> None:
    html, _, text = rendered("daily-empty")
    assert 'href="#coverage"' in html and 'id="coverage"' in html
    assert "未采集到任何信息" in text and "12 个信息源中 2 个正常" in text


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_a_busy_day_lists_every_event_and_the_cases(fmt: str) -> None:
    text = all_formats("daily-busy")[fmt]
    assert "第1起事件" in text and "第40起事件" in text
    assert "I级（特别重大）" in text
    for case in ("督〔2026〕41号", "督〔2026〕33号", "超期4天", "县交通运输局"):
        assert case in text
    assert "按期办结率" in text and "50.0%" in text


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_special_report(fmt: str) -> None:
    text = all_formats("special")[fmt]
    for heading in SPECIAL_HEADINGS:
        assert heading in text, heading
    assert "关于白沙镇东坪村周边异味事件的舆情专报" in text and "青舆专〔2026〕27号" in text
    assert "58" in text and "II级（重大）" in text
    assert "县生态环境局关于白沙镇周边异味问题的回应" in text  # timeline
    assert "强烈要求公开化工园区监测数据" in text  # key items
    assert suggested_handling(2).splitlines()[0] in text  # handling text for level II
    assert "报送" in text and "县委书记、县长、县委宣传部部长" in text and "抄送" in text and "县生态环境分局" in text
    assert "储罐阀门密封件老化" in text and "井水取样检测" in text  # what happened, what the public asks
    assert "首次回应，超时" in text and "11:30" in text  # the official response, timed


WEEKLY_HEADINGS = ["一、总体情况", "二、舆情事件及处置", "三、回应时效", "四、督办情况", "五、风险点变化"]


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_weekly_report(fmt: str) -> None:
    text = all_formats("weekly")[fmt]
    assert [text.index(h) for h in WEEKLY_HEADINGS] == sorted(text.index(h) for h in WEEKLY_HEADINGS)
    assert "舆情周报" in text and "青舆周〔2026〕48号" in text and "2026年第48周（11月23日至11月29日）" in text
    assert "6702" in text and "督〔2026〕41号" in text and "超时（2026-11-28 11:30）" in text  # the week before; handling
    assert "县交通运输局" in text and "50.0%" in text  # on time by unit
    assert "化工园区异味泄漏" in text and "+58" in text.replace("\\+", "+")  # risk points rising
    assert "报：县委书记、县长、县委宣传部部长" in text.replace("：\n", "：") and "印发" in text  # the 版记


def test_weekly_short_text_names_the_incidents_and_their_handling() -> None:
    _, _, text = rendered("weekly")
    assert text.startswith("【舆情周报】青禾县2026年第48周") and "（II级，超时）" in text and "风险上升" in text
    assert len(text) <= SHORT_TEXT_LIMIT


def test_special_report_links_and_charts() -> None:
    html, md, _ = rendered("special")
    assert "https://demo.qinghe.example/9012.html" in hrefs(html)
    assert "(https://demo.qinghe.example/9012.html)" in md
    titles = [ET.fromstring(svg).findtext("{http://www.w3.org/2000/svg}title") for svg in svgs(html)]
    assert titles == ["传播时段分布（每小时信息量）", "信息来源分布（各信息源信息量）"]


def test_unrated_special_report() -> None:
    for text in all_formats("special-unrated").values():
        assert "未达预警级别" in text and "未命中风险点" in text
    assert suggested_handling(None).splitlines()[0] in all_formats("special-unrated")["html"]


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_supervision_notice(fmt: str) -> None:
    text = all_formats("supervision")[fmt]
    assert [text.index(h) for h in ("一、监测情况", "二、核查反馈要求", "三、办理时限")] == sorted(
        text.index(h) for h in ("一、监测情况", "二、核查反馈要求", "三、办理时限")
    )
    assert "县生态环境分局：" in text
    assert "2026年12月1日（星期二）17:00" in text  # the deadline, with the weekday
    assert "督〔2026〕41号" in text
    assert "县应急管理局" in text and "白沙镇人民政府" in text  # co-units
    assert "异味溯源排查" in text  # what to verify
    assert "0000-1234567" in text
    assert "督办编号" not in all_formats("supervision-no-case")[fmt]


@pytest.mark.parametrize("fmt", ["html", "markdown", "docx"])
def test_risk_notice_letter(fmt: str) -> None:
    text = all_formats("risk-notice")[fmt]
    assert "网络风险提示函" in text and "县人社局、县住建局" in text
    assert "拖欠农民工工资" in text and "劳动保障" in text
    assert "9 条" in text and "1.3 条" in text and "约为平时的 6.9 倍" in text
    assert "安置小区工地拖欠我们工资三个月了" in text  # examples
    assert "讨说法" in text  # what to watch
    assert "p < 0.001" in text  # extra


def test_risk_notice_sparkline() -> None:
    html = rendered("risk-notice")[0]
    (spark,) = svgs(html)
    root = ET.fromstring(spark)
    assert "当日 9 条" in root.get("aria-label", "")
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 15  # 14 days and today


# --- hostile input -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_html_never_carries_script_handlers_or_javascript_links(name: str) -> None:
    html = rendered(name)[0]
    assert "<script" not in html.lower()
    tags = parse_html(html).tags
    assert not [tag for tag, _ in tags if tag in ("script", "img", "iframe", "object", "embed")]
    assert not [attr for _, attrs in tags for attr in attrs if attr.startswith("on")]
    for href in hrefs(html):
        assert href.startswith(("https://", "http://", "#")), href
    assert "javascript:" not in " ".join(str(v) for _, attrs in tags for v in attrs.values())
    assert "default-src 'none'" in html  # and a browser would refuse to run scripts anyway


def test_hostile_titles_show_as_text() -> None:
    html, md, _text = rendered("daily")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in visible_text(html)
    assert "[点我](javascript:alert(1)) **粗体**" in visible_text(html)
    assert "<script>alert(1)</script>" in md_text(md)
    assert "[点我](javascript:alert(1)) **粗体** 看看 <img src=x onerror=alert(2)>" in md_text(md)
    assert HOSTILE_SCRIPT_TITLE in docx_text("daily")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_markdown_has_no_raw_html_and_no_javascript_link(name: str) -> None:
    md = rendered(name)[1]
    assert not re.search(r"<[A-Za-z/!?]", md), "raw HTML in Markdown"
    assert "](javascript:" not in md
    html = markdown_to_html(md)
    tags = parse_html(html).tags
    assert not [tag for tag, _ in tags if tag in ("script", "img", "iframe")]
    for href in hrefs(html):
        assert href.startswith(("https://", "http://")), href
    assert "<strong>粗体</strong>" not in html  # ** from a title is not emphasis


@pytest.mark.parametrize("name", ["daily", "daily-busy", "special", "risk-notice"])
def test_markdown_tables_stay_tables(name: str) -> None:
    md = rendered(name)[1]
    tables = len(re.findall(r"^\|[-:|]+\|$", md, re.M))  # one delimiter row per table
    assert tables >= 2 and markdown_to_html(md).count("<table>") == tables


MARKDOWN_TRICKS = ["# 标题", "- 列表", "+ 加", "1. 有序", "2) 有序", "| a | b |", "`code`", "~~删~~", "<b>x</b>", "&lt;",
                   "&amp; &#65;", "_x_", "*y*", "[a](b)", "![i](j)", "\\", "---", "===", "> 引用", "    缩进", "a  b\nc",
                   "http://x.cn/a_b_c", "<http://x.cn>", "javascript:alert(1)", "**粗体**", "\u202e反转\u202c"]  # fmt: skip


@pytest.mark.parametrize("value", MARKDOWN_TRICKS)
@pytest.mark.parametrize("where", ["line", "cell"])
def test_markdown_escape_shows_the_text_literally(value: str, where: str) -> None:
    assert markdown_round_trip(value, where) == one_line(value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#*_`[]()<>!|~\\-+=.&;:/ \n\tax19中文")) | st.characters(), max_size=40))
def test_markdown_escape_round_trips_any_text(value: str) -> None:
    assert markdown_round_trip(value, "line") == one_line(value)
    assert markdown_round_trip(value, "cell") == one_line(value)


def markdown_round_trip(value: str, where: str) -> str:
    """What a CommonMark/GFM viewer shows for an escaped value at the start of a line, or in a table cell."""
    escaped = markdown_escape(value)
    source = f"{escaped}\n" if where == "line" else f"| h |\n|---|\n| {escaped} |\n"
    html = markdown_to_html(source)
    assert "<a " not in html and "<em>" not in html and "<strong>" not in html and "<code>" not in html
    assert not re.search(r"<(h\d|hr|ul|ol|li|blockquote|pre|del|br)\b", html), html
    match = re.search(r"<p>(.*)</p>" if where == "line" else r"<td>(.*)</td>", html, re.S)
    return htmllib.unescape(match.group(1)) if match else ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.cn/a?b=1&c=2", "https://example.cn/a?b=1&c=2"),
        ("HTTP://EXAMPLE.CN/", "HTTP://EXAMPLE.CN/"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:msgbox", None),
        ("//example.cn/x", None),
        ("/relative", None),
        ("https://", None),
        ("https://exa mple.cn", None),
        ("https://example.cn/\u202e", None),
        (None, None),
        ("", None),
        ("https://example.cn/" + "a" * 3000, None),
    ],
)
def test_only_http_links_are_links(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_links_are_checked_again_in_every_format() -> None:
    html, md, _ = rendered("supervision")
    assert "javascript" not in " ".join(hrefs(html))
    assert "](javascript" not in md
    document = open_docx(io.BytesIO(RENDERER.docx_bytes(supervision_notice())))
    targets = [rel.target_ref for rel in document.part.rels.values() if rel.reltype.endswith("/hyperlink")]
    assert targets and all(t.startswith("https://") for t in targets)


# --- DOCX layout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["daily", "special", "supervision", "risk-notice"])
def test_docx_is_an_official_document(name: str) -> None:
    doc = SAMPLES[name]()
    document = open_docx(io.BytesIO(RENDERER.docx_bytes(doc)))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    assert abs(section.top_margin - Mm(37)) < Mm(1) and abs(section.left_margin - Mm(28)) < Mm(1)

    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    secret, issuer, number, *_ = paragraphs
    assert secret.text == "内部资料 注意保存" and secret.alignment is None  # the office sets it: top left, 黑体
    assert secret.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert issuer.text == "青禾县网络舆情应急监控中心"  # 发文机关标志
    assert str(issuer.runs[0].font.color.rgb) == "C00000"
    assert issuer.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"  # heavy already: not bold
    assert issuer.alignment == 1  # centred
    assert number.text == doc.number  # 发文字号
    title = next(p for p in paragraphs if p.runs and p.runs[0].font.size == Pt(22))
    assert title.alignment == 1 and title.text in ("舆情日报", "网络风险提示函", getattr(doc, "title", ""))

    texts = [p.text for p in paragraphs]
    closing = texts.index("青禾县网络舆情应急监控中心", 2)  # 落款: office, then date
    assert re.fullmatch(r"2026年\d{1,2}月\d{1,2}日", texts[closing + 1])
    assert bool(document.tables) == (name != "supervision")  # the notice is a letter: no figures to tabulate

    fonts = {el.get(qn("w:eastAsia")) for el in document.element.body.iter(qn("w:rFonts"))}
    assert {"方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"} <= fonts  # GB/T 9704: title, body, headings
    title_fonts = {el.get(qn("w:eastAsia")) for el in title._p.iter(qn("w:rFonts"))}
    assert title_fonts == {"方正小标宋简体"}
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "仿宋_GB2312"
    # 版记 after the closing: 报 (the office's leaders or its distribution for this kind), then 印发机关 and 印发日期.
    banji = texts[closing + 2 :]
    assert banji[0].startswith("报：") and re.fullmatch(r"青禾县网络舆情应急监控中心\t2026年\d{1,2}月\d{1,2}日印发", banji[-1])
    footer = section.footer._element.xml
    assert 'w:instr="PAGE"' in footer and "—" in footer


def test_daily_docx_has_the_charts_with_captions_and_the_figures() -> None:
    data = RENDERER.docx_bytes(daily_report())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        images = [n for n in archive.namelist() if n.startswith("word/media/")]
        assert len(images) == 2 and all(archive.read(n).startswith(b"\x89PNG\r\n\x1a\n") for n in images)
    document = open_docx(io.BytesIO(data))
    captions = [p.text for p in document.paragraphs if p.text.startswith("图")]
    assert captions == ["图1　近14日信息量趋势（上：采集、相关；下：敏感）", "图2　各信息源信息量"]
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    assert ["信息源", "条数", "占比"] in headers
    sources = next(t for t in document.tables if t.rows[0].cells[0].text == "信息源")
    assert sources.rows[1].cells[0].text == "青禾论坛" and sources.rows[1].cells[1].text == "312"


# --- short texts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_short_texts_fit(name: str) -> None:
    text = rendered(name)[2]
    assert 0 < len(text) <= SHORT_TEXT_LIMIT
    assert text.startswith("【") and "\n\n" not in text
    assert short_text(SAMPLES[name]()) == text


def test_short_texts_keep_the_essentials() -> None:
    daily = rendered("daily")[2]
    assert len(daily) <= 200  # a leader's text message
    for essential in ("【舆情日报】青禾县11月28日", "敏感37条", "新增预警2条", "信息源异常1个",
                      "①白沙镇东坪村周边异味", "（II级，预警已确认）", "（IV级，持续关注）",  # the top matters, with their status
                      "正面：青禾县与三家企业集中签约", "全文：青舆日〔2026〕332号"):  # fmt: skip
        assert essential in daily, essential
    busy = rendered("daily-busy")[2]
    assert len(busy) <= 200 and "新增预警10条" in busy and "①第1起事件" in busy and "（I级，预警待处理）" in busy
    assert busy.endswith("全文：青舆日〔2026〕334号")  # where the full document is, never cut
    supervision = rendered("supervision")[2]
    assert "2026年12月1日（星期二）17:00" in supervision and "督〔2026〕41号" in supervision
    assert "9条" in rendered("risk-notice")[2] and "II级（重大）" in rendered("special")[2]


def test_short_text_limit_is_hard_even_for_absurd_documents() -> None:
    base = busy_daily_report()
    absurd = replace(
        base, summary="很长的一句话没有标点" * 400, coverage=replace(base.coverage, failing=base.coverage.failing * 50)
    )
    text = RENDERER.short_text(absurd)
    assert len(text) <= SHORT_TEXT_LIMIT and text.startswith("【舆情日报】")
    assert len(RENDERER.short_text(absurd, limit=60)) <= 60


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("短。", 10, "短。"),
        ("第一句。第二句很长很长。", 9, "第一句。…"),
        ("第一句。第二句很长很长。", 40, "第一句。第二句很长很长。"),
        ("第一句话，第二句很长很长很长", 8, "第一句话，…"),
        ("第一句话，第二句很长很长很长", 13, "第一句话，第二句很长很长…"),
        ("没有任何标点符号的很长的一句话", 8, "没有任何标点符…"),
        ("甲" * 20, 3, "甲甲…"),
    ],
)
def test_fit_text_cuts_at_sentence_ends(text: str, limit: int, expected: str) -> None:
    assert fit_text(text, limit, mark="…") == expected
    assert len(fit_text(text, limit)) <= limit


# --- templates --------------------------------------------------------------------------------------


def test_a_user_template_replaces_one_file_and_the_rest_falls_back(tmp_path: Path) -> None:
    (tmp_path / "daily.html.j2").write_text(
        "<p>自定义日报 {{ doc.number }} {{ doc.sensitive_items[2].title }} {{ doc.sensitive_items|join('、', attribute='title') }}</p>",
        encoding="utf-8",
    )
    renderer = Renderer(tmp_path)
    html = renderer.html(daily_report())
    assert html.startswith("<p>自定义日报 青舆日〔2026〕332号 &lt;script&gt;")  # the user's template, still autoescaped
    assert "<script" not in html
    assert renderer.markdown(daily_report()).startswith("# 舆情日报")  # no daily.md.j2 there: the package's
    assert "<!DOCTYPE html>" in renderer.html(special_report())


def test_a_user_template_can_extend_the_package_base(tmp_path: Path) -> None:
    (tmp_path / "report.css").write_text(".issuer { color: navy; }", encoding="utf-8")
    (tmp_path / "supervision.html.j2").write_text(
        '{% extends "base.html.j2" %}{% block body %}<p class="mine">{{ doc.seen }}</p>{% endblock %}', encoding="utf-8"
    )
    html = Renderer(tmp_path).html(supervision_notice())
    assert ".issuer { color: navy; }" in html and 'class="mine"' in html and "青舆督〔2026〕41号" in html


def test_user_markdown_templates_are_escaped_too(tmp_path: Path) -> None:
    (tmp_path / "daily.md.j2").write_text(
        "{% for i in doc.sensitive_items %}- {{ i.title }} / {{ i.title|replace('a', 'b') }} / {{ [i.title]|join(',') }}\n{% endfor %}",
        encoding="utf-8",
    )
    md = Renderer(tmp_path).markdown(daily_report())
    assert "](javascript:" not in md and not re.search(r"<[A-Za-z/]", md)
    assert "javascript:" not in " ".join(hrefs(markdown_to_html(md)))


def test_a_missing_templates_folder_is_an_error_that_says_so(tmp_path: Path) -> None:
    with pytest.raises(TemplatesError, match="模板目录不存在"):
        Renderer(tmp_path / "nowhere")


def test_suggested_handling_per_level() -> None:
    texts = {level: suggested_handling(level) for level in (1, 2, 3, 4, None)}
    assert len(set(texts.values())) == 5 and all(texts.values())
    assert "一级应急响应" in texts[1] and "二级应急响应" in texts[2] and "未达预警级别" in texts[None]
    assert suggested_handling(7) == texts[None]
    assert RENDERER.suggested_handling(3) == texts[3]


def test_suggested_handling_from_a_user_file_overrides_only_its_levels(tmp_path: Path) -> None:
    (tmp_path / "handling.yaml").write_text("levels:\n  I: |\n    立即报告县委书记。\n", encoding="utf-8")
    assert suggested_handling(1, tmp_path) == "立即报告县委书记。"
    assert suggested_handling(2, tmp_path) == suggested_handling(2)
    (tmp_path / "handling.yaml").write_text("levels:\n  V: 五级\n", encoding="utf-8")
    with pytest.raises(TemplatesError, match="未知级别 'V'"):
        suggested_handling(1, tmp_path)


# --- charts -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_chart_is_well_formed_svg(name: str) -> None:
    for svg in svgs(rendered(name)[0]):
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox")
        assert not root.findall(".//{http://www.w3.org/2000/svg}script")


def test_charts_survive_odd_data() -> None:
    hostile = "坏\x00\x1b<b>&amp;\"'\u202e名"
    day = date(2026, 11, 28)
    cases = [
        charts.trend_chart([]),
        charts.trend_chart([TrendPoint(day, 0, 0, 0)]),
        charts.trend_chart([TrendPoint(day + timedelta(i), 10**6 * i, 10**5, 10**4) for i in range(14)]),
        charts.hour_chart([]),
        charts.hour_chart(
            [HourCount(datetime(2026, 11, 28, h % 24, tzinfo=UTC) + timedelta(days=h // 24), h) for h in range(72)]
        ),
        charts.source_chart([]),
        charts.source_chart([Count(hostile, 0)]),
        charts.source_chart([Count(f"{hostile}{i}", i) for i in range(30)]),
        charts.sparkline([], 0, 0.0),
        charts.sparkline([0] * 14, 50, 0.2),
    ]
    for scene in cases:
        root = ET.fromstring(str(scene.svg()))
        labels = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert "\x00" not in labels and "\u202e" not in labels
    labels = " ".join(t.text or "" for t in ET.fromstring(str(charts.source_chart([Count(hostile, 3)]).svg())).iter())
    assert "坏<b>&amp;" in labels  # shown as written, minus what cannot be shown
    assert "其他21个" in str(charts.source_chart([Count(f"源{i}", i) for i in range(30)]).svg())
