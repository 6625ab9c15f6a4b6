"""The DOCX is laid out from the HTML template: overrides reach Word, fonts are named, LibreOffice opens it, charts carry text."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path

import pytest
from docx import Document as open_docx

from yuqing_core.reports import figures
from yuqing_core.reports.render import PACKAGE_TEMPLATES, Renderer
from yuqing_core.reports.samples import daily_report, special_report, supervision_notice

SOFFICE_TIMEOUT_S = 180


def docx_paragraphs(data: bytes) -> list[str]:
    return [p.text for p in open_docx(io.BytesIO(data)).paragraphs]


def test_a_template_override_reaches_the_docx(tmp_path: Path) -> None:
    template = (PACKAGE_TEMPLATES / "supervision.html.j2").read_text(encoding="utf-8")
    marker = '<section id="deadline">'
    assert marker in template
    added = "<h2>四、其他事项</h2>\n<p>请同时抄告县纪委监委，办理情况纳入年度考核。</p>\n"
    (tmp_path / "supervision.html.j2").write_text(template.replace(marker, added + marker), encoding="utf-8")
    renderer = Renderer(tmp_path)
    notice = supervision_notice()
    assert "请同时抄告县纪委监委" in renderer.html(notice)
    texts = docx_paragraphs(renderer.docx_bytes(notice))
    assert "四、其他事项" in texts and "请同时抄告县纪委监委，办理情况纳入年度考核。" in texts
    assert texts.index("四、其他事项") < texts.index("三、办理时限")  # where the template put it


def test_the_docx_xml_names_the_gbt_9704_fonts() -> None:
    with zipfile.ZipFile(io.BytesIO(Renderer().docx_bytes(special_report()))) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
        styles = archive.read("word/styles.xml").decode("utf-8")
    for font in ("方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"):
        assert f'w:eastAsia="{font}"' in xml, font
    assert 'w:eastAsia="仿宋_GB2312"' in styles  # the Normal style: body text by default
    assert 'w:ascii="Times New Roman"' in xml


def test_the_receipt_slip_is_a_form_to_fill_in_and_the_closing_stays_with_the_banji() -> None:
    notice = dataclasses.replace(supervision_notice(), receipt="请于收到本通知当日签收，或填写下方回执联反馈。")
    document = open_docx(io.BytesIO(Renderer().docx_bytes(notice)))
    texts = [p.text for p in document.paragraphs]
    assert any("".join(text.split()).startswith("回执（督办编号") for text in texts)  # the table's caption
    receipt = next(table for table in document.tables if table.cell(0, 0).text == "签收单位")
    widths = [column.width for column in receipt.columns]
    assert widths[3] >= widths[2]  # the blank column for the time of signing is not squeezed
    handling = receipt.rows[2]
    assert handling.cells[1]._tc is handling.cells[3]._tc  # 办理情况: one cell over the three columns
    closing = texts.index("青禾县网络舆情应急监控中心", 2)
    assert all(p.paragraph_format.keep_with_next for p in document.paragraphs[closing : closing + 2])
    styles = document.styles.element.xml
    assert 'w:eastAsia="zh-CN"' in styles and 'w:eastAsia="en-US"' not in styles  # Chinese text is marked Chinese


def test_charts_carry_chinese_titles_and_axis_labels_in_a_cjk_font() -> None:
    font = figures.cjk_font()
    if font is None:
        pytest.skip("没有中文字体（apt-get install fonts-noto-cjk）：图表中的中文无法绘制")
    report = daily_report()
    for figure in (figures.trend_figure(report.trend), figures.source_figure(report.by_source)):
        axes = figure.axes[0]
        assert axes.get_title() and axes.get_xlabel() and axes.get_ylabel()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in axes.get_title() + axes.get_ylabel())
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for text it cannot draw
            png = figures._png(figure)
        assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_still_found(monkeypatch) -> None:
    from matplotlib import font_manager

    font = figures.cjk_font()
    if font is None:
        pytest.skip("没有中文字体（apt-get install fonts-noto-cjk）：图表中的中文无法绘制")
    # matplotlib's cached list as it was before the font was installed: none of its files in it.
    files = {entry.fname for entry in font_manager.fontManager.ttflist if entry.name in figures.CJK_FONTS}
    cached = [entry for entry in font_manager.fontManager.ttflist if entry.fname not in files]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", cached)
    figures.cjk_font.cache_clear()
    try:
        assert figures.cjk_font() == font
    finally:
        figures.cjk_font.cache_clear()


def test_libreoffice_opens_the_docx_and_its_pdf_has_the_title_and_the_banji(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftotext = shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        pytest.skip("需要 LibreOffice（soffice）和 pdftotext（poppler-utils）才能把 DOCX 转为 PDF 检查；.ci/run 会安装它们")
    docx = tmp_path / "special.docx"
    docx.write_bytes(Renderer().docx_bytes(special_report()))
    # A profile of its own: another soffice running on this machine would otherwise take the job and drop it.
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
        check=True, capture_output=True, timeout=SOFFICE_TIMEOUT_S,
    )  # fmt: skip
    pdf = tmp_path / "special.pdf"
    assert pdf.is_file(), "LibreOffice wrote no PDF"
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60).stdout.decode()
    flat = "".join(text.split())
    assert "关于白沙镇东坪村周边异味事件的舆情专报" in flat  # the title
    assert "报：县委书记、县长、县委宣传部部长" in flat  # 版记: the office's leaders
    assert "抄送：县委网信办" in flat
    assert "青禾县网络舆情应急监控中心2026年11月28日印发" in flat  # 印发机关 and 印发日期
    assert "图1" in flat and "内部资料注意保存" in flat
