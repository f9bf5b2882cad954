"""Server-side SVG charts: no JavaScript, no CDN (the portal runs on an intranet)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1d5fa8", "#2e8540", "#b26a00", "#a4262c", "#6b4fa0", "#00838f")


def _fmt(v: float) -> str:
    return f"{v:.1f}" if v != int(v) else str(int(v))


def hbar(labels: Sequence[str], values: Sequence[float], *, unit: str = "", title: str = "") -> SafeString:
    """Horizontal bars, one per label; the value is printed at the bar's end."""
    row_h, label_w, width = 30, 150, 640
    height = row_h * max(len(labels), 1) + 10
    top = max(values, default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="15">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = i * row_h + 5
        w = (width - label_w - 90) * (value / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 19}">{_fmt(value)}{escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above


def lines(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, unit: str = "", title: str = "",
    max_value: float | None = None,
) -> SafeString:
    """Line chart over months; one polyline per series, with a legend."""
    width, height, left, right, top_pad, bottom = 640, 260, 50, 20, 30, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max_value or max((v for _, vals in series for v in vals), default=0) or 1
    n = max(len(labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / n, top_pad + plot_h * (1 - v / top)

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="13">',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - right}" y2="{top_pad + plot_h}" stroke="#888"/>',
        # The scale's top value sits above the plot, left-aligned: "35 people" is wider than the margin.
        f'<text x="{left}" y="{top_pad - 10}" text-anchor="start">{_fmt(top)}{escape(unit)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(labels):
        if i % 2 == 0 or i == len(labels) - 1:
            x, _ = xy(i, 0)
            parts.append(f'<text x="{x:.1f}" y="{height - 18}" text-anchor="middle">{escape(label)}</text>')
    for s, (name, vals) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(vals)))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="3" points="{pts}"/>')
        for i, v in enumerate(vals):
            x, y = xy(i, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
        lx = left + s * 150
        parts.append(f'<rect x="{lx}" y="6" width="14" height="14" fill="{color}"/>')
        parts.append(f'<text x="{lx + 20}" y="18">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every label is escaped above
