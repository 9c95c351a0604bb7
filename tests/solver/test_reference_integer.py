"""int32 regrets, kernel and merge against plain-Python integer arithmetic, bit for bit.

A change x (in quanta, 2**16 per utility scale) is added as floor(x + u), u a fresh uniform
from the run's generator, and the sum saturates at the int32 range (in the kernel) or at the
schedule's floor (in the supervisor's merge). The reference draws u from the same stream
(tests/naive/reference_mccfr.py says in which order), so the tables must be equal.
"""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.games.compiled import Game
from holdemd.games.factory import make_game
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables, legal_mask, merge_rows
from tests.naive.games import holdem_tiny
from tests.naive.reference_cards import classes_for
from tests.naive.reference_integer import (
    INT32_MAX,
    INT32_MIN,
    QUANTA_PER_UTILITY_SCALE,
    merge_integer_rows,
)
from tests.naive.reference_mccfr import ReferenceMCCFR, Settings


def _integer_tables(game: Game, regret: np.ndarray | None = None) -> Tables:
    tables = Tables.zeros(game, "float64", "int32")
    if regret is not None:
        tables.regret[:] = regret
    return tables


def _near_the_limits(game: Game, seed: int) -> np.ndarray:
    """A third of the legal entries a few updates below INT32_MAX, a third as far above
    INT32_MIN, the rest small: updates there run into the range."""
    rng = np.random.default_rng(seed)
    shape = (game.num_rows, game.max_actions)
    margin = rng.integers(0, 4 * QUANTA_PER_UTILITY_SCALE, shape)
    kind = rng.integers(0, 3, shape)
    regret = np.where(kind == 0, INT32_MAX - margin, np.where(kind == 1, INT32_MIN + margin, 0))
    return np.where(legal_mask(game), regret, 0).astype(np.int32)


def _run_both(game, classes, regret, settings: Settings, seed: int, iterations: int):
    kernel = ExternalSamplingMCCFR(game, _integer_tables(game, regret), seed=seed)
    kernel.prune_probability = settings.prune_probability
    kernel.prune_threshold = settings.prune_threshold
    kernel.average_streets = settings.average_streets
    reference = ReferenceMCCFR(
        game, make_rng_state(seed), settings, classes=classes, regret=regret, integer=True
    )
    kernel.run(iterations)
    reference.iterate(iterations)
    regret_ref, strategy_sum_ref = reference.as_tables()
    assert kernel.tables.regret.dtype == np.int32
    np.testing.assert_array_equal(kernel.tables.regret, regret_ref)
    np.testing.assert_allclose(kernel.tables.strategy_sum, strategy_sum_ref, rtol=1e-12)
    return kernel, reference


@pytest.mark.parametrize("name", ["kuhn", "leduc", "holdem_tiny"])
def test_int32_run_from_zero_matches_the_reference(name):
    game, classes = holdem_tiny() if name == "holdem_tiny" else (make_game(name), None)
    zeros = np.zeros((game.num_rows, game.max_actions), dtype=np.int32)
    kernel, _ = _run_both(game, classes or classes_for(game), zeros, Settings(), 3, 300)
    # Changes are whole quanta, many per chip.
    assert np.abs(kernel.tables.regret).max() > QUANTA_PER_UTILITY_SCALE


def test_int32_run_with_pruning_and_first_round_averaging_matches_the_reference():
    game = make_game("leduc")
    warm = ExternalSamplingMCCFR(game, _integer_tables(game), seed=1)
    warm.run(3_000)
    unit = QUANTA_PER_UTILITY_SCALE / game.utility_scale
    settings = Settings(
        prune_probability=0.5, prune_threshold=-2.0 * game.utility_scale * unit, average_streets=1
    )
    _, reference = _run_both(game, None, warm.tables.regret.copy(), settings, 8, 300)
    assert 0 < reference.pruned < reference.prunable


def test_int32_updates_saturate_at_the_int32_range_as_the_reference():
    game = make_game("leduc")
    regret = _near_the_limits(game, seed=0)
    kernel, reference = _run_both(game, None, regret, Settings(), 4, 300)
    assert reference.saturated > 0
    # Updates drove entries to both ends of the range (measured: 20 and 36 of them).
    after = kernel.tables.regret
    assert ((after == INT32_MAX) & (regret != INT32_MAX)).any()
    assert ((after == INT32_MIN) & (regret != INT32_MIN)).any()


@pytest.mark.parametrize("floor_scales", [None, -3.0])
def test_integer_merge_matches_the_reference(floor_scales):
    # The supervisor's merge of a worker's float delta into int32 regrets: rounding with the
    # merge's generator, the int32 range, the schedule's floor (here 3 utility scales down).
    game = make_game("leduc")
    unit = QUANTA_PER_UTILITY_SCALE / game.utility_scale
    floor = None if floor_scales is None else floor_scales * game.utility_scale * unit + 0.5
    regret = _near_the_limits(game, seed=1)
    worker = ExternalSamplingMCCFR(game, _integer_tables(game, regret), seed=2)
    delta = worker.new_delta_buffer()
    worker.run_into(delta, 200)
    used = int(delta.used[0])
    rows = delta.rows[:used]
    expected = merge_integer_rows(regret, rows, delta.regret[:used], floor, make_rng_state(6))
    tables = _integer_tables(game, regret)
    merged = merge_rows(
        tables, rows, delta.regret[:used], delta.strategy[:used], floor, make_rng_state(6)
    )
    assert merged
    np.testing.assert_array_equal(tables.regret, expected)
    lowest = INT32_MIN if floor is None else int(np.ceil(floor))
    # The merged rows reached the floor (or the bottom of the range) and the top of the range.
    assert tables.regret[rows].min() == lowest and tables.regret[rows].max() == INT32_MAX
