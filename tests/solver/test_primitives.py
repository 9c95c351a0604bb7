"""The shared kernel primitives every kernel uses: bounded draw, card draw, normalization, and
the bucket of a hole pair. Fixed seeds, so the statistical bounds cannot flake."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np

from holdemd.cards import format_card
from holdemd.config.loader import load_config
from holdemd.games.factory import build_game
from holdemd.jit import kernel
from holdemd.solver.kernels.deal import draw_cards, hole_pair_bucket
from holdemd.solver.kernels.normalize import normalize_positive, positive_part
from holdemd.solver.kernels.rng import below, make_rng_state
from holdemd.solver.tables import normalize_block

ROOT = Path(__file__).resolve().parents[2]


@kernel
def _draws(n, count, rng):
    out = np.empty(count, dtype=np.int64)
    for i in range(count):
        out[i] = below(rng, n)
    return out


@kernel
def _deals(pool_size, k, count, rng):
    pool = np.arange(pool_size, dtype=np.int64)
    out = np.empty((count, k), dtype=np.int64)
    cards = np.empty(k, dtype=np.int64)
    for i in range(count):
        draw_cards(pool, pool_size, k, rng, cards, 0)
        for j in range(k):
            out[i, j] = cards[j]
    return out


def _chi_square(counts: np.ndarray) -> float:
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())


def test_below_is_uniform_over_a_deck():
    draws = _draws(52, 52_000, make_rng_state(7))
    assert draws.min() == 0 and draws.max() == 51
    # 51 degrees of freedom: 100 is exceeded with probability 5e-5 (and the seed is fixed).
    assert _chi_square(np.bincount(draws, minlength=52)) < 100


def test_below_has_no_multiply_shift_bias():
    # With n = 3 * 2**30, multiply-shift alone maps two of the 2**32 inputs to every third
    # value (v % 3 == 0) and one to the others: those values would come up half the time.
    # The rejection step makes every value equally likely, so a third of them.
    n = 3 * 2**30
    draws = _draws(n, 30_000, make_rng_state(8))
    assert draws.min() >= 0 and draws.max() < n
    assert abs(np.mean(draws % 3 == 0) - 1 / 3) < 0.02


def test_below_is_the_old_multiply_shift_when_nothing_is_rejected():
    # Streams (and so every seeded run) are unchanged except after a rejection, which for a
    # 52-card deck happens once in 2**32 / 48 (about 90 million) draws.
    rng = make_rng_state(9)
    copy = rng.copy()
    draws = _draws(52, 1_000, rng)
    mask = 2**64 - 1
    state = int(copy[0])
    for got in draws:
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        assert got == ((z >> 32) * 52) >> 32


def test_draw_cards_deals_every_ordered_hand_equally_often():
    deals = _deals(5, 3, 30_000, make_rng_state(10))
    assert all(len(set(row)) == 3 for row in deals.tolist())
    codes = (deals[:, 0] * 5 + deals[:, 1]) * 5 + deals[:, 2]
    counts = np.bincount(codes, minlength=125)
    ordered = [(a * 5 + b) * 5 + c for a in range(5) for b in range(5) for c in range(5)]
    ordered = [x for x in ordered if len({x // 25, x // 5 % 5, x % 5}) == 3]
    assert counts.sum() == counts[ordered].sum()  # nothing else is ever dealt
    # 59 degrees of freedom: 110 is exceeded with probability 5e-5.
    assert _chi_square(counts[ordered]) < 110


def test_normalize_positive_agrees_with_the_numpy_twin():
    rng = np.random.default_rng(11)
    weights = rng.normal(size=(200, 6))
    weights[:20] = -np.abs(weights[:20])  # nothing positive: uniform
    weights[20:30] = 0.0
    legal = rng.integers(1, 7, size=200)
    mask = np.arange(6)[None, :] < legal[:, None]
    want = normalize_block(weights, mask)
    got = weights.copy()
    for k in range(200):
        n = int(legal[k])
        total = 0.0
        for a in range(n):  # the callers' loop (see kernels.normalize)
            got[k, a] = positive_part(weights[k, a])
            total += got[k, a]
        normalize_positive(got, k, n, total)
    np.testing.assert_allclose(np.where(mask, got, 0.0), want, rtol=1e-15, atol=0)
    assert (got[~mask] == weights[~mask]).all()  # columns past n are left alone
    assert positive_part(-0.5) == 0.0 and positive_part(np.nan) == 0.0
    assert positive_part(2.5) == 2.5


def test_hole_pair_bucket_of_the_fixed_board_game_is_the_pair_its_label_names():
    game = build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)
    a = game.arrays
    deck = a.deck.tolist()
    seen = set()
    for lo, hi in combinations(range(len(deck)), 2):
        bucket = int(hole_pair_bucket(a, 1, deck[lo], deck[hi], np.int64(0)))
        assert bucket == int(hole_pair_bucket(a, 3, deck[hi], deck[lo], np.int64(0)))
        assert game.bucket_labels[1][bucket] == format_card(deck[hi]) + format_card(deck[lo])
        seen.add(bucket)
    assert seen == set(range(int(a.street_buckets[1])))
