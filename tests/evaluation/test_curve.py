"""``holdemd eval --curve``: every snapshot in order, the same numbers as ``eval`` on each one,
the JSON object, the PNG plot, and one-line errors."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from holdemd.cli import main
from holdemd.config.loader import load_config
from holdemd.evaluation.curve_png import (
    PALETTE,
    Series,
    curve_image,
    nice_ticks,
    tick_labels,
)
from holdemd.lookup.png import SIGNATURE
from holdemd.rundir.snapshots import snapshot_name
from tests.evaluation.runs import ROOT, eval_error, make_run, needs_jit

CHECKPOINTS = (100, 1_000, 5_000)


@pytest.fixture(scope="module")
def leduc_run(tmp_path_factory) -> Path:
    config = load_config(ROOT / "configs" / "leduc.yaml")
    return make_run(tmp_path_factory.mktemp("leduc"), config, CHECKPOINTS)


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> Path:
    """Cheap enough to train without the kernels: for the errors, found before any play."""
    config = load_config(ROOT / "configs" / "leduc.yaml")
    return make_run(tmp_path_factory.mktemp("short"), config, (5,))


def _eval_json(capsys, *argv: str) -> dict:
    assert main(["eval", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _decode_png(data: bytes) -> np.ndarray:
    """uint8[height, width, 3] from what `encode_png` writes (one IDAT, filter 0 rows)."""
    assert data[:8] == SIGNATURE
    chunks, pos = {}, 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8)
    rows = raw.reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, 3)


def _has_color(image: np.ndarray, color: tuple[int, int, int]) -> int:
    return int(np.all(image == np.array(color, dtype=np.uint8), axis=2).sum())


# -- the table and the JSON object ------------------------------------------------------------


@needs_jit
def test_curve_lists_every_snapshot_with_the_exact_exploitability_of_eval(leduc_run, capsys):
    assert main(["eval", "--run", str(leduc_run), "--curve"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"leduc, run {leduc_run}: 3 snapshots"
    header = lines.index("") + 1
    assert lines[header].split() == ["snapshot", "iterations", "training", "exploitability"]
    rows = [line.split() for line in lines[header + 1 :]]
    assert [row[0] for row in rows] == [snapshot_name(n) for n in CHECKPOINTS]
    assert [row[1] for row in rows] == ["100", "1,000", "5,000"]
    assert [row[2] for row in rows] == ["1m00s", "2m00s", "3m00s"]
    for row in rows:
        alone = _eval_json(capsys, "--run", str(leduc_run), "--snapshot", row[0])
        assert row[3] == f"{alone['exploitability']:.6f}"

    curve = _eval_json(capsys, "--run", str(leduc_run), "--curve")
    assert curve["measures"] == ["exploitability"] and curve["unit"] == "chips/game"
    for row, iterations in zip(curve["rows"], CHECKPOINTS, strict=True):
        alone = _eval_json(capsys, "--run", str(leduc_run), "--snapshot", row["snapshot"])
        exact = row["results"]["exploitability"]
        assert exact["mean"] == alone["exploitability"] and exact["ci95"] == 0.0
        assert exact["exact"] is True and row["iteration"] == iterations
    # Training lowers the exploitability.
    means = [row["results"]["exploitability"]["mean"] for row in curve["rows"]]
    assert means == sorted(means, reverse=True)


@needs_jit
def test_curve_json_has_a_row_per_snapshot_and_an_interval_per_measure(leduc_run, capsys):
    run = str(leduc_run)
    argv = ["--run", run, "--vs", "random,snapshot:first", "--hands", "300", "--seed", "5"]
    curve = _eval_json(capsys, *argv, "--curve")
    assert curve["evaluation"] == "curve" and curve["game"] == "leduc" and curve["run"] == run
    assert curve["measures"] == ["exploitability", "vs random", "vs snapshot:first"]
    assert curve["deals"] == 300 and curve["seed"] == 5 and curve["actions"] == "expected"
    assert curve["lbr_deals"] is None and curve["plot"] is None
    assert [row["snapshot"] for row in curve["rows"]] == [snapshot_name(n) for n in CHECKPOINTS]
    for row in curve["rows"]:
        assert set(row) == {"snapshot", "iteration", "elapsed_seconds", "results"}
        assert list(row["results"]) == curve["measures"]
        for result in row["results"].values():
            assert result["low"] <= result["mean"] <= result["high"]
            assert result["ci95"] == pytest.approx((result["high"] - result["low"]) / 2)
        # The same deals as `eval --vs` on that snapshot alone, so the same numbers.
        alone = _eval_json(capsys, *argv, "--snapshot", row["snapshot"])
        for result in alone["results"]:
            curve_result = row["results"][f"vs {result['opponent']}"]
            assert curve_result["mean"] == result["mean"]
            assert curve_result["ci95"] == result["ci95"]
    first = curve["rows"][0]["results"]["vs snapshot:first"]
    assert first["mean"] == pytest.approx(0.0, abs=1e-12)  # the first snapshot against itself


# -- the plot ---------------------------------------------------------------------------------


@needs_jit
def test_plot_writes_a_png_with_a_line_per_measure(leduc_run, tmp_path, capsys):
    path = tmp_path / "curve.png"
    argv = ["eval", "--run", str(leduc_run), "--curve", "--vs", "call", "--hands", "200"]
    assert main([*argv, "--plot", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote the plot to {path}"
    image = _decode_png(path.read_bytes())
    assert image.shape[0] >= 400 and image.shape[1] >= 800
    for color in PALETTE[:2]:  # exploitability, vs call
        assert _has_color(image, color) > 100
    assert _has_color(image, PALETTE[2]) == 0  # no third measure
    assert main([*argv, "--plot", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plot"] == str(path)


def test_curve_image_draws_lines_markers_and_error_bars():
    xs = [1e6, 2e6, 4e6]
    exact = Series("exploitability", xs, [3.0, 2.0, 1.5], [0.0, 0.0, 0.0])
    noisy = Series("vs random", xs, [1.0, 1.2, 1.1], [0.4, 0.3, 0.2])
    image = curve_image(
        [exact, noisy], title="run: quality curve", subtitle="x", x_label="it", y_label="mbb"
    )
    assert image.dtype == np.uint8 and image.ndim == 3
    assert _has_color(image, PALETTE[0]) > 100 and _has_color(image, PALETTE[1]) > 100
    # An error bar is a vertical run of the series color well beyond the marker's radius.
    columns = np.all(image == np.array(PALETTE[1], dtype=np.uint8), axis=2).sum(axis=0)
    assert columns.max() > 30
    exact_columns = np.all(image == np.array(PALETTE[0], dtype=np.uint8), axis=2).sum(axis=0)
    assert exact_columns.max() < columns.max()  # no bars for exact values


def test_ticks_are_round_numbers_covering_the_data():
    ticks = nice_ticks(5e6, 28e6)
    assert ticks[0] <= 5e6 and ticks[-1] >= 28e6
    assert tick_labels(ticks) == ["5M", "10M", "15M", "20M", "25M", "30M"]
    assert tick_labels(nice_ticks(100, 5000)) == ["0", "1,000", "2,000", "3,000", "4,000", "5,000"]
    assert tick_labels(nice_ticks(-0.1, 0.05)) == ["-0.10", "-0.05", "0", "0.05"]
    assert len(nice_ticks(2.0, 2.0)) >= 2  # one snapshot: still an axis


# -- errors -----------------------------------------------------------------------------------


def test_curve_errors_are_one_line_usage_errors(short_run, tmp_path, capsys):
    run = str(short_run)
    assert eval_error(capsys, "--run", run, "--curve", "--snapshot", "first").startswith(
        "holdemd: --snapshot first: --curve evaluates every snapshot of the run; drop --snapshot"
    )
    empty = tmp_path / "empty"
    (empty / "snapshots").mkdir(parents=True)
    assert eval_error(capsys, "--run", str(empty), "--curve") == (
        f"holdemd: --run {empty}: no snapshots to draw a curve from; train first with "
        "`holdemd train` (it writes one every --snapshot-interval)"
    )
    assert eval_error(capsys, "--run", str(tmp_path / "none"), "--curve").endswith(
        "no such run directory; pass the --logdir of a run"
    )
    assert eval_error(capsys, "--run", run, "--curve", "--lbr").startswith(
        "holdemd: --lbr: local best response is for heads-up Hold'em, this run is leduc"
    )
    assert eval_error(capsys, "--run", run, "--curve", "--lbr-hands", "100") == (
        "holdemd: --lbr-hands applies to --lbr; add --lbr to measure LBR on the curve"
    )
    assert eval_error(capsys, "--run", run, "--curve", "--hands", "100") == (
        "holdemd: --hands applies to --vs; add e.g. --vs random,call to play head-to-head"
    )
    assert eval_error(capsys, "--run", run, "--curve", "--vs", "call", "--hands", "1").startswith(
        "holdemd: --hands 1: play at least 2 deals"
    )
    assert eval_error(capsys, "--run", run, "--curve", "--vs", "nobody").startswith(
        "holdemd: --vs nobody: unknown opponent"
    )
    missing = tmp_path / "no" / "curve.png"
    assert eval_error(capsys, "--run", run, "--curve", "--plot", str(missing)) == (
        f"holdemd: --plot {missing}: no such directory {missing.parent}"
    )


def test_curve_flags_without_curve_are_one_line_errors(short_run, capsys):
    run = str(short_run)
    assert eval_error(capsys, "--run", run, "--plot", "x.png") == (
        "holdemd: --plot x.png: the plot is of a curve; add --curve"
    )
    assert eval_error(capsys, "--run", run, "--lbr", "--lbr-hands", "10").startswith(
        "holdemd: --lbr-hands applies to --curve --lbr; for one snapshot's LBR use --lbr --hands"
    )


def test_vs_none_leaves_only_the_other_measures(short_run, tmp_path, capsys):
    assert main(["eval", "--run", str(short_run), "--curve", "--vs", "none", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["measures"] == ["exploitability"]
    # Hold'em has no exact measure: without --lbr there would be nothing left.
    config = load_config(ROOT / "configs" / "hunl_quick.yaml")
    hunl = make_run(tmp_path / "hunl", config, (5,))
    assert eval_error(capsys, "--run", str(hunl), "--curve", "--vs", "none") == (
        "holdemd: --vs none leaves nothing to measure on this game; add --lbr"
    )
