"""Negative-regret pruning and its probe weights, kernel against the pure-Python reference.

The reference (tests/naive/reference_mccfr.py) is written from the definition: one coin per
iteration decides whether it prunes, so an update a pruning iteration would not make is made
on a 1 - p share of iterations and gets weight 1 / (1 - p), once, however many skippable
actions lie above it. (Until December 2026 the kernel multiplied it in once per skippable
action, over-weighting what lies below two of them by 1 / (1 - p) again;
``test_probe_weights_below_nested_skippable_actions`` is the case that caught it.)
"""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.games.compiled import Game
from holdemd.games.factory import make_game
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables, legal_mask
from tests.naive.reference_mccfr import ExpectedUpdates, ReferenceMCCFR, Settings


def _trained(game: Game, iterations: int) -> Tables:
    solver = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=1)
    solver.run(iterations)
    return solver.tables


def _hostile(game: Game, seed: int) -> np.ndarray:
    """Regrets where half the actions are far below zero and every row keeps a positive one:
    skippable actions everywhere, often one below another, and never with any probability."""
    rng = np.random.default_rng(seed)
    mask = legal_mask(game)
    regret = rng.random(mask.shape) * game.utility_scale
    regret[rng.random(mask.shape) < 0.5] *= -10.0
    for row in range(game.num_rows):
        legal = np.flatnonzero(mask[row])
        if not (regret[row, legal] > 0).any():
            regret[row, rng.choice(legal)] = game.utility_scale
    return np.where(mask, regret, 0.0)


def _all_negative(game: Game, seed: int) -> np.ndarray:
    """Regrets all below zero, so strategies are uniform: some actions far below the
    threshold of -2 utility scales, the rest just below zero, in some rows every action."""
    rng = np.random.default_rng(seed)
    mask = legal_mask(game)
    near = -rng.random(mask.shape)
    far = -2.5 - 20.0 * rng.random(mask.shape)
    regret = np.where(rng.random(mask.shape) < 0.5, far, near) * game.utility_scale
    return np.where(mask, regret, 0.0)


def _both(game: Game, regret: np.ndarray, strategy_sum: np.ndarray, settings: Settings, seed: int):
    kernel = ExternalSamplingMCCFR(game, Tables(regret.copy(), strategy_sum.copy()), seed=seed)
    kernel.prune_probability = settings.prune_probability
    kernel.prune_threshold = settings.prune_threshold
    reference = ReferenceMCCFR(
        game, make_rng_state(seed), settings, regret=regret, strategy_sum=strategy_sum
    )
    return kernel, reference


def _assert_same_tables(kernel: ExternalSamplingMCCFR, reference: ReferenceMCCFR) -> None:
    regret, strategy_sum = reference.as_tables()
    np.testing.assert_allclose(kernel.tables.regret, regret, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(kernel.tables.strategy_sum, strategy_sum, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("probability", [1.0, 0.95, 0.5])
def test_pruning_on_trained_leduc_matches_the_reference(probability):
    # Trained regrets: what pruning meets in a run. Pruning iterations skip (the counters
    # agree too), the others probe with weight 1/(1 - p).
    game = make_game("leduc")
    tables = _trained(game, 3_000)
    settings = Settings(prune_probability=probability, prune_threshold=-2.0 * game.utility_scale)
    kernel, reference = _both(game, tables.regret, tables.strategy_sum, settings, seed=7)
    kernel.run(300)
    reference.iterate(300)
    _assert_same_tables(kernel, reference)
    assert kernel.pruned_actions == (reference.pruned, reference.prunable)
    assert 0 < reference.pruned < reference.prunable  # the threshold fires, and not everywhere
    assert not np.array_equal(kernel.tables.regret, tables.regret)


def test_kuhn_never_prunes_its_only_street_but_draws_the_coin():
    # Kuhn's one street is the last: nothing is ever skipped nor reweighted. The coin is still
    # drawn each iteration, which the reference must follow to stay in step.
    game = make_game("kuhn")
    tables = _trained(game, 300)
    settings = Settings(prune_probability=0.5, prune_threshold=-0.5)
    kernel, reference = _both(game, tables.regret, tables.strategy_sum, settings, seed=3)
    kernel.run(300)
    reference.iterate(300)
    _assert_same_tables(kernel, reference)
    assert kernel.pruned_actions == (0, 0) == (reference.pruned, reference.prunable)
    assert (tables.regret < settings.prune_threshold).any()  # so there was something to skip


@pytest.mark.parametrize("probability", [1.0, 0.75])
def test_pruning_where_skipped_actions_have_probability_matches_the_reference(probability):
    # With every regret negative a skipped action still has probability (the strategy is
    # uniform): the node's value is then the average over the explored actions, renormalized.
    # Where every action is skippable, none is skipped.
    game = make_game("leduc")
    regret = _all_negative(game, seed=0)
    threshold = -2.0 * game.utility_scale
    settings = Settings(prune_probability=probability, prune_threshold=threshold)
    kernel, reference = _both(game, regret, np.zeros_like(regret), settings, seed=5)
    kernel.run(200)
    reference.iterate(200)
    assert reference.renormalized > 0 and reference.kept_all > 0
    _assert_same_tables(kernel, reference)
    assert kernel.pruned_actions == (reference.pruned, reference.prunable)


def test_probe_weights_below_nested_skippable_actions():
    # Hostile regrets put skippable actions below skippable actions (on Leduc's first round,
    # e.g. check at the root, then a re-raise after the opponent's raise): what lies below two
    # of them gets 1 / (1 - p) once, as in the reference.
    game = make_game("leduc")
    regret = _hostile(game, seed=4)
    settings = Settings(prune_probability=0.75, prune_threshold=-2.0 * game.utility_scale)
    kernel, reference = _both(game, regret, np.zeros_like(regret), settings, seed=7)
    kernel.run(200)
    reference.iterate(200)
    assert reference.nested > 0
    _assert_same_tables(kernel, reference)


@pytest.mark.parametrize("traverser", [0, 1])
def test_probe_weights_make_pruning_unbiased(traverser):
    # Exact expectations (every deal, every opponent action, by probability), so nothing can
    # flake: p * E[update | prune] + (1 - p) * E[update | probe] = E[update without pruning],
    # for every regret and strategy sum. It needs skipped actions to have probability zero
    # (they do whenever their row has a positive regret, as in _hostile): a pruning iteration
    # then computes the same node values as a full one.
    game = make_game("leduc")
    regret = _hostile(game, seed=4)
    p = 0.75
    settings = Settings(prune_probability=p, prune_threshold=-2.0 * game.utility_scale)
    plain, pruning, probing = (ExpectedUpdates(game, regret, settings) for _ in range(3))
    plain.traversal(traverser, prune=False, probe=1.0)
    pruning.traversal(traverser, prune=True, probe=1.0)
    probing.traversal(traverser, prune=False, probe=1.0 / (1.0 - p))
    assert pruning.pruned > 0  # pruning skipped something...
    assert probing.nested > 0  # ...sometimes below something else it skipped...
    for field in ("regret_change", "strategy_change"):
        expected = getattr(plain, field).as_array()
        mixed = (
            p * getattr(pruning, field).as_array() + (1 - p) * getattr(probing, field).as_array()
        )
        assert not np.allclose(getattr(pruning, field).as_array(), expected)  # ...that matters
        np.testing.assert_allclose(mixed, expected, rtol=1e-12, atol=1e-12)
