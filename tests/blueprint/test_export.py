"""Exporting a snapshot: the file's strategy is the snapshot's average strategy to the stated
quantization error, and Kuhn and Leduc keep their exploitability (exact evaluator, and the JSON
export path as a cross-check)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.export import SCALES, export_blueprint, quantize
from holdemd.cli import main
from holdemd.config.schema import GameConfig
from holdemd.games.factory import build_game, make_game
from holdemd.rundir.load import load_snapshot
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.tables import average_strategy
from holdemd.strategy_export import json_to_strategy
from tests.lookup.games import tiny_config, write_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    write_run(root / "kuhn", GameConfig(name="kuhn"), 30_000)
    write_run(root / "leduc", GameConfig(name="leduc"), 20_000)
    out = {"kuhn": root / "kuhn", "leduc": root / "leduc"}
    write_run(root / "tiny", tiny_config(), 20_000)
    out["tiny"] = root / "tiny"
    return out


@pytest.mark.parametrize("bits", [8, 16])
def test_quantized_rows_sum_exactly_and_stay_within_one_unit(bits):
    game = make_game("leduc")
    rng = np.random.default_rng(1)
    sums = rng.random((game.num_rows, game.max_actions)).astype(np.float32) ** 4
    sums[::7] = 0.0  # untrained rows: uniform
    sums[1::11] = -rng.random((len(sums[1::11]), game.max_actions))  # negative sums count as 0
    sums[2::13, 0] = 1.0  # a certain action
    quantized = quantize(game, sums, bits)
    scale = SCALES[bits]
    exact = average_strategy(game, sums)
    a = game.arrays
    worst = 0.0
    for node in game.decision_nodes():
        n = int(a.node_num_actions[node])
        for bucket in range(int(a.street_buckets[a.node_street[node]])):
            start = int(quantized.node_offset[node]) + bucket * n
            units = quantized.probabilities[start : start + n].astype(np.int64)
            p = exact[game.row_of(int(node), bucket), :n]
            assert units.sum() == scale
            assert np.all(np.abs(units - p * scale) < 1.0)  # floor or floor + 1: largest remainder
            worst = max(worst, float(np.abs(units / scale - p).max()))
    assert quantized.max_error == pytest.approx(worst) and worst < 1 / scale
    trained = np.unpackbits(quantized.trained, bitorder="little")[: game.num_rows].astype(bool)
    np.testing.assert_array_equal(trained, (np.maximum(sums, 0) > 0).any(axis=1))


@pytest.mark.parametrize("name", ["kuhn", "leduc", "tiny"])
def test_round_trip_keeps_the_strategy_and_the_exploitability(runs, tmp_path, name):
    loaded = load_snapshot(runs[name])
    game = loaded.game
    exact = average_strategy(game, loaded.tables.strategy_sum)
    evaluator = ExactEvaluator(game)
    before = evaluator.exploitability(exact)
    report = export_blueprint(loaded, tmp_path / "b.bp")  # 16 bits for the exact games
    assert report.bits == 16 and report.max_error < 1 / 65535
    blueprint = Blueprint.open(tmp_path / "b.bp")
    policy = blueprint.policy()
    assert np.abs(policy - exact).max() <= report.max_error + 1e-12
    after = evaluator.exploitability(policy)
    assert abs(after - before) < 0.01 * before, (before, after)
    # The same through the JSON export of the file, read back as the evaluator's input.
    out = tmp_path / "b.json"
    assert (
        main(["strategy", "export", "--blueprint", str(tmp_path / "b.bp"), "--out", str(out)]) == 0
    )
    reread = json_to_strategy(game, json.loads(out.read_text()), str(out))
    assert evaluator.exploitability(reread) == pytest.approx(after, abs=1e-12)


def test_eight_bits_is_within_its_bound_and_moves_exploitability_little(runs, tmp_path):
    loaded = load_snapshot(runs["leduc"])
    exact = average_strategy(loaded.game, loaded.tables.strategy_sum)
    report = export_blueprint(loaded, tmp_path / "b8.bp", bits=8)
    policy = Blueprint.open(tmp_path / "b8.bp").policy()
    assert np.abs(policy - exact).max() == pytest.approx(report.max_error)
    assert report.max_error < 1 / 255
    evaluator = ExactEvaluator(loaded.game)
    # Near equilibrium a 1/255 error moves Leduc's exploitability by a few percent (0.1-2.2%
    # measured), a few thousandths of a chip: why the small games default to 16 bits.
    change = evaluator.exploitability(policy) - evaluator.exploitability(exact)
    assert abs(change) < 0.005


def test_file_records_where_it_came_from(runs, tmp_path):
    loaded = load_snapshot(runs["leduc"])
    export_blueprint(loaded, tmp_path / "b.bp")
    blueprint = Blueprint.open(tmp_path / "b.bp")
    info = blueprint.info()
    assert info["game"] == "leduc" and info["iteration"] == 20_000 and info["bits"] == 16
    assert info["snapshot"] == loaded.info.name and info["abstraction"] is None
    source = blueprint.manifest["source"]
    assert source["snapshot_manifest_sha256"] == loaded.manifest["manifest_sha256"]
    assert blueprint.manifest["config"]["game"]["name"] == "leduc"
    assert blueprint.describe().endswith(", blueprint b.bp (16-bit)")


def test_a_file_is_read_without_the_run(runs, tmp_path):
    loaded = load_snapshot(runs["tiny"])
    path = tmp_path / "t.bp"
    export_blueprint(loaded, path)
    game = build_game(tiny_config())
    blueprint = Blueprint.open(path)
    for name in ("node_children", "node_action_amount", "node_contrib", "node_row_base"):
        np.testing.assert_array_equal(
            getattr(blueprint.game.arrays, name), getattr(game.arrays, name)
        )
    assert blueprint.game.histories == game.histories
    assert blueprint.game.bucket_labels == game.bucket_labels
