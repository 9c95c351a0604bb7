"""A line chart as an image: one colored line per series, a 95% error bar at each point.

Drawn with numpy into an RGB array and written by the project's own PNG encoder, with the
3x5 pixel font of the preflop chart, so plotting needs no imaging library. Layout: title and
subtitle on top, the plot area with tick labels and light grid lines below them, the legend
to its right. Lines are sampled along their length (one pixel per step of the longer side, as
Bresenham would place them), thickened by a small square brush.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from holdemd.lookup.chart_png import LINE, draw_text, text_width
from holdemd.lookup.png import write_png

Color = tuple[int, int, int]

SUFFIXES = ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "K"))  # (from, scale, suffix)

WIDTH, HEIGHT = 880, 520  # the smallest image; it grows for long titles and legends
MARGIN = 14
PAD = 14  # between the frame and the outermost points, so markers never sit on an axis
SWATCH = 26  # length of the line sample in the legend
MARKER_RADIUS = 4
CAP = 4  # half-width of an error bar's end caps
DODGE = 4  # pixels between the points of different series at the same x
BACKGROUND: Color = (255, 255, 255)
TEXT: Color = (25, 25, 25)
MUTED: Color = (110, 110, 110)
GRID: Color = (232, 232, 232)
ZERO: Color = (170, 170, 170)
FRAME: Color = (80, 80, 80)
# Distinct hues readable on white (matplotlib's tab10, first six).
PALETTE: tuple[Color, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
)


@dataclass(frozen=True)
class Series:
    """One line: a value with its 95% half-width (0 for an exact value) at each x."""

    label: str
    xs: Sequence[float]
    means: Sequence[float]
    half_widths: Sequence[float]


def series_color(index: int) -> Color:
    return PALETTE[index % len(PALETTE)]


def nice_ticks(low: float, high: float, target: int = 6) -> np.ndarray:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten apart) covering [low, high]."""
    if not high > low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(target - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.floor(low / step + 1e-9) * step
    count = math.ceil((high - first) / step - 1e-9)
    ticks = first + step * np.arange(count + 1)
    ticks[np.abs(ticks) < step * 1e-9] = 0.0  # no "-0"
    return ticks


def tick_labels(ticks: np.ndarray) -> list[str]:
    """Labels with as few decimals as the step needs; K, M or B for large counts."""
    step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    top = float(np.max(np.abs(ticks)))
    # Thousands only from 10,000 up: "2,500" reads better than "2.5K".
    scale, suffix = next(
        ((s, x) for t, s, x in SUFFIXES if top >= t and step >= s / 100),
        (1.0, ""),
    )
    scaled = step / scale
    decimals = next((d for d in range(7) if abs(round(scaled, d) - scaled) <= 1e-6 * scaled), 6)
    return [f"{t / scale:,.{decimals}f}{suffix}" if t else "0" for t in ticks]


def _points(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, color: Color) -> None:
    """Set the pixels (xs, ys) that fall inside the image."""
    height, width = image.shape[:2]
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    image[ys[inside], xs[inside]] = color


def segment(
    image: np.ndarray, x0: int, y0: int, x1: int, y1: int, color: Color, thickness: int = 1
) -> None:
    """A straight line from (x0, y0) to (x1, y1), ``thickness`` pixels wide."""
    steps = max(abs(x1 - x0), abs(y1 - y0)) + 1
    xs = np.rint(np.linspace(x0, x1, steps)).astype(np.int64)
    ys = np.rint(np.linspace(y0, y1, steps)).astype(np.int64)
    # A square brush: offsets -1..0 for 2 pixels, -1..1 for 3, ...
    offsets = range(-(thickness // 2), (thickness + 1) // 2)
    for dx in offsets:
        for dy in offsets:
            _points(image, xs + dx, ys + dy, color)


def disk(image: np.ndarray, cx: int, cy: int, radius: int, color: Color) -> None:
    """A filled circle (a point marker)."""
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    # + radius / 2 rounds the rim outwards: a small disk looks round rather than diamond-like.
    inside = dx * dx + dy * dy <= radius * radius + radius // 2
    _points(image, (cx + dx[inside]).ravel(), (cy + dy[inside]).ravel(), color)


def error_bar(image: np.ndarray, x: int, y_low: int, y_high: int, color: Color) -> None:
    """A vertical bar from y_low to y_high with end caps; nothing for a zero-width interval."""
    if y_low == y_high:
        return
    segment(image, x, y_low, x, y_high, color)
    segment(image, x - CAP, y_low, x + CAP, y_low, color)
    segment(image, x - CAP, y_high, x + CAP, y_high, color)


@dataclass(frozen=True)
class _Axis:
    """Maps data values to pixels along one side of the plot area."""

    ticks: np.ndarray
    start: int  # pixel of ticks[0]
    end: int  # pixel of ticks[-1]

    def pixel(self, value: float) -> int:
        low, high = float(self.ticks[0]), float(self.ticks[-1])
        return round(self.start + (value - low) / (high - low) * (self.end - self.start))


def _data_range(series: Sequence[Series]) -> tuple[float, float, float, float]:
    xs = [float(x) for s in series for x in s.xs]
    ys = [
        float(m) + sign * float(h)
        for s in series
        for m, h in zip(s.means, s.half_widths, strict=True)
        for sign in (-1, 1)
        if math.isfinite(float(m) + sign * float(h))
    ]
    if not xs or not ys:
        raise ValueError("nothing to plot: every series is empty")
    return min(xs), max(xs), min(ys), max(ys)


def curve_image(
    series: Sequence[Series], *, title: str, subtitle: str, x_label: str, y_label: str
) -> np.ndarray:
    """uint8[height, width, 3]: the line chart of ``series``."""
    x_min, x_max, y_min, y_max = _data_range(series)
    x_ticks = nice_ticks(x_min, x_max)
    y_ticks = nice_ticks(y_min, y_max)
    x_names, y_names = tick_labels(x_ticks), tick_labels(y_ticks)
    labels = [s.label.upper() for s in series]
    legend_w = SWATCH + 10 + max(text_width(label) for label in labels)
    left = MARGIN + max(text_width(name) for name in y_names) + 8
    width = max(
        WIDTH, 2 * MARGIN + text_width(title), 2 * MARGIN + text_width(subtitle), left + 420
    )
    width = max(width, left + 420 + 24 + legend_w + MARGIN)
    right = width - MARGIN - legend_w - 24
    top = MARGIN + 3 * LINE + 16  # title, subtitle, then the y label above the plot
    bottom = HEIGHT - MARGIN - 2 * LINE - 12  # tick labels and the x label below it
    x_axis = _Axis(x_ticks, left + PAD, right - PAD)
    y_axis = _Axis(y_ticks, bottom - PAD, top + PAD)

    image = np.full((HEIGHT, width, 3), BACKGROUND, dtype=np.uint8)
    draw_text(image, MARGIN, MARGIN, title.upper(), TEXT)
    draw_text(image, MARGIN, MARGIN + LINE + 2, subtitle.upper(), MUTED)
    draw_text(image, MARGIN, top - LINE - 4, y_label.upper(), TEXT)
    for value, name in zip(y_ticks, y_names, strict=True):
        y = y_axis.pixel(float(value))
        segment(image, left, y, right, y, ZERO if value == 0 else GRID)
        draw_text(image, left - 8 - text_width(name), y - LINE // 3, name, TEXT)
    for value, name in zip(x_ticks, x_names, strict=True):
        x = x_axis.pixel(float(value))
        segment(image, x, top, x, bottom, GRID)
        draw_text(image, x - text_width(name) // 2, bottom + 6, name, TEXT)
    x_title = x_label.upper()
    draw_text(image, (left + right - text_width(x_title)) // 2, bottom + LINE + 12, x_title, TEXT)
    for x0, y0, x1, y1 in ((left, top, right, top), (left, bottom, right, bottom)):
        segment(image, x0, y0, x1, y1, FRAME)
    for x in (left, right):
        segment(image, x, top, x, bottom, FRAME)

    for k, s in enumerate(series):
        color = series_color(k)
        # Series sharing an x are spread sideways a little so their error bars stay apart.
        shift = round((k - (len(series) - 1) / 2) * DODGE)
        points = [
            (x_axis.pixel(float(x)) + shift, float(m), float(h))
            for x, m, h in zip(s.xs, s.means, s.half_widths, strict=True)
        ]
        for x, m, h in points:
            if math.isfinite(h):
                error_bar(image, x, y_axis.pixel(m - h), y_axis.pixel(m + h), color)
        for (xa, ma, _), (xb, mb, _) in pairwise(points):
            segment(image, xa, y_axis.pixel(ma), xb, y_axis.pixel(mb), color, thickness=2)
        for x, m, _ in points:
            disk(image, x, y_axis.pixel(m), MARKER_RADIUS, color)

    legend_x = right + 24
    for k, label in enumerate(labels):
        y = top + k * (LINE + 8) + LINE // 2
        segment(image, legend_x, y, legend_x + SWATCH, y, series_color(k), thickness=2)
        disk(image, legend_x + SWATCH // 2, y, MARKER_RADIUS, series_color(k))
        draw_text(image, legend_x + SWATCH + 10, y - LINE // 3, label, TEXT)
    return image


def write_curve_png(
    path: Path,
    series: Sequence[Series],
    *,
    title: str,
    subtitle: str,
    x_label: str,
    y_label: str,
) -> None:
    """Draw ``series`` into the PNG file ``path`` (OSError if it cannot be written)."""
    image = curve_image(series, title=title, subtitle=subtitle, x_label=x_label, y_label=y_label)
    write_png(path, image)
