"""Server-side SVG charts: no JavaScript, no CDN (the portal runs on an intranet).

Sizes are in the SVG's own units. The viewBox is 540 wide and the dashboard draws a
chart 526-680 px wide at desktop and tablet widths, so FONT (18) renders at 17.5-22 px:
at least 16 px, like the rest of the portal's text (issue 12). The legend has its own
row(s) above the plot and the scale's top value sits below the legend, so they never
overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1d5fa8", "#2e8540", "#b26a00", "#a4262c", "#6b4fa0", "#00838f")
WIDTH = 540
FONT = 18
LINE = FONT + 8  # one row of text


def _fmt(v: float) -> str:
    return f"{v:.1f}" if v != int(v) else str(int(v))


def text_width(text: str, font: float = FONT) -> float:
    """Estimated rendered width: CJK characters are one em, Latin letters and digits about 0.6 em."""
    return sum(font if ord(ch) > 0x2E80 else font * 0.6 for ch in text)


def _svg_open(title: str, height: float) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT}">')


def hbar(labels: Sequence[str], values: Sequence[float], *, unit: str = "", title: str = "") -> SafeString:
    """Horizontal bars, one per label; the value is printed at the bar's end."""
    row_h = 34
    label_w = min(max((text_width(str(lbl)) for lbl in labels), default=60) + 14, 230)
    value_w = max((text_width(_fmt(v) + unit) for v in values), default=40) + 12
    height = row_h * max(len(labels), 1) + 10
    top = max(values, default=0) or 1
    parts = [_svg_open(title, height)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = i * row_h + 5
        w = max(WIDTH - label_w - value_w, 40) * (value / top)
        parts.append(f'<text x="{label_w - 8:.1f}" y="{y + 22}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" '
                     f'fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 22}">{_fmt(value)}{escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above


def _legend(names: Sequence[str], left: float, right: float) -> tuple[list[tuple[float, float, str]], float]:
    """(x, y-baseline, name) per entry, wrapping to a new row; and the legend's height."""
    placed, x, row = [], left, 0
    for name in names:
        w = 14 + 6 + text_width(name) + 18
        if x > left and x + w > WIDTH - right:
            x, row = left, row + 1
        placed.append((x, 4 + row * LINE + FONT, name))
        x += w
    return placed, (row + 1) * LINE + 4 if names else 0


def lines(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, unit: str = "", title: str = "",
    max_value: float | None = None,
) -> SafeString:
    """Line chart over months; one polyline per series, with a legend above the scale."""
    left, right, bottom = 44, 16, 44
    legend, legend_h = _legend([name for name, _ in series], left, right)
    # Legend row(s), then the scale's top value on its own line, then the plot.
    top_label_y = legend_h + FONT + 2
    top_pad = top_label_y + 10
    plot_h = 170
    height = top_pad + plot_h + bottom
    plot_w = WIDTH - left - right
    top = max_value or max((v for _, vals in series for v in vals), default=0) or 1
    n = max(len(labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / n, top_pad + plot_h * (1 - v / top)

    parts = [
        _svg_open(title, height),
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - right}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{WIDTH - right}" y2="{top_pad}" stroke="#ddd"/>',
        # Left-aligned above the plot: "35 人" is wider than the left margin.
        f'<text x="{left}" y="{top_label_y}" text-anchor="start" data-role="scale-top">{_fmt(top)}{escape(unit)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h + 6}" text-anchor="end">0</text>',
    ]
    # Month labels: every second one fits at this size (the last one always shows).
    step = 2 if len(labels) <= 12 else 3
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{height - 16}" text-anchor="middle">{escape(label)}</text>')
    for s, (_name, vals) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(vals)))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="3" points="{pts}"/>')
        for i, v in enumerate(vals):
            x, y = xy(i, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
    for s, (lx, baseline, name) in enumerate(legend):
        color = PALETTE[s % len(PALETTE)]
        parts.append(f'<rect x="{lx:.1f}" y="{baseline - 14:.1f}" width="14" height="14" fill="{color}" '
                     f'data-role="legend-key"/>')
        parts.append(f'<text x="{lx + 20:.1f}" y="{baseline:.1f}" data-role="legend">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above
