"""`strategy chart`: the 13x13 grid, whole-range frequencies, the list form, and the PNG."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from holdemd.cli import main
from holdemd.errors import UsageError
from holdemd.games.factory import make_game
from holdemd.lookup.chart import chart_json, chart_lines, make_chart
from holdemd.lookup.chart_png import (
    CELL_H,
    CELL_W,
    MARGIN,
    NAME_H,
    action_colors,
    chart_image,
    write_chart_png,
)
from holdemd.lookup.png import SIGNATURE, encode_png
from tests.lookup.games import (
    HU_RULES,
    hu_game,
    random_blueprint,
    sums,
    tiny_config,
    trained,
    write_run,
)


@pytest.fixture(scope="module")
def hu_chart():
    blueprint = random_blueprint(hu_game(), HU_RULES, seed=3)
    return make_chart(blueprint, seat="BTN")


def test_grid_has_169_cells_whose_frequencies_sum_to_one(hu_chart):
    chart = hu_chart
    assert chart.grid and len(chart.labels) == 169
    cells = {chart.cell(b) for b in range(169)}
    assert cells == {(r, c) for r in range(13) for c in range(13)}
    assert chart.labels[0] == "22" or chart.cell(chart.labels.index("AA")) == (0, 0)
    assert chart.cell(chart.labels.index("AKs")) == (0, 1)  # suited above the diagonal
    assert chart.cell(chart.labels.index("AKo")) == (1, 0)  # offsuit below
    total = chart.group("raise") + chart.group("call") + chart.group("fold")
    np.testing.assert_allclose(total, 1.0)
    np.testing.assert_allclose(chart.probabilities.sum(axis=1), 1.0)
    assert chart.combos.sum() == 1326
    assert chart.overall().sum() == pytest.approx(1.0)


def test_chart_rows_are_the_blueprint_rows(hu_chart):
    chart = hu_chart
    game = chart.blueprint.game
    aks = chart.labels.index("AKs")
    row = game.row_of(chart.decision.node, aks)
    weights = sums(chart.blueprint)[row, :6].astype(np.float64)
    np.testing.assert_allclose(chart.probabilities[aks], weights / weights.sum())


def test_text_grid(hu_chart):
    lines = chart_lines(hu_chart)
    assert lines[1] == "BTN to act preflop at the start of the hand: pot 1.5 bb, 0.5 bb to call"
    assert lines[2] == (
        "actions: f fold, c call 0.5 bb, r2 raise to 2 bb, r3 raise to 3 bb, "
        "r5 raise to 5 bb, a all-in 100 bb"
    )
    assert lines[3].startswith("whole range (1,326 combos): raise ")
    start = lines.index("raise (any size)")
    header, rows = lines[start + 1], lines[start + 2 : start + 15]
    assert header.split() == list("AKQJT98765432")
    assert [row.split()[0] for row in rows] == list("AKQJT98765432")
    assert all(len(row.split()) == 14 for row in rows)
    aa = round(100 * hu_chart.group("raise")[hu_chart.labels.index("AA")])
    assert rows[0].split()[1] == str(aa)
    assert "call" in lines and "fold" in lines
    by_size = chart_lines(hu_chart, by_size=True)
    assert [line for line in by_size if line.startswith(("r2:", "r3:", "r5:", "a:"))] == [
        "r2: raise to 2 bb",
        "r3: raise to 3 bb",
        "r5: raise to 5 bb",
        "a: all-in 100 bb",
    ]


def test_json(hu_chart):
    data = chart_json(hu_chart)
    json.dumps(data)
    assert data["grid"] and data["seat"] == "BTN" and len(data["hands"]) == 169
    aa = next(h for h in data["hands"] if h["hand"] == "AA")
    assert aa["grid"] == [0, 0] and aa["combos"] == 6
    assert aa["raise"] + aa["call"] + aa["fold"] == pytest.approx(1.0)
    assert sum(a["frequency"] for a in data["actions"]) == pytest.approx(1.0)


def _decode_png(data: bytes) -> np.ndarray:
    """A strict reader for what `encode_png` writes: checks signature, CRCs and filters."""
    assert data[:8] == SIGNATURE
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks[kind] = body
        pos += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color, interlace) == (8, 2, 0)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    assert raw.size == height * (1 + 3 * width)
    rows = raw.reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any()  # filter type 0 on every scanline
    return rows[:, 1:].reshape(height, width, 3)


def test_png_round_trip():
    pixels = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_decode_png(encode_png(pixels)), pixels)


def test_png_chart_cells_show_the_action_mix(tmp_path):
    blueprint = random_blueprint(hu_game(), HU_RULES, seed=4)
    chart = make_chart(blueprint, seat="BTN")
    node = chart.decision.node
    aa, k72 = chart.labels.index("AA"), chart.labels.index("72o")
    sums(blueprint)[blueprint.game.row_of(node, aa), :6] = [0, 0, 0, 1, 0, 0]  # r3 only
    sums(blueprint)[blueprint.game.row_of(node, k72), :6] = [1, 0, 0, 0, 0, 0]  # fold
    chart = make_chart(blueprint, seat="BTN")
    path = tmp_path / "btn.png"
    write_chart_png(chart, path)
    image = _decode_png(path.read_bytes())
    np.testing.assert_array_equal(image, chart_image(chart))
    colors = action_colors(chart)
    top = next(y for y in range(image.shape[0]) if tuple(image[y, MARGIN]) == (190, 190, 190))

    def bar_pixel(cell: tuple[int, int], fraction: float) -> tuple[int, ...]:
        row, col = cell
        x = MARGIN + col * CELL_W + 1 + int(fraction * (CELL_W - 1))
        y = top + row * CELL_H + 1 + NAME_H + (CELL_H - NAME_H) // 2
        return tuple(int(v) for v in image[y, x])

    for fraction in (0.05, 0.5, 0.95):
        assert bar_pixel(chart.cell(aa), fraction) == colors[3]
        assert bar_pixel(chart.cell(k72), fraction) == colors[0]


def test_list_chart_for_small_games_and_no_png(tmp_path):
    blueprint = trained(make_game("leduc"), 1000)
    chart = make_chart(blueprint, history="rc")
    assert not chart.grid and len(chart.labels) == 9
    lines = chart_lines(chart)
    assert lines[2] == "actions: c check, r bet"
    assert lines[3].startswith("whole range (9 buckets): bet ")
    assert lines[5].split() == ["hand", "c", "r"] and lines[6].split()[0] == "JJ"
    with pytest.raises(UsageError, match=r"^--png .*only a preflop chart of the 169 hand classes"):
        write_chart_png(chart, tmp_path / "x.png")


def test_cli_chart(tmp_path, capsys):
    run = tmp_path / "run"
    write_run(run, tiny_config(), 2000)
    assert main(["strategy", "chart", "--run", str(run), "--seat", "BB", "--history", "c"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "BB to act preflop after 'c': pot 2 bb, nothing to call"
    assert out[5].split() == ["hand", "k", "r3", "a"]
    assert len(out[6:]) == 28 and out[6].startswith("KsAs ")  # one line per hole pair
    argv = ["strategy", "chart", "--run", str(run), "--json"]
    assert main(argv) == 0
    assert len(json.loads(capsys.readouterr().out)["hands"]) == 28
    assert main([*argv, "--png", str(tmp_path / "c.png")]) == 2
    assert "only a preflop chart" in capsys.readouterr().err


@pytest.mark.slow
def test_hunl_quick_run_end_to_end(tmp_path, capsys):
    """Train HUNL quick for a few seconds, then show, chart and draw it (needs the quick buckets)."""
    root = Path(__file__).resolve().parents[2]
    run = tmp_path / "hunl"
    config = str(root / "configs" / "hunl_quick.yaml")
    train = ["train", "--config", config, "--time-budget", "8", "--logdir", str(run)]
    assert main([*train, "--no-tensorboard"]) == 0
    capsys.readouterr()
    show = ["strategy", "show", "--run", str(run), "--hand", "AsKs"]
    assert main([*show, "--history", "r3 c / k b2.7p", "--board", "AhKd7c"]) == 0
    out = capsys.readouterr().out
    assert (
        "note: b2.7p (bet 16.2 bb, 2.70x pot) is not on the tree; translated (pseudo-harmonic)"
        in out
    )
    png = tmp_path / "btn.png"
    assert main(["strategy", "chart", "--run", str(run), "--seat", "BTN", "--png", str(png)]) == 0
    assert "whole range (1,326 combos)" in capsys.readouterr().out
    assert _decode_png(png.read_bytes()).shape[1] > 13 * CELL_W
