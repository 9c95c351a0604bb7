"""``holdemd eval --litmus`` on heads-up Hold'em (hunl_quick, the shipped quick buckets): a
briefly trained run passes the shipped scenarios from its run directory, a snapshot directory
and a blueprint file; the same snapshot with aces folding first in fails with exit code 1 and
the scenario's diagnosis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.export import export_blueprint
from holdemd.cli import main
from holdemd.config.loader import load_config
from holdemd.config.schema import Config
from holdemd.games.compiled import FOLD
from holdemd.games.factory import build_game
from holdemd.rundir.load import load_snapshot
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

ROOT = Path(__file__).resolve().parents[2]
# Measured over seeds 1, 4, 11, 12, 21, 22 at 200,000 iterations: AA folds at most 0.7% first
# in, AsTs folds the river nuts to an all-in at most 3.5% (1.5% at 400,000) and AA calls the
# preflop shove at least 98.1%; the thresholds are 5%, 5% and 95%. 300,000 take about 4 s.
ITERATIONS = 300_000
SNAPSHOT = f"it-{ITERATIONS:012d}"

pytestmark = pytest.mark.needs_jit(reason="trains heads-up Hold'em for 300,000 iterations")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(run directory of a hunl_quick run trained 200,000 iterations, one with aces broken)."""
    root = tmp_path_factory.mktemp("litmus-hunl")
    config = load_config(ROOT / "configs" / "hunl_quick.yaml")
    config = Config(game=config.game, abstraction=config.abstraction)
    game = build_game(config.game, config.abstraction.buckets)
    tables = Tables.zeros(game)
    ExternalSamplingMCCFR(game, tables, seed=11).run(ITERATIONS)
    manifest = snapshot_manifest(
        config, game, iteration=ITERATIONS, elapsed=3.0, rng_state=0, sequence=0
    )
    run, broken = root / "run", root / "broken"
    write_snapshot(
        run, SNAPSHOT, {"regret": tables.regret, "strategy_sum": tables.strategy_sum}, manifest
    )
    blueprint = Blueprint.from_tables(game, tables.strategy_sum, config=config)
    decision = blueprint.decision()
    row = int(game.arrays.node_row_base[decision.node]) + blueprint.hand_bucket(0, "AA").bucket
    sums = tables.strategy_sum.copy()
    sums[row] = 0.0
    sums[row, int(np.flatnonzero(game.arrays.node_action_kind[decision.node] == FOLD)[0])] = 1.0
    write_snapshot(broken, SNAPSHOT, {"regret": tables.regret, "strategy_sum": sums}, manifest)
    return run, broken


def test_a_trained_run_passes_from_the_run_the_snapshot_and_the_file(trained, tmp_path, capsys):
    run, _ = trained
    assert main(["eval", "--litmus", "--run", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"holdem, snapshot {SNAPSHOT} (300,000 iterations)"
    assert lines[1].startswith("scenarios: ") and lines[1].endswith("default.yaml")
    assert lines[2].split() == ["result", "scenario", "expectation", "hands"]
    assert [line.split()[:2] for line in lines[3:6]] == [
        ["pass", "aces-first-in"],
        ["pass", "nuts-call-river-bet"],
        ["pass", "aces-call-allin"],
    ]
    assert lines[6].startswith("3 of 3 passed; 5 for other games (")

    assert main(["eval", "--litmus", "--run", str(run / "snapshots" / SNAPSHOT), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["passed"], data["failed"], data["total"], data["failing"]) == (3, 0, 3, [])
    assert data["iteration"] == ITERATIONS and data["game"] == "holdem"

    path = tmp_path / "hunl.bp"
    export_blueprint(load_snapshot(run), path)
    assert main(["eval", "--litmus", "--blueprint", str(path), "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    assert from_file["passed"] == 3 and from_file["source"] == str(path)
    for a, b in zip(data["results"], from_file["results"], strict=True):
        for x, y in zip(a["hands"], b["hands"], strict=True):
            assert x["probability"] == pytest.approx(y["probability"], abs=0.01)


def test_aces_folding_fails_with_exit_1_and_the_diagnosis(trained, tmp_path, capsys):
    _, broken = trained
    assert main(["eval", "--litmus", "--run", str(broken), "--snapshot", "latest"]) == 1
    out = capsys.readouterr().out.splitlines()
    fail = next(i for i, line in enumerate(out) if line.startswith("FAIL"))
    assert out[fail].split()[:4] == ["FAIL", "aces-first-in", "P(fold)", "<="]
    assert "AA 100%" in out[fail]
    assert (
        out[fail + 1]
        == "        BTN to act preflop at the start of the hand: pot 1.5 bb, 0.5 bb to call"
    )
    assert out[fail + 2].startswith("        AA folds 100% of the time first in (BTN, preflop; at")
    assert out[-1].startswith("2 of 3 passed, 1 failed (aces-first-in); 5 for other games")

    # A user file can replace the shipped scenarios: without aces-first-in the run passes.
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "replace_default: true\nscenarios:\n"
        "  - {name: kings, games: heads_up, hands: KK, expect: {action: fold, at_most: 0.05},"
        " diagnosis: '{hand} folds {probability}'}\n"
    )
    assert main(["eval", "--litmus", "--run", str(broken), "--scenarios", str(mine), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in data["results"]] == ["kings"] and data["passed"] == 1
    assert data["scenario_files"] == [str(mine)]


def test_usage_errors_are_one_line(trained, tmp_path, capsys):
    run, _ = trained
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios:\n  - {name: x, games: [holdem], hands: [AA], diagnosis: d}\n")
    for argv, message in (
        (
            ["--litmus", "--run", str(run), "--scenarios", str(bad)],
            f"{bad}: scenarios[0].expect: missing",
        ),
        (["--litmus"], "--litmus reads --run DIR (a run or a snapshot) or --blueprint FILE"),
        (["--litmus", "--run", str(run), "--vs", "random"], "--vs is another evaluation"),
        (["--run", str(run), "--scenarios", str(bad)], "scenarios are for --litmus; add it"),
        (["--blueprint", str(bad)], "only --litmus reads a blueprint file"),
        ([], "--run DIR is required (or --litmus --blueprint FILE)"),
    ):
        assert main(["eval", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("holdemd: ") and message in err and err.count("\n") == 1, err
