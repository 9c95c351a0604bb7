"""Estimates over duplicate deals, and the units they are reported in."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from holdemd.config.loader import load_config
from holdemd.evaluation.stats import Z95, Unit, duplicate_estimate
from holdemd.games.factory import build_game, make_game


def test_the_interval_is_over_deals_not_hands():
    # Two plays per deal that always cancel: every deal scores 0, however large each hand.
    values = np.array([[100.0, -100.0], [-40.0, 40.0], [7.0, -7.0]])
    estimate = duplicate_estimate(values, Unit("chips", 1.0))
    assert estimate.mean == 0.0 and estimate.half_width == 0.0
    assert estimate.half_width_single == pytest.approx(Z95 * np.std(values, ddof=1) / math.sqrt(6))
    assert estimate.deals == 3 and estimate.as_dict()["hands"] == 6


def test_mean_and_half_width_in_the_game_unit():
    values = np.array([[1.0, 3.0], [2.0, 2.0], [6.0, 0.0]])  # deal means 2, 2, 3
    estimate = duplicate_estimate(values, Unit("mbb/hand", 10.0))
    assert estimate.mean == pytest.approx(70 / 3)
    assert estimate.half_width == pytest.approx(Z95 * np.std([20, 20, 30], ddof=1) / math.sqrt(3))
    assert estimate.low < estimate.mean < estimate.high
    assert estimate.text() == f"+23.3 ± {estimate.half_width:.1f} mbb/hand"
    assert duplicate_estimate(values[:1], Unit("chips", 1.0)).half_width == math.inf


def test_units():
    assert Unit.of(make_game("leduc")) == Unit("chips/game", 1.0)
    tiny = build_game(
        load_config(Path(__file__).resolve().parents[2] / "configs" / "holdem_tiny.yaml").game
    )
    assert Unit.of(tiny) == Unit("mbb/hand", 10.0)  # 1 chip = 1/100 big blind = 10 mbb


@pytest.mark.needs_jit(reason="needs the kernels")
def test_quality_scalars_for_a_training_curve():
    from holdemd.evaluation.periodic import quality_scalars
    from holdemd.solver.tables import Tables

    tiny = build_game(
        load_config(Path(__file__).resolve().parents[2] / "configs" / "holdem_tiny.yaml").game
    )
    scalars = quality_scalars(tiny, Tables.zeros(tiny).strategy_sum, deals=500, lbr_deals=200)
    assert sorted(scalars) == [
        "eval/lbr",
        "eval/lbr_ci95",
        "eval/vs_call",
        "eval/vs_call_ci95",
        "eval/vs_random",
        "eval/vs_random_ci95",
    ]
    assert scalars["eval/vs_random"] == 0.0  # an untrained (uniform) blueprint is the random bot
    assert scalars["eval/lbr"] > 0
