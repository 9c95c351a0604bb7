"""Canonical boards: one per suit class, with the right class sizes."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from holdemd.abstraction.boards import canonical_boards


def canonical_form(board: tuple[int, ...]) -> tuple[int, ...]:
    """Smallest relabelling of the board under the 24 suit permutations (brute force)."""
    return min(
        tuple(sorted(4 * (c >> 2) + perm[c & 3] for c in board))
        for perm in itertools.permutations(range(4))
    )


@pytest.mark.parametrize(("size", "expected"), [(3, 1755), (4, 16432), (5, 134459)])
def test_counts_and_class_sizes(size: int, expected: int):
    boards, class_sizes = canonical_boards(size)
    assert boards.shape == (expected, size)
    assert class_sizes.sum() == comb(52, size)
    assert set(np.unique(class_sizes)) <= {1, 2, 4, 6, 12, 24}


def test_one_representative_per_class_brute_force():
    boards, class_sizes = canonical_boards(3)
    classes: dict[tuple[int, ...], int] = {}
    for board in itertools.combinations(range(52), 3):
        key = canonical_form(board)
        classes[key] = classes.get(key, 0) + 1
    assert len(classes) == len(boards)
    seen = set()
    for board, size in zip(boards.tolist(), class_sizes.tolist(), strict=True):
        key = canonical_form(tuple(board))
        assert key not in seen
        seen.add(key)
        assert classes[key] == size


def test_bad_size():
    with pytest.raises(ValueError):
        canonical_boards(6)
