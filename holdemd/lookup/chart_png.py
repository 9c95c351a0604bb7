"""The preflop chart as an image: 13x13 cells, each a bar split by action frequency.

Each cell shows its hand class on top and, below, the share of every action left to right:
raise sizes from the largest (dark red) to the smallest (light red), then call or check
(green), then fold (blue). A legend lists the actions with their whole-range frequencies.
Text uses a built-in 3x5 pixel font, so no imaging library is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from holdemd.errors import UsageError
from holdemd.lookup.chart import GRID, NUM_CLASSES, Chart
from holdemd.lookup.png import write_png
from holdemd.lookup.show import where

SCALE = 2  # font pixels per glyph pixel
ADVANCE = 4 * SCALE  # glyph width plus one pixel of spacing
LINE = 7 * SCALE
MARGIN = 12
CELL_W, CELL_H, NAME_H = 48, 40, 14
BACKGROUND = (255, 255, 255)
GRID_LINE = (190, 190, 190)
NAME_BAND = (246, 246, 246)
TEXT = (25, 25, 25)
FOLD_COLOR = (74, 130, 222)
CALL_COLOR = (82, 178, 102)
RAISE_LIGHT = (246, 160, 120)
RAISE_DARK = (165, 22, 34)

# 3x5 glyphs, rows top to bottom. Lower-case s and o are for hand classes ("AKs", "72o");
# other lower-case letters print as capitals.
_FONT_ROWS = {
    "A": "010 101 111 101 101",
    "B": "110 101 110 101 110",
    "C": "011 100 100 100 011",
    "D": "110 101 101 101 110",
    "E": "111 100 110 100 111",
    "F": "111 100 110 100 100",
    "G": "011 100 101 101 011",
    "H": "101 101 111 101 101",
    "I": "111 010 010 010 111",
    "J": "001 001 001 101 010",
    "K": "101 101 110 101 101",
    "L": "100 100 100 100 111",
    "M": "101 111 111 101 101",
    "N": "110 101 101 101 101",
    "O": "010 101 101 101 010",
    "P": "110 101 110 100 100",
    "Q": "010 101 101 110 011",
    "R": "110 101 110 101 101",
    "S": "011 100 010 001 110",
    "T": "111 010 010 010 010",
    "U": "101 101 101 101 111",
    "V": "101 101 101 101 010",
    "W": "101 101 111 111 101",
    "X": "101 101 010 101 101",
    "Y": "101 101 010 010 010",
    "Z": "111 001 010 100 111",
    "0": "111 101 101 101 111",
    "1": "010 110 010 010 111",
    "2": "110 001 010 100 111",
    "3": "110 001 010 001 110",
    "4": "101 101 111 001 001",
    "5": "111 100 110 001 110",
    "6": "011 100 111 101 111",
    "7": "111 001 010 010 010",
    "8": "111 101 111 101 111",
    "9": "111 101 111 001 110",
    "s": "000 011 100 001 110",
    "o": "000 000 010 101 010",
    ".": "000 000 000 000 010",
    ",": "000 000 000 010 100",
    ":": "000 010 000 010 000",
    "-": "000 000 111 000 000",
    "/": "001 001 010 100 100",
    "%": "101 001 010 100 101",
    "(": "010 100 100 100 010",
    ")": "010 001 001 001 010",
    "'": "010 010 000 000 000",
    "_": "000 000 000 000 111",
    "x": "000 101 010 101 000",
    "+": "000 010 111 010 000",
    "±": "010 111 010 000 111",
}
FONT = {
    ch: np.array([[bit == "1" for bit in row] for row in rows.split()], dtype=bool)
    for ch, rows in _FONT_ROWS.items()
}


def _glyph(ch: str) -> np.ndarray | None:
    return FONT.get(ch) if ch in FONT else FONT.get(ch.upper())


def draw_text(image: np.ndarray, x: int, y: int, text: str, color: tuple[int, int, int]) -> None:
    """Write ``text`` with its top-left corner at (x, y), clipped to the image."""
    for i, ch in enumerate(text):
        glyph = _glyph(ch)
        if glyph is None:
            continue  # a space, or a character the font lacks
        mask = np.kron(glyph, np.ones((SCALE, SCALE), dtype=bool))
        left = x + i * ADVANCE
        region = image[y : y + mask.shape[0], left : left + mask.shape[1]]
        region[mask[: region.shape[0], : region.shape[1]]] = color


def text_width(text: str) -> int:
    return len(text) * ADVANCE


def action_colors(chart: Chart) -> list[tuple[int, int, int]]:
    """A color per action: raises light (small) to dark (large), call green, fold blue."""
    raises = [i for i, act in enumerate(chart.actions) if act.kind == "raise"]
    colors: list[tuple[int, int, int]] = []
    for i, act in enumerate(chart.actions):
        if act.kind == "fold":
            colors.append(FOLD_COLOR)
        elif act.kind == "call":
            colors.append(CALL_COLOR)
        else:
            colors.append(_raise_color(raises.index(i), len(raises)))
    return colors


def _raise_color(k: int, count: int) -> tuple[int, int, int]:
    """The k-th smallest of ``count`` raise sizes: light red to dark red."""
    t = k / (count - 1) if count > 1 else 0.6
    r, g, b = (round(lo + t * (hi - lo)) for lo, hi in zip(RAISE_LIGHT, RAISE_DARK, strict=True))
    return (r, g, b)


def bar_order(chart: Chart) -> list[int]:
    """Actions left to right in a cell: largest raise first, then smaller ones, call, fold."""
    raises = [i for i, act in enumerate(chart.actions) if act.kind == "raise"]
    rest = [i for i, act in enumerate(chart.actions) if act.kind == "call"]
    rest += [i for i, act in enumerate(chart.actions) if act.kind == "fold"]
    return raises[::-1] + rest


def _bar(
    image: np.ndarray,
    x: int,
    y: int,
    w: int,
    h: int,
    shares: list[float],
    colors: list[tuple[int, int, int]],
) -> None:
    """Fill a w x h box left to right with ``shares`` (summing to 1) of ``colors``."""
    edges = np.rint(np.cumsum([0.0, *shares]) * w).astype(int)
    edges[-1] = w
    for share_index, color in enumerate(colors):
        left, right = edges[share_index], edges[share_index + 1]
        if right > left:
            image[y : y + h, x + left : x + right] = color


def chart_image(chart: Chart) -> np.ndarray:
    """uint8[height, width, 3]: the chart of a 169-class preflop decision."""
    if not chart.grid:
        raise ValueError("only a chart of the 169 preflop classes can be drawn")
    decision = chart.decision
    colors = action_colors(chart)
    order = bar_order(chart)
    overall = chart.overall()
    title = f"{decision.seat} {decision.street_name} {where(decision)}"
    subtitle = chart.blueprint.describe()
    legend = [
        f"{act.token}  {act.label}  {100 * overall[i]:.1f}%" for i, act in enumerate(chart.actions)
    ]
    grid_w, grid_h = GRID * CELL_W + 1, GRID * CELL_H + 1
    legend_w = LINE + 8 + max(text_width(line) for line in legend)
    width = 2 * MARGIN + max(grid_w, text_width(title), text_width(subtitle), legend_w)
    top = MARGIN + 2 * LINE + 8
    legend_top = top + grid_h + 12
    height = legend_top + len(legend) * (LINE + 6) + MARGIN
    image = np.full((height, width, 3), BACKGROUND, dtype=np.uint8)
    draw_text(image, MARGIN, MARGIN, title.upper(), TEXT)
    draw_text(image, MARGIN, MARGIN + LINE + 2, subtitle.upper(), (110, 110, 110))
    image[top : top + grid_h, MARGIN : MARGIN + grid_w] = GRID_LINE
    for bucket in range(NUM_CLASSES):
        row, col = chart.cell(bucket)
        x, y = MARGIN + col * CELL_W + 1, top + row * CELL_H + 1
        image[y : y + NAME_H, x : x + CELL_W - 1] = NAME_BAND
        draw_text(image, x + 3, y + 2, chart.labels[bucket], TEXT)
        shares = [float(chart.probabilities[bucket, i]) for i in order]
        _bar(
            image,
            x,
            y + NAME_H,
            CELL_W - 1,
            CELL_H - 1 - NAME_H,
            shares,
            [colors[i] for i in order],
        )
    for k, line in enumerate(legend):
        y = legend_top + k * (LINE + 6)
        image[y : y + LINE, MARGIN : MARGIN + LINE] = colors[k]
        draw_text(image, MARGIN + LINE + 8, y, line.upper(), TEXT)
    return image


def write_chart_png(chart: Chart, path: Path) -> None:
    """Draw ``chart`` into the PNG file ``path``; `UsageError` if it cannot be drawn or written."""
    if not chart.grid:
        raise UsageError(
            f"--png {path}: only a preflop chart of the 169 hand classes can be drawn; this "
            f"decision has {len(chart.labels)} buckets (drop --png to list them)"
        )
    try:
        write_png(path, chart_image(chart))
    except OSError as exc:
        raise UsageError(f"--png {path}: cannot write: {exc.strerror or exc}") from exc
