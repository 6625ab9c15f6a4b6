"""Charts for the HTML documents: inline SVG, drawn from one small description.

Each chart is first laid out as a small ``Scene`` of shapes in a fixed
coordinate space. ``Scene.svg()`` writes it as inline SVG (no script, every
text and attribute escaped, sized by its viewBox so it scales to a phone).
``text=False`` lays a chart out without labels. The DOCX draws its charts
with matplotlib instead (``figures``), with Chinese titles and axis labels,
because Word cannot show inline SVG everywhere.

Example::

    trend_chart(report.trend).svg()          # Markup, for a template
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr as _xml_quoteattr

from markupsafe import Markup

from yuqing_core.reports.model import Count, HourCount, TrendPoint
from yuqing_core.timeutil import SHANGHAI

FONT_STACK = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"

# One colour per series; the captions name them.
COLOUR_ITEMS = "#7a8799"  # 采集: slate grey
COLOUR_RELEVANT = "#1f6fb2"  # 相关: blue
COLOUR_SENSITIVE = "#c53030"  # 敏感: red
COLOUR_BAR = "#1f6fb2"
COLOUR_GRID = "#e2e6ec"
COLOUR_AXIS = "#9aa4b2"
COLOUR_TEXT = "#3c4654"
COLOUR_MUTED = "#6b7685"
COLOUR_BASELINE = "#9aa4b2"

SOURCE_CHART_ROWS = 10

# Characters XML 1.0 cannot carry, and bidirectional controls that would reorder the text around them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# --- the scene -----------------------------------------------------------------


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    colour: str
    width: float = 1.0
    dash: tuple[float, float] | None = None  # (on, off) lengths


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    colour: str
    tip: str = ""  # tooltip (SVG only)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    colour: str
    tip: str = ""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    size: float = 11
    anchor: str = "start"  # start | middle | end
    colour: str = COLOUR_TEXT
    bold: bool = False


Shape = Polyline | Rect | Dot | Label


@dataclass
class Scene:
    """Shapes in a ``width`` x ``height`` space (y grows downwards), with a title for screen readers."""

    width: float
    height: float
    title: str
    shapes: list[Shape] = field(default_factory=list)

    def add(self, *shapes: Shape) -> None:
        self.shapes.extend(shapes)

    def svg(self, css_class: str = "chart") -> Markup:
        """Inline SVG; well-formed XML whatever the labels contain."""
        title = _xml_text(self.title)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(self.width)} {_n(self.height)}" '
            f'width="100%" role="img" aria-label={_xml_attr(self.title)} class={_xml_attr(css_class)} '
            f'font-family="{FONT_STACK}">',
            f"<title>{title}</title>",
        ]
        parts.extend(_svg_shape(shape) for shape in self.shapes)
        parts.append("</svg>")
        return Markup("".join(parts))


# --- the charts ----------------------------------------------------------------


def trend_chart(points: Sequence[TrendPoint], *, text: bool = True) -> Scene:
    """Daily volume: collected and relevant as lines, sensitive as bars on a scale of their own.

    Sensitive counts are usually a hundredth of what is collected; on one
    scale their bars would be invisible, so they get the lower panel.
    """
    # Without text (the DOCX picture) there are no legend or labels to make room for, so it is flatter.
    width, height = (480.0, 280.0) if text else (480.0, 224.0)
    left, right = (50.0, 46.0) if text else (8.0, 8.0)
    top_panel = (40.0, 166.0) if text else (8.0, 138.0)
    low_panel = (198.0, 248.0) if text else (160.0, 216.0)
    scene = Scene(width, height, f"近{len(points)}日信息量趋势：采集、相关、敏感")
    if not points:
        if text:
            scene.add(Label(width / 2, height / 2, "暂无数据", 13, "middle", COLOUR_MUTED))
        return scene
    slot = (width - left - right) / len(points)
    xs = [left + slot * (index + 0.5) for index in range(len(points))]

    # upper panel: collected and relevant
    ticks = nice_ticks(max(count for p in points for count in (p.items, p.relevant)))
    y_top = _scale(top_panel, ticks[-1])
    _grid(scene, ticks, y_top, left, width - right, text)
    for attr, colour, dash, name in (
        ("items", COLOUR_ITEMS, (5.0, 3.0), "采集"),
        ("relevant", COLOUR_RELEVANT, None, "相关"),
    ):
        values = [getattr(p, attr) for p in points]
        coords = tuple((x, y_top(v)) for x, v in zip(xs, values, strict=True))
        scene.add(Polyline(coords, colour, 2.2 if dash is None else 1.8, dash))
        for (x, y), point, value in zip(coords, points, values, strict=True):
            scene.add(Dot(x, y, 2.6, colour, f"{point.day:%m-%d} {name} {value} 条"))
        if text:
            scene.add(Label(xs[-1] + 6, coords[-1][1] + 4.5, str(values[-1]), 12.5, "start", colour, True))

    # lower panel: sensitive
    low_ticks = nice_ticks(max(p.sensitive for p in points), count=2)
    y_low = _scale(low_panel, low_ticks[-1])
    _grid(scene, low_ticks, y_low, left, width - right, text)
    bar = min(18.0, slot * 0.6)
    for x, point in zip(xs, points, strict=True):
        y = y_low(point.sensitive)
        if point.sensitive:
            scene.add(
                Rect(x - bar / 2, y, bar, low_panel[1] - y, COLOUR_SENSITIVE, f"{point.day:%m-%d} 敏感 {point.sensitive} 条")
            )
            if text:
                scene.add(Label(x, y - 3, str(point.sensitive), 11, "middle", COLOUR_SENSITIVE))

    if text:
        _legend(
            scene, 50.0, 16.0, (("采集", COLOUR_ITEMS, True), ("相关", COLOUR_RELEVANT, False), ("敏感", COLOUR_SENSITIVE, None))
        )
        scene.add(Label(left - 6, top_panel[0] - 12, "条", 12, "end", COLOUR_MUTED))
        scene.add(Label(left - 6, low_panel[0] - 13, "敏感", 12, "end", COLOUR_SENSITIVE))
        step = 2 if len(points) > 8 else 1
        for index in range(len(points) - 1, -1, -step):  # always label the last day
            scene.add(Label(xs[index], height - 12, f"{points[index].day:%m-%d}", 12.5, "middle", COLOUR_TEXT))
    return scene


def hour_chart(hours: Sequence[HourCount], *, tz: tzinfo = SHANGHAI, text: bool = True) -> Scene:
    """Items per hour as vertical bars; hours are labelled ``HH时`` (with the day when the span crosses one)."""
    local = [h.hour.astimezone(tz) for h in hours]
    several_days = bool(local) and local[0].date() != local[-1].date()
    width, height = 480.0, 204.0 if several_days else 188.0
    left, right, top, bottom = (46.0, 12.0, 24.0, 158.0) if text else (8.0, 8.0, 8.0, height - 8.0)
    scene = Scene(width, height, "传播时段分布（每小时信息量）")
    if not hours:
        if text:
            scene.add(Label(width / 2, height / 2, "暂无数据", 13, "middle", COLOUR_MUTED))
        return scene
    ticks = nice_ticks(max(h.count for h in hours))
    y_of = _scale((top, bottom), ticks[-1])
    _grid(scene, ticks, y_of, left, width - right, text)
    slot = (width - left - right) / len(hours)
    bar = max(1.0, min(16.0, slot * 0.72))
    for index, (hour, when) in enumerate(zip(hours, local, strict=True)):
        x = left + slot * (index + 0.5)
        if hour.count:
            y = y_of(hour.count)
            scene.add(Rect(x - bar / 2, y, bar, bottom - y, COLOUR_BAR, f"{when:%m-%d %H}时 {hour.count} 条"))
    if text:
        scene.add(Label(left - 6, top - 10, "条", 12, "end", COLOUR_MUTED))
        step = max(1, math.ceil(len(hours) / 8))
        for index in range(0, len(hours), step):
            x = left + slot * (index + 0.5)
            when = local[index]
            scene.add(Label(x, bottom + 17, f"{when.hour}时", 12.5, "middle", COLOUR_TEXT))
            if several_days and (index == 0 or when.date() != local[index - step].date()):
                scene.add(Label(x, bottom + 33, f"{when:%m-%d}", 11, "middle", COLOUR_MUTED))
    return scene


def source_chart(counts: Sequence[Count], *, text: bool = True, rows: int = SOURCE_CHART_ROWS) -> Scene:
    """Items per source as horizontal bars, the largest first; the rest summed up as 其他."""
    ordered = sorted(counts, key=lambda c: c.count, reverse=True)
    if len(ordered) > rows:
        rest = ordered[rows - 1 :]
        ordered = [*ordered[: rows - 1], Count(f"其他{len(rest)}个", sum(c.count for c in rest), sum(c.share for c in rest))]
    row_h = 27.0
    width = 480.0
    left, right, top = (132.0, 48.0, 6.0) if text else (8.0, 8.0, 6.0)
    height = top * 2 + row_h * max(1, len(ordered))
    scene = Scene(width, height, "信息来源分布（各信息源信息量）")
    if not ordered:
        if text:
            scene.add(Label(width / 2, height / 2 + 4, "暂无数据", 13, "middle", COLOUR_MUTED))
        return scene
    biggest = max(1, ordered[0].count)
    span = width - left - right
    for index, count in enumerate(ordered):
        y = top + row_h * index
        length = span * count.count / biggest
        scene.add(
            Rect(left, y + 5, max(length, 1.0 if count.count else 0.0), row_h - 10, COLOUR_BAR, f"{count.label} {count.count} 条")
        )
        if text:
            scene.add(Label(left - 8, y + row_h / 2 + 4.5, _clip(count.label, 9), 13, "end", COLOUR_TEXT))
            scene.add(Label(left + length + 5, y + row_h / 2 + 4.5, str(count.count), 12, "start", COLOUR_MUTED))
    return scene


def sparkline(baseline: Sequence[int], current: int, expected: float, *, text: bool = True) -> Scene:
    """The baseline days as grey bars, today as a red one, the expected level as a dashed line."""
    width, height = 280.0, 72.0
    left, right, top, bottom = (4.0, 40.0, 8.0, 64.0) if text else (4.0, 4.0, 4.0, 68.0)
    values = [*baseline, current]
    scene = Scene(width, height, f"近{len(baseline)}日基线与当日：当日 {current} 条，期望 {expected:.1f} 条")
    peak = max([*values, expected, 1])
    y_of = _scale((top, bottom), peak)
    slot = (width - left - right) / len(values)
    bar = max(1.0, slot * 0.7)
    for index, value in enumerate(values):
        x = left + slot * index + (slot - bar) / 2
        today = index == len(values) - 1
        colour = COLOUR_SENSITIVE if today else COLOUR_BASELINE
        y = y_of(value)
        scene.add(
            Rect(x, y, bar, max(bottom - y, 1.0), colour, f"{'当日' if today else f'前{len(values) - 1 - index}日'} {value} 条")
        )
    scene.add(Polyline(((left, bottom + 0.5), (width - right, bottom + 0.5)), COLOUR_AXIS, 1.0))
    y_expected = y_of(expected)
    scene.add(Polyline(((left, y_expected), (width - right, y_expected)), COLOUR_TEXT, 1.2, (4.0, 3.0)))
    if text:
        scene.add(Label(width - right + 4, y_expected + 4, f"期望{expected:.1f}", 9.5, "start", COLOUR_TEXT))
        scene.add(
            Label(width - right + 4, max(y_of(current) + 8, top + 8), f"当日{current}", 9.5, "start", COLOUR_SENSITIVE, True)
        )
    return scene


def nice_ticks(peak: float, count: int = 4) -> list[int]:
    """Round axis ticks from 0 that reach ``peak``: steps of 1, 2 or 5 times a power of ten.

    >>> nice_ticks(0), nice_ticks(7), nice_ticks(1234)
    ([0, 1, 2, 3, 4], [0, 2, 4, 6, 8], [0, 500, 1000, 1500])
    """
    peak = max(float(peak), float(count))
    raw = peak / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, round(step))
    return list(range(0, math.ceil(peak / step) * step + 1, step))


# --- layout helpers --------------------------------------------------------------


def _scale(panel: tuple[float, float], top_value: float) -> Callable[[float], float]:
    low, high = panel[1], panel[0]  # y grows downwards: 0 sits at the panel's bottom

    def y_of(value: float) -> float:
        return low - (low - high) * (value / top_value if top_value else 0.0)

    return y_of


def _grid(scene: Scene, ticks: list[int], y_of: Callable[[float], float], x0: float, x1: float, text: bool) -> None:
    for tick in ticks:
        y = y_of(tick)
        scene.add(Polyline(((x0, y), (x1, y)), COLOUR_AXIS if tick == 0 else COLOUR_GRID, 1.0))
        if text:
            scene.add(Label(x0 - 6, y + 4, str(tick), 11.5, "end", COLOUR_MUTED))


def _legend(scene: Scene, x: float, y: float, entries: tuple[tuple[str, str, bool | None], ...]) -> None:
    """Entries are (name, colour, dashed); dashed None draws a bar swatch."""
    for name, colour, dashed in entries:
        if dashed is None:
            scene.add(Rect(x, y - 5, 12, 9, colour))
        else:
            scene.add(Polyline(((x, y), (x + 18, y)), colour, 2.0, (5.0, 3.0) if dashed else None))
        scene.add(Label(x + 22, y + 4.5, name, 12.5, "start", COLOUR_TEXT))
        x += 22 + 13 * len(name) + 20


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- SVG -----------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _xml_text(value: str) -> str:
    return _xml_escape(_NOT_XML.sub("", value))


def _xml_attr(value: str) -> str:
    return _xml_quoteattr(_NOT_XML.sub("", value), {"\n": " ", "\t": " ", "\r": " "})


def _tip(tip: str) -> str:
    return f"<title>{_xml_text(tip)}</title>" if tip else ""


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Polyline):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        dash = f' stroke-dasharray="{_n(shape.dash[0])} {_n(shape.dash[1])}"' if shape.dash else ""
        return (
            f'<polyline points="{points}" fill="none" stroke={_xml_attr(shape.colour)} '
            f'stroke-width="{_n(shape.width)}" stroke-linejoin="round" stroke-linecap="round"{dash}/>'
        )
    if isinstance(shape, Rect):
        return (
            f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" height="{_n(shape.h)}" '
            f"fill={_xml_attr(shape.colour)}>{_tip(shape.tip)}</rect>"
        )
    if isinstance(shape, Dot):
        return (
            f'<circle cx="{_n(shape.x)}" cy="{_n(shape.y)}" r="{_n(shape.r)}" fill={_xml_attr(shape.colour)}>'
            f"{_tip(shape.tip)}</circle>"
        )
    weight = ' font-weight="bold"' if shape.bold else ""
    return (
        f'<text x="{_n(shape.x)}" y="{_n(shape.y)}" font-size="{_n(shape.size)}" text-anchor={_xml_attr(shape.anchor)} '
        f"fill={_xml_attr(shape.colour)}{weight}>{_xml_text(shape.text)}</text>"
    )
