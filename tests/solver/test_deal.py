"""The deal kernel against the pure-Python reference: which cards, and what they mean.

``deal_outcome`` (buckets per street, showdown ranks) is checked on deals drawn here with
numpy, against the abstraction's tables looked up through the public indexer and the
textbook evaluator (tests/naive/reference_cards.py). The kernel's own card draw is checked
for uniformity, and, inside MCCFR, against the reference's deal by the tables it produces.
Only ``_kernel_deals`` and ``reference_cards.deal`` know how the kernel turns random numbers
into cards.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from holdemd.games.compiled import Game
from holdemd.games.factory import make_game
from holdemd.solver.kernels.deal import deal_outcome, draw_cards
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables
from tests.naive.games import holdem_tiny, hunl_quick
from tests.naive.reference_mccfr import ReferenceMCCFR


def _kernel_deals(game: Game, seed: int, count: int) -> np.ndarray:
    """int64[count, cards_per_deal]: consecutive deals of the kernel's sampler, which keeps
    permuting one copy of the deck as MCCFR does."""
    g = game.arrays
    deck = g.deck.copy()
    rng = make_rng_state(seed)
    out = np.zeros((count, g.cards_per_deal), dtype=np.int64)
    for i in range(count):
        draw_cards(deck, deck.shape[0], g.cards_per_deal, rng, out[i], 0)
    return out


def _kernel_outcome(game: Game, cards: np.ndarray) -> tuple[list[list[int]], list[int]]:
    g = game.arrays
    buckets = np.zeros((g.num_players, game.num_streets), dtype=np.int64)
    ranks = np.zeros(g.num_players, dtype=np.int64)
    deal_outcome(g, np.ascontiguousarray(cards, dtype=np.int64), buckets, ranks)
    return buckets.tolist(), ranks.tolist()


def _assert_same_order(reference_ranks: list, kernel_ranks: list[int]) -> None:
    """The kernel's ranks are a strictly increasing function of the reference's strengths."""
    seen: dict = {}
    for strength, rank in zip(reference_ranks, kernel_ranks, strict=True):
        assert seen.setdefault(strength, rank) == rank, (
            f"{strength} got {rank} and {seen[strength]}"
        )
    ordered = [seen[s] for s in sorted(seen)]
    assert all(a < b for a, b in itertools.pairwise(ordered))


def _chi_square(counts: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic of ``counts`` against equal cells, and its degrees of freedom."""
    counts = np.asarray(counts, dtype=np.float64).ravel()
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum()), counts.size - 1


def _generous_bound(df: int) -> float:
    # Mean df, standard deviation sqrt(2 df): seven of them is far beyond chance (and the seed
    # is fixed, so the test cannot flake); a broken sampler misses by orders of magnitude.
    return df + 7.0 * math.sqrt(2.0 * df)


# -- what cards mean ----------------------------------------------------------------------------


def test_holdem_buckets_and_ranks_match_the_reference():
    game, classes = hunl_quick()
    rng = np.random.default_rng(0)
    deals = np.array([rng.permutation(52)[:9] for _ in range(3_000)])
    reference_buckets, reference_ranks = classes.batch(deals)
    strengths, ranks = [], []
    for cards, expected_buckets, expected_ranks in zip(
        deals, reference_buckets, reference_ranks, strict=True
    ):
        buckets, kernel_ranks = _kernel_outcome(game, cards)
        assert buckets == expected_buckets, cards
        assert np.sign(kernel_ranks[0] - kernel_ranks[1]) == (
            (expected_ranks[0] > expected_ranks[1]) - (expected_ranks[0] < expected_ranks[1])
        )
        strengths += expected_ranks
        ranks += kernel_ranks
    _assert_same_order(strengths, ranks)
    assert len(set(strengths)) > 1_000  # many distinct hands, all five streets' worth of cards


