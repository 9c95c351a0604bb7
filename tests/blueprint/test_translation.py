"""Pseudo-harmonic action translation against the formula of Ganzfried & Sandholm (2013)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from holdemd.blueprint.translation import neighbours, pseudo_harmonic


@pytest.mark.parametrize(
    ("a", "b", "x", "expected"),
    [
        # f_A(x) = (B - x)(1 + A) / ((B - A)(1 + x)), worked by hand:
        (0.5, 1.0, 0.75, (0.25 * 1.5) / (0.5 * 1.75)),  # = 3/7 = 0.428571...
        (0.5, 1.0, 0.6, (0.4 * 1.5) / (0.5 * 1.6)),  # = 0.75
        (1.0, 2.0, 1.5, (0.5 * 2.0) / (1.0 * 2.5)),  # = 0.4
        (0.0, 1.0, 0.5, (0.5 * 1.0) / (1.0 * 1.5)),  # check vs pot: a half-pot bet -> 1/3
        (0.25, 1.0, 0.5, (0.5 * 1.25) / (0.75 * 1.5)),  # = 5/9
    ],
)
def test_values_of_the_formula(a, b, x, expected):
    assert pseudo_harmonic(a, b, x) == pytest.approx(expected, abs=1e-15)


def test_the_published_special_cases():
    assert pseudo_harmonic(0.5, 1.0, 0.75) == pytest.approx(3 / 7)
    assert pseudo_harmonic(0.0, 1.0, 0.5) == pytest.approx(1 / 3)  # A = 0 (a check), B = pot


def test_ends_and_monotonicity():
    for a, b in [(0.5, 1.0), (0.33, 0.75), (1.0, 49.5), (0.0, 2.0)]:
        assert pseudo_harmonic(a, b, a) == 1.0
        assert pseudo_harmonic(a, b, b) == 0.0
        xs = np.linspace(a, b, 101)
        values = [pseudo_harmonic(a, b, float(x)) for x in xs]
        assert all(later < earlier for earlier, later in itertools.pairwise(values))
        assert all(0.0 <= v <= 1.0 for v in values)
    with pytest.raises(ValueError):
        pseudo_harmonic(0.5, 1.0, 1.5)


def test_neighbours_on_the_tree_below_and_above_the_menu():
    sizes = [0.5, 1.0, 2.0, 16.2]  # a menu with all-in last
    on = neighbours(sizes, 1.0)  # a size on the tree maps to itself, with probability 1
    assert on.options() == [(1, 1.0)]
    between = neighbours(sizes, 0.75)
    assert (between.below, between.above) == (0, 1)
    assert between.options() == [(0, pytest.approx(3 / 7)), (1, pytest.approx(4 / 7))]
    assert neighbours(sizes, 0.2).options() == [(0, 1.0)]  # below the smallest: the smallest
    assert neighbours(sizes, 20.0).options() == [(3, 1.0)]  # above the largest: the largest
    assert neighbours([1.0, 0.5], 0.75).options()[0][0] == 1  # any order of sizes
