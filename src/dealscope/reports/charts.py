"""Charts of report sections as SVG: vector drawings WeasyPrint embeds as they are, so the
PDF's charts stay sharp at any zoom and cost milliseconds to make (no browser involved).

Line and bar charts share an axis with round ticks; funnels show each stage's count and its
conversion from the stage before; pies show the largest slices with their shares.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from dealscope.analytics.specs import Unit
from dealscope.reports.compute import Chart, Series
from dealscope.reports.formatting import format_compact
from dealscope.reports.specs import Visual

WIDTH = 680
HEIGHT = 270
FONT = "DejaVu Sans, Liberation Sans, sans-serif"
PALETTE = [
    "#1f6feb",
    "#f08c00",
    "#2f9e44",
    "#ae3ec9",
    "#e03131",
    "#0c8599",
    "#5c940d",
    "#d6336c",
    "#495057",
    "#7950f2",
    "#e8590c",
    "#1098ad",
]
MUTED = "#868e96"
GRID = "#dee2e6"


def palette(accent: str) -> list[str]:
    """The chart colours, the tenant's accent first."""
    return [accent, *[c for c in PALETTE if c.lower() != accent.lower()]]


def _text(x: float, y: float, text: str, size: float = 11, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-family="{FONT}"'
        f"{extra}>{escape(text)}</text>"
    )


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks covering [low, high] (0 included), about `count` of them."""
    low, high = min(low, 0.0), max(high, 0.0)
    if math.isclose(low, high):
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _legend(series: list[Series], colours: list[str], y: float) -> list[str]:
    parts = []
    x = 60.0
    for index, item in enumerate(series):
        colour = colours[index % len(colours)]
        dash = ' stroke-dasharray="5 3"' if item.dashed else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 16:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{colour}" stroke-width="3"{dash}/>'
        )
        label = item.name if len(item.name) <= 32 else item.name[:31] + "…"
        parts.append(_text(x + 21, y, label, 10, fill="#343a40"))
        x += 30 + 6.2 * len(label)
        if x > WIDTH - 120:
            x = 60.0
            y += 14
    return parts


def _axes_chart(chart: Chart, colours: list[str], fmt: FormatFn) -> str:
    parts: list[str] = []
    legend = len(chart.series) > 1 or chart.series[0].dashed
    top = 34.0 if legend else 14.0
    if legend:
        parts += _legend(chart.series, colours, 16)
    left, right = 64.0, WIDTH - 12.0
    longest = min(max((len(c) for c in chart.categories), default=0), 18)
    rotate = longest * 6.0 > (right - left) / max(len(chart.categories), 1)  # labels collide
    bottom = HEIGHT - (62 if rotate else 28)
    values = [v for s in chart.series for v in s.values if v is not None]
    ticks = nice_ticks(min(values, default=0.0), max(values, default=1.0))
    lo, hi = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return bottom - (value - lo) / (hi - lo) * (bottom - top)

    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="0.8"/>'
        )
        parts.append(_text(left - 6, y + 3.5, fmt(tick), 9.5, fill=MUTED, text_anchor="end"))
    count = max(len(chart.categories), 1)
    slot = (right - left) / count
    step = max(1, math.ceil(count / 24))
    for index, name in enumerate(chart.categories):
        if index % step:
            continue
        x = left + slot * (index + 0.5)
        label = name if len(name) <= 18 else name[:17] + "…"
        if rotate:
            parts.append(
                _text(
                    x,
                    bottom + 12,
                    label,
                    9,
                    fill="#495057",
                    text_anchor="end",
                    transform=f"rotate(-35 {x:.1f} {bottom + 12:.1f})",
                )
            )
        else:
            parts.append(_text(x, bottom + 16, label, 9.5, fill="#495057", text_anchor="middle"))
    zero = y_of(0.0)
    if chart.kind == Visual.BAR:
        bars = [s for s in chart.series if not s.dashed]
        width = slot * 0.8 / max(len(bars), 1)
        for number, item in enumerate(bars):
            colour = colours[number % len(colours)]
            for index, value in enumerate(item.values):
                if value is None:
                    continue
                x = left + slot * index + slot * 0.1 + width * number
                y = min(y_of(value), zero)
                height = abs(zero - y_of(value))
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 1, 1):.1f}" '
                    f'height="{height:.1f}" fill="{colour}"/>'
                )
    else:
        for number, item in enumerate(chart.series):
            colour = colours[number % len(colours)]
            dash = ' stroke-dasharray="6 4"' if item.dashed else ""
            points = [
                (left + slot * (i + 0.5), y_of(v))
                for i, v in enumerate(item.values)
                if v is not None
            ]
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.2" stroke-linejoin="round"{dash}/>'
                )
            if len(points) <= 31:
                for x, y in points:
                    parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"/>')
    parts.append(
        f'<line x1="{left}" y1="{zero:.1f}" x2="{right}" y2="{zero:.1f}" stroke="#adb5bd"/>'
    )
    return "".join(parts)


def _funnel(chart: Chart, colours: list[str], fmt: FormatFn) -> str:
    values = [v or 0.0 for v in chart.series[0].values]
    widest = max(values, default=0.0) or 1.0
    rows = len(values)
    band = (HEIGHT - 16) / max(rows, 1)
    centre = 360.0
    parts = []
    for index, (name, value) in enumerate(zip(chart.categories, values, strict=True)):
        y = 8 + band * index
        width = max(4.0, 420 * value / widest)
        parts.append(
            f'<rect x="{centre - width / 2:.1f}" y="{y + 3:.1f}" width="{width:.1f}" '
            f'height="{band - 6:.1f}" rx="3" fill="{colours[0]}" '
            f'fill-opacity="{1 - 0.12 * index:.2f}"/>'
        )
        mid = y + band / 2 + 4
        parts.append(_text(12, mid, name, 11, fill="#343a40"))
        inside = width > 70
        parts.append(
            _text(
                centre if inside else centre + width / 2 + 6,
                mid,
                fmt(value),
                11,
                fill="#ffffff" if inside else "#212529",
                text_anchor="middle" if inside else "start",
                font_weight="bold",
            )
        )
        if index:
            before = values[index - 1]
            share = f"{value / before * 100:.1f}% of the stage before" if before else "–"
            parts.append(_text(WIDTH - 8, mid, share, 9.5, fill=MUTED, text_anchor="end"))
    return "".join(parts)


def _pie(chart: Chart, colours: list[str], fmt: FormatFn) -> str:
    values = chart.series[0].values
    total = sum(v or 0.0 for v in values)
    cx, cy, radius, hole = 150.0, HEIGHT / 2, 108.0, 58.0
    parts = []
    if total <= 0:
        parts.append(_text(cx, cy, "No data in this period", 12, fill=MUTED, text_anchor="middle"))
        return "".join(parts)
    angle = -math.pi / 2
    for index, value in enumerate(values):
        share = (value or 0.0) / total
        colour = colours[index % len(colours)]
        if share >= 0.9999:
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="{(radius + hole) / 2}" fill="none" '
                f'stroke="{colour}" stroke-width="{radius - hole}"/>'
            )
        elif share > 0:
            end = angle + share * 2 * math.pi
            large = 1 if share > 0.5 else 0
            outer = (
                cx + radius * math.cos(angle),
                cy + radius * math.sin(angle),
                cx + radius * math.cos(end),
                cy + radius * math.sin(end),
            )
            inner = (
                cx + hole * math.cos(end),
                cy + hole * math.sin(end),
                cx + hole * math.cos(angle),
                cy + hole * math.sin(angle),
            )
            parts.append(
                f'<path d="M{outer[0]:.2f},{outer[1]:.2f} A{radius},{radius} 0 {large} 1 '
                f"{outer[2]:.2f},{outer[3]:.2f} L{inner[0]:.2f},{inner[1]:.2f} "
                f'A{hole},{hole} 0 {large} 0 {inner[2]:.2f},{inner[3]:.2f} Z" fill="{colour}" '
                'stroke="#ffffff" stroke-width="1"/>'
            )
        angle += share * 2 * math.pi
    parts.append(
        _text(cx, cy + 5, fmt(total), 14, fill="#212529", text_anchor="middle", font_weight="bold")
    )
    for index, (name, value) in enumerate(zip(chart.categories, values, strict=True)):
        y = 30 + index * 25
        colour = colours[index % len(colours)]
        parts.append(f'<rect x="300" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        label = name if len(name) <= 28 else name[:27] + "…"
        parts.append(_text(320, y, label, 11, fill="#343a40"))
        share = (value or 0.0) / total * 100
        parts.append(
            _text(
                WIDTH - 10,
                y,
                f"{fmt(value or 0.0)}  ({share:.1f}%)",
                11,
                fill="#495057",
                text_anchor="end",
            )
        )
    return "".join(parts)


class FormatFn:
    """Formats chart numbers of one unit compactly."""

    def __init__(self, unit: Unit, currency: str) -> None:
        self.unit, self.currency = unit, currency

    def __call__(self, value: float) -> str:
        return format_compact(value, self.unit, self.currency)


def render_svg(chart: Chart, accent: str, currency: str) -> str:
    """`chart` as a standalone SVG document."""
    colours = palette(accent)
    fmt = FormatFn(chart.unit, currency)
    if not chart.categories:
        body = _text(
            WIDTH / 2, HEIGHT / 2, "No data in this period", 12, fill=MUTED, text_anchor="middle"
        )
    elif chart.kind == Visual.FUNNEL:
        body = _funnel(chart, colours, fmt)
    elif chart.kind == Visual.PIE:
        body = _pie(chart, colours, fmt)
    else:
        body = _axes_chart(chart, colours, fmt)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">{body}</svg>'
    )