def test_holdem_buckets_ignore_suit_names_and_the_order_cards_came_in():
    game, _ = hunl_quick()
    rng = np.random.default_rng(1)
    for _ in range(500):
        cards = rng.permutation(52)[:9]
        relabelled = 4 * (cards // 4) + rng.permutation(4)[cards % 4]
        # Each hole pair, and the flop, in another order; the turn and river stay put.
        for lo, hi in ((0, 2), (2, 4), (4, 7)):
            relabelled[lo:hi] = rng.permutation(relabelled[lo:hi])
        assert _kernel_outcome(game, relabelled) == _kernel_outcome(game, cards), cards


def test_fixed_board_buckets_and_ranks_match_the_reference_on_every_deal():
    game, classes = holdem_tiny()
    strengths, ranks = [], []
    deals = list(itertools.permutations(game.arrays.deck.tolist(), game.arrays.cards_per_deal))
    assert len(deals) == 8 * 7 * 6 * 5
    for cards in deals:
        expected_buckets, expected_ranks = classes(cards)
        buckets, kernel_ranks = _kernel_outcome(game, np.array(cards))
        assert buckets == expected_buckets, cards
        strengths += expected_ranks
        ranks += kernel_ranks
    _assert_same_order(strengths, ranks)


# -- which cards --------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "per_cell"), [("kuhn", 2_000), ("leduc", 200), ("tiny", 30)])
def test_small_deck_deals_are_uniform_over_every_ordered_deal(name, per_cell):
    # Every ordered deal of k cards from the deck equally likely: the full joint distribution.
    game = holdem_tiny()[0] if name == "tiny" else make_game(name)
    deck, k = game.arrays.deck.tolist(), game.arrays.cards_per_deal
    cells = {cards: i for i, cards in enumerate(itertools.permutations(deck, k))}
    deals = _kernel_deals(game, seed=11, count=per_cell * len(cells))
    counts = np.bincount([cells[tuple(d)] for d in deals.tolist()], minlength=len(cells))
    statistic, df = _chi_square(counts)
    assert statistic < _generous_bound(df), f"chi-square {statistic:.1f} with {df} df"


def test_holdem_deals_are_distinct_cards_uniform_in_every_position():
    game, _ = hunl_quick()
    deals = _kernel_deals(game, seed=12, count=20_000)
    assert deals.min() >= 0 and deals.max() < 52
    assert all(len(set(d)) == 9 for d in deals.tolist())  # no card twice in a deal
    for position in range(9):
        statistic, df = _chi_square(np.bincount(deals[:, position], minlength=52))
        assert statistic < _generous_bound(df), f"position {position}: {statistic:.1f}, {df} df"
    # The deck is not reset between deals: consecutive deals must still be independent, so
    # the cards they share follow the hypergeometric law (9 of 52 drawn twice).
    shared = Counter(min(len(set(a) & set(b)), 3) for a, b in itertools.pairwise(deals.tolist()))
    law = [math.comb(9, j) * math.comb(43, 9 - j) / math.comb(52, 9) for j in range(3)]
    law.append(1.0 - sum(law))
    expected = np.array(law) * (len(deals) - 1)
    observed = np.array([shared[j] for j in range(4)])
    statistic = float(((observed - expected) ** 2 / expected).sum())
    assert statistic < _generous_bound(3), f"shared cards {observed} vs {expected.round()}"


# -- the deal inside MCCFR ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "iterations"), [("holdem_tiny", 300), ("hunl_quick", 40)])
def test_kernel_on_holdem_matches_the_reference(name, iterations):
    # The kernel's own deals, buckets and showdowns, through the traversal: the same tables as
    # the reference's deal and card classes on the same seed.
    game, classes = holdem_tiny() if name == "holdem_tiny" else hunl_quick()
    kernel = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=3)
    reference = ReferenceMCCFR(game, make_rng_state(3), classes=classes)
    kernel.run(iterations)
    reference.iterate(iterations)
    regret, strategy_sum = reference.as_tables()
    np.testing.assert_allclose(kernel.tables.regret, regret, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(kernel.tables.strategy_sum, strategy_sum, rtol=1e-12, atol=1e-9)
    assert np.count_nonzero(regret) > 100
