"""Real-game best response: exact on the fixed-board game, above LBR on a (small) real Hold'em."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from holdemd.cli import main
from holdemd.config.loader import load_config
from holdemd.config.schema import MaxRaises
from holdemd.errors import ConfigError, UsageError
from holdemd.evaluation.lbr import local_best_response
from holdemd.evaluation.periodic import quality_scalars
from holdemd.evaluation.policies import blueprint_policy
from holdemd.evaluation.rgbr import check_rgbr_game, real_game_best_response, sample_boards
from holdemd.evaluation.stats import Unit, duplicate_estimate
from holdemd.games.factory import build_game, make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables, average_strategy
from tests.evaluation.runs import make_run

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.needs_jit(reason="the board walks need the compiled kernels")


def test_equals_the_exact_best_response_on_the_fixed_board_game():
    tiny = build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)
    tables = Tables.zeros(tiny)
    solver = ExternalSamplingMCCFR(tiny, tables, seed=3)
    evaluator = ExactEvaluator(tiny)
    for iterations in (0, 500, 5_000, 30_000):  # uniform, young and trained snapshots
        solver.run(iterations - solver.iteration)
        probs = average_strategy(tiny, tables.strategy_sum)
        result = real_game_best_response(tiny, probs, boards=7, seed=1)
        assert result.exact and result.boards == 1
        for seat in range(2):
            exact = evaluator.best_response_value(probs, seat)
            assert result.by_group[0, seat] == pytest.approx(exact, abs=1e-6)


def test_cli_prints_the_exact_exploitability_beside_it(tmp_path, capsys):
    config = load_config(ROOT / "configs" / "holdem_tiny.yaml")
    run = make_run(tmp_path / "tiny", config, (3_000,))
    assert main(["eval", "--run", str(run), "--rgbr", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["evaluation"] == "rgbr" and out["exact"]
    assert out["rgbr"]["overall"]["mean"] == pytest.approx(out["exact_exploitability"], abs=1e-5)
    assert main(["eval", "--run", str(run), "--curve", "--rgbr", "--json"]) == 0
    curve = json.loads(capsys.readouterr().out)
    row = curve["rows"][0]["results"]
    assert row["RGBR"]["mean"] == pytest.approx(row["exploitability"]["mean"], abs=1e-5)


def test_refuses_games_it_cannot_measure():
    with pytest.raises(UsageError, match=r"--rgbr: .*heads-up Hold'em, this run is leduc"):
        check_rgbr_game(make_game("leduc"))


@pytest.fixture(scope="module")
def short_hunl():
    """Real Hold'em (52 cards, quick buckets) with a small tree: 4 bb stacks, one raise per
    street, so a flop's every turn and river is walked in seconds."""
    config = load_config(ROOT / "configs" / "hunl_quick.yaml")
    game = build_game(replace(config.game, stack_bb=4, max_raises=MaxRaises(1, 1, 1, 1)), "quick")
    tables = Tables.zeros(game)
    ExternalSamplingMCCFR(game, tables, seed=1).run(20_000)
    return game, tables.strategy_sum


def test_boards_depend_only_on_the_seed(short_hunl):
    game, _ = short_hunl
    first = sample_boards(game, 5, 1, seed=4)
    assert (first == sample_boards(game, 5, 1, seed=4)).all()
    assert (first[:, 3:] == 0).all() and len({tuple(b) for b in first[:, :3]}) == 5
    assert not (first == sample_boards(game, 5, 1, seed=5)).all()


def test_at_least_lbr_on_real_holdem(short_hunl):
    game, strategy_sum = short_hunl
    unit = Unit.of(game)
    probs = average_strategy(game, strategy_sum)
    result = real_game_best_response(game, probs, boards=4, seed=0)
    rgbr = result.estimates(unit)["overall"]
    held_out = result.estimates(unit, held_out=True)["overall"]
    values, _ = local_best_response(game, blueprint_policy("bp", strategy_sum), 3_000, seed=0)
    lbr = duplicate_estimate(values, unit)
    assert rgbr.high >= lbr.low
    assert rgbr.mean >= lbr.mean
    # Choosing preflop lines on the very boards that value them can only flatter them.
    assert held_out.mean <= rgbr.mean + 1e-9
    # Each seat's value is a mean over the same boards.
    seats = result.by_group.mean(axis=0) * unit.per_chip
    assert np.mean(seats) == pytest.approx(rgbr.mean)


def test_quality_evaluation_during_training_reports_it():
    # The fixed-board game: the quality evaluation's RGBR is the exact best response.
    tiny = build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)
    tables = Tables.zeros(tiny)
    ExternalSamplingMCCFR(tiny, tables, seed=2).run(3_000)
    scalars = quality_scalars(tiny, tables.strategy_sum, deals=200, rgbr_boards=3, seed=1)
    probs = average_strategy(tiny, tables.strategy_sum)
    exact = ExactEvaluator(tiny).exploitability(probs) * Unit.of(tiny).per_chip
    assert scalars["eval/rgbr"] == pytest.approx(exact, abs=1e-5)
    assert scalars["eval/rgbr_held_out"] == pytest.approx(exact, abs=1e-5)
    assert "eval/rgbr" not in quality_scalars(tiny, tables.strategy_sum, deals=200, seed=1)


def test_a_config_asking_rgbr_of_a_game_it_cannot_measure_is_refused(tmp_path):
    config = tmp_path / "leduc.yaml"
    text = (ROOT / "configs" / "leduc.yaml").read_text()
    config.write_text(text.replace("quality_rgbr_boards: 0", "quality_rgbr_boards: 5"))
    with pytest.raises(ConfigError, match=r"training.quality_rgbr_boards needs heads-up Hold'em"):
        load_config(config)


def test_street_gains_split_the_best_response_exactly():
    tiny = build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)
    tables = Tables.zeros(tiny)
    ExternalSamplingMCCFR(tiny, tables, seed=3).run(3_000)
    probs = average_strategy(tiny, tables.strategy_sum)
    results = {
        s: real_game_best_response(tiny, probs, 1, 1, respond_from=s, by_street=True)
        for s in (1, 2, 3)
    }
    full = results[1]
    # Following the blueprint everywhere is the blueprint's own value (exact evaluator's).
    value = ExactEvaluator(tiny).game_value(probs)
    assert full.blueprint_by_group is not None and full.street_gains is not None
    assert full.blueprint_by_group[0] == pytest.approx([value, -value], abs=1e-9)
    gains = full.street_gains[0]
    assert (gains >= -1e-9).all() and (gains[:, 1:] > 0).all()
    assert gains.sum(axis=1) == pytest.approx(full.by_group[0] - full.blueprint_by_group[0])
    # A river decision's gain does not depend on how the responder played before it, so the
    # river's (and from the turn on, the turn's) gains are the same whoever responds earlier;
    # streets before the responder starts gain nothing.
    for start, result in results.items():
        assert result.street_gains is not None
        later = result.street_gains[0]
        assert later[:, 3] == pytest.approx(gains[:, 3], abs=1e-9)
        assert later[:, 1:start] == pytest.approx(0.0, abs=1e-12)
    assert results[2].street_gains is not None
    assert results[2].street_gains[0][:, 2] == pytest.approx(gains[:, 2], abs=1e-9)
    # Without by_street the values are the same.
    plain = real_game_best_response(tiny, probs, 1, 1)
    assert plain.street_gains is None and (plain.by_group == full.by_group).all()
    estimates = full.street_estimates(Unit.of(tiny))
    overall = full.estimates(Unit.of(tiny))["overall"].mean
    assert sum(e.mean for e in estimates.values()) == pytest.approx(overall)
