"""First-round averaging (``average_streets``), kernel against the pure-Python reference.

The kernel's part: strategy sums grow only at nodes of streets below ``average_streets``
(later streets get snapshot means from the supervisor, not checked here).
"""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.games.factory import make_game
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables
from holdemd.training.schedule_runner import row_streets
from tests.naive.games import holdem_tiny
from tests.naive.reference_cards import classes_for
from tests.naive.reference_mccfr import ReferenceMCCFR, Settings


def _game(name: str):
    if name == "holdem_tiny":
        return holdem_tiny()
    game = make_game(name)
    return game, classes_for(game)


@pytest.mark.parametrize(
    ("name", "average_streets", "linear"),
    [("leduc", 1, False), ("leduc", 1, True), ("holdem_tiny", 1, False), ("holdem_tiny", 2, True)],
)
def test_strategy_sums_only_on_the_first_streets_as_the_reference(name, average_streets, linear):
    game, classes = _game(name)
    kernel = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=5, linear=linear)
    kernel.average_streets = average_streets
    settings = Settings(linear=linear, average_streets=average_streets)
    reference = ReferenceMCCFR(game, make_rng_state(5), settings, classes=classes)
    kernel.run(300)
    reference.iterate(300)
    regret, strategy_sum = reference.as_tables()
    np.testing.assert_allclose(kernel.tables.regret, regret, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(kernel.tables.strategy_sum, strategy_sum, rtol=1e-12, atol=1e-9)
    averaged = row_streets(game) < average_streets
    assert strategy_sum[averaged].any() and not strategy_sum[~averaged].any()


def test_first_round_averaging_with_pruning_and_probe_weights():
    # Probe weights multiply strategy sums too; those below the first round must stay empty.
    game = make_game("leduc")
    warm = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=1)
    warm.run(3_000)
    tables = warm.tables
    settings = Settings(
        prune_probability=0.5, prune_threshold=-2.0 * game.utility_scale, average_streets=1
    )
    kernel = ExternalSamplingMCCFR(
        game, Tables(tables.regret.copy(), tables.strategy_sum.copy()), seed=9
    )
    kernel.prune_probability = settings.prune_probability
    kernel.prune_threshold = settings.prune_threshold
    kernel.average_streets = 1
    reference = ReferenceMCCFR(
        game, make_rng_state(9), settings, regret=tables.regret, strategy_sum=tables.strategy_sum
    )
    kernel.run(300)
    reference.iterate(300)
    regret, strategy_sum = reference.as_tables()
    np.testing.assert_allclose(kernel.tables.regret, regret, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(kernel.tables.strategy_sum, strategy_sum, rtol=1e-12, atol=1e-9)
    later = row_streets(game) > 0
    np.testing.assert_array_equal(strategy_sum[later], tables.strategy_sum[later])
    assert reference.pruned > 0
