"""Charts for the DOCX, drawn by matplotlib with Chinese titles, axis labels and legends, as PNG at 2x.

The HTML keeps its inline SVG charts (``charts``): they scale to a phone and
need no font on the server. Word cannot show SVG everywhere, so for the DOCX
the same charts are drawn here with a CJK font found by matplotlib's
``font_manager`` (the first of ``CJK_FONTS`` installed; ``fonts-noto-cjk``
on Debian). Without any CJK font the charts are still drawn, with the
default font, and a warning is logged once: their Chinese text would show
as boxes, but the caption under each chart is Word text and stays readable.

Each function is cached on its (hashable) data: one report's several renderings draw each chart once.

Example::

    png = trend_png(report.trend)     # bytes of a PNG, 2x for a 14 cm wide picture
"""

from __future__ import annotations

import io
import logging
from datetime import tzinfo
from functools import lru_cache
from typing import Any

from yuqing_core.reports.model import Count, HourCount, TrendPoint
from yuqing_core.timeutil import SHANGHAI, to_local

log = logging.getLogger(__name__)

# Tried in order; the first one matplotlib knows is used for every text of every chart.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
WIDTH_IN = 5.5  # 14 cm: the picture's width in the DOCX
DPI = 200  # about 2x a screen's 96 dpi at that width
COLOUR_ITEMS = "#7a8799"
COLOUR_RELEVANT = "#1f6fb2"
COLOUR_SENSITIVE = "#c53030"
COLOUR_BASELINE = "#9aa4b2"
SOURCE_ROWS = 10


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of the first installed CJK font of ``CJK_FONTS``, or None (logged once)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:
        # matplotlib keeps the font list it found on first use in its cache; a CJK font installed
        # after that (apt-get install fonts-noto-cjk, as the warning asks) is not in it. Add the
        # system's font files it does not list, once, and look again.
        known = {font.fname for font in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read
                    continue
        installed = {font.name for font in font_manager.fontManager.ttflist}
        found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:
        log.warning("没有找到中文字体（如 fonts-noto-cjk）：DOCX 图表中的中文将无法显示")
    return found


def _figure(height_in: float) -> tuple[Any, Any]:
    # The object API with the Agg canvas, not pyplot: no global state, safe in worker threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e2e6ec", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _png(figure: Any) -> bytes:
    from matplotlib import rc_context

    out = io.BytesIO()
    with rc_context(_style()):  # text is laid out again when saved: with the same fonts
        figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _style() -> dict[Any, Any]:  # matplotlib types rc keys as literals
    font = cjk_font()
    return {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "font.size": 9, "axes.unicode_minus": False}


@lru_cache(maxsize=32)
def trend_png(points: tuple[TrendPoint, ...]) -> bytes:
    return _png(trend_figure(points))


def trend_figure(points: tuple[TrendPoint, ...]) -> Any:
    """Items collected, relevant and sensitive per day."""
    from matplotlib import rc_context

    with rc_context(_style()):
        figure, axes = _figure(2.6)
        labels = [f"{p.day:%m-%d}" for p in points]
        axes.plot(labels, [p.items for p in points], color=COLOUR_ITEMS, linestyle="--", linewidth=1.2, label="采集")
        axes.plot(
            labels, [p.relevant for p in points], color=COLOUR_RELEVANT, linewidth=1.8, marker="o", markersize=3, label="相关"
        )
        axes.bar(labels, [p.sensitive for p in points], color=COLOUR_SENSITIVE, alpha=0.85, width=0.5, label="敏感")
        axes.set_title(f"近{len(points)}日信息量")
        axes.set_xlabel("日期")
        axes.set_ylabel("信息量（条）")
        axes.tick_params(axis="x", labelrotation=45, labelsize=7)
        axes.legend(loc="best", frameon=False, ncols=3)
        return figure


@lru_cache(maxsize=32)
def hour_png(hours: tuple[HourCount, ...], tz: tzinfo = SHANGHAI) -> bytes:
    return _png(hour_figure(hours, tz))


def hour_figure(hours: tuple[HourCount, ...], tz: tzinfo = SHANGHAI) -> Any:
    """Items per local hour."""
    from matplotlib import rc_context

    with rc_context(_style()):
        figure, axes = _figure(2.4)
        local = [to_local(h.hour, tz) for h in hours]
        several_days = bool(local) and local[0].date() != local[-1].date()
        labels = [f"{t:%d日%H时}" if several_days else f"{t:%H时}" for t in local]
        axes.bar(range(len(hours)), [h.count for h in hours], color=COLOUR_RELEVANT, width=0.7)
        step = max(1, len(labels) // 12)
        axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, fontsize=7)
        axes.set_title("每小时信息量")
        axes.set_xlabel("时段")
        axes.set_ylabel("信息量（条）")
        return figure


@lru_cache(maxsize=32)
def source_png(counts: tuple[Count, ...]) -> bytes:
    return _png(source_figure(counts))


def source_figure(counts: tuple[Count, ...]) -> Any:
    """Items per source, the largest first (at most ``SOURCE_ROWS``)."""
    from matplotlib import rc_context

    shown = list(counts)[:SOURCE_ROWS]
    with rc_context(_style()):
        figure, axes = _figure(0.6 + 0.28 * max(1, len(shown)))
        axes.grid(axis="x", color="#e2e6ec", linewidth=0.6)
        axes.grid(axis="y", visible=False)
        names = [c.label if len(c.label) <= 14 else c.label[:13] + "…" for c in shown][::-1]
        values = [c.count for c in shown][::-1]
        bars = axes.barh(names, values, color=COLOUR_RELEVANT, height=0.6)
        axes.bar_label(bars, padding=2, fontsize=7)
        axes.set_title("各信息源信息量" + (f"（前{SOURCE_ROWS}个）" if len(counts) > SOURCE_ROWS else ""))
        axes.set_xlabel("信息量（条）")
        axes.set_ylabel("信息源")
        return figure


@lru_cache(maxsize=32)
def baseline_png(baseline: tuple[int, ...], current: int, expected: float) -> bytes:
    return _png(baseline_figure(baseline, current, expected))


def baseline_figure(baseline: tuple[int, ...], current: int, expected: float) -> Any:
    """The days before (grey) and the day (red), with the usual level dashed."""
    from matplotlib import rc_context

    with rc_context(_style()):
        figure, axes = _figure(2.2)
        days = len(baseline)
        labels = [f"前{days - i}日" for i in range(days)] + ["当日"]
        colours = [COLOUR_BASELINE] * days + [COLOUR_SENSITIVE]
        axes.bar(labels, [*baseline, current], color=colours, width=0.6)
        axes.axhline(expected, color=COLOUR_ITEMS, linestyle="--", linewidth=1, label=f"平时水平（约{expected:.1f}条）")
        axes.set_title(f"近{days}日与当日信息量")
        axes.set_xlabel("日期")
        axes.set_ylabel("信息量（条）")
        axes.tick_params(axis="x", labelsize=7, labelrotation=45)
        axes.legend(loc="upper left", frameon=False)
        return figure
