"""River buckets: equal-mass cuts of the equity distribution, and the river pass."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.abstraction.boards import canonical_boards
from holdemd.abstraction.equity import NUM_EQUITY_VALUES
from holdemd.abstraction.river import equal_mass_lut, river_pass
from holdemd.abstraction.sampling import sample_indices
from holdemd.cards import index_hands, num_indices
from tests.abstraction.reference import river_numerator


def test_equal_mass_lut_on_uniform_weights():
    lut = equal_mass_lut(np.ones(NUM_EQUITY_VALUES), 50)
    assert lut[0] == 0 and lut[-1] == 49
    assert (np.diff(lut) >= 0).all()
    sizes = np.bincount(lut, minlength=50)
    assert sizes.min() >= NUM_EQUITY_VALUES // 50 - 1 and sizes.max() <= NUM_EQUITY_VALUES // 50 + 2


def test_equal_mass_lut_with_a_heavy_value_keeps_every_bucket():
    rng = np.random.default_rng(0)
    weights = rng.integers(1, 100, NUM_EQUITY_VALUES).astype(float)
    weights[990] = weights.sum()  # half the mass at equity 1/2 (the board plays)
    weights[:100] = 0  # and some impossible numerators
    lut = equal_mass_lut(weights, 200)
    assert (np.diff(lut) >= 0).all()
    assert len(np.unique(lut[weights > 0])) == 200
    mass = np.bincount(lut, weights=weights, minlength=200)
    others = np.delete(mass, lut[990])
    assert others.max() / others.min() < 3


def test_equal_mass_lut_with_fewer_values_than_buckets():
    weights = np.zeros(NUM_EQUITY_VALUES)
    weights[[3, 500, 1980]] = 1
    lut = equal_mass_lut(weights, 10)
    assert [lut[3], lut[500], lut[1980]] == [0, 1, 2]


def test_equal_mass_lut_rejects_bad_input():
    with pytest.raises(ValueError):
        equal_mass_lut(np.ones(5), 3)
    with pytest.raises(ValueError):
        equal_mass_lut(np.ones(NUM_EQUITY_VALUES), 0)


def test_river_pass_writes_the_equity_of_every_hand_on_its_boards():
    boards, _ = canonical_boards(5)
    picks = [0, 50_000, len(boards) - 1]
    lut = np.arange(NUM_EQUITY_VALUES, dtype=np.uint16)  # identity: the table holds numerators
    table = np.zeros(num_indices(3), dtype=np.uint16)  # lazily allocated pages
    for pick in picks:
        river_pass(boards, pick, pick + 1, 2, lut, table)
    rng = np.random.default_rng(1)
    for pick in picks:
        board = boards[pick].astype(np.int64)
        rest = np.setdiff1d(np.arange(52), board)
        for _ in range(5):
            hole = rng.choice(rest, 2, replace=False)
            # Relabel the suits at random: the isomorphic hand has the same index, so the
            # pass (which saw only the canonical board) has written it too.
            perm = rng.permutation(4)
            cards = np.concatenate([hole, board])
            relabelled = 4 * (cards >> 2) + perm[cards & 3]
            index = index_hands(3, relabelled[None, :])[0]
            assert table[index] == river_numerator(hole, board)


def test_sampling_is_deterministic_and_in_range():
    for street in (1, 2, 3):
        a = sample_indices(street, 1000, 7)
        assert (a >= 0).all() and (a < num_indices(street)).all()
        np.testing.assert_array_equal(a, sample_indices(street, 1000, 7))
        assert not np.array_equal(a, sample_indices(street, 1000, 8))
    with pytest.raises(ValueError):
        sample_indices(0, 10, 0)
