"""Slow, obviously-correct pure-Python references for the cards tests.

Written independently of the kernels: a 5-card hand is scored by grouping its ranks by
multiplicity (the textbook method), 6 and 7 cards by the maximum over all 5-card subsets, and
suit isomorphism by trying all 24 relabellings of the suits.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence

Strength = tuple[int, ...]


def ref_rank5(cards: Sequence[int]) -> Strength:
    """(category, tie-break ranks...) of exactly 5 distinct cards; tuples compare like hands."""
    assert len(cards) == 5 and len(set(cards)) == 5
    ranks = sorted((c // 4 for c in cards), reverse=True)
    flush = len({c % 4 for c in cards}) == 1
    # Ranks ordered by (multiplicity, rank), both descending: AAKKQ -> [A, K, Q].
    groups = sorted(Counter(ranks).items(), key=lambda rc: (rc[1], rc[0]), reverse=True)
    shape = [count for _, count in groups]
    order = [rank for rank, _ in groups]
    straight_top = -1
    if len(groups) == 5:
        if ranks[0] - ranks[4] == 4:
            straight_top = ranks[0]
        elif ranks == [12, 3, 2, 1, 0]:  # A-2-3-4-5: the ace plays low
            straight_top = 3
    if straight_top >= 0 and flush:
        return (8, straight_top)
    if shape == [4, 1]:
        return (7, *order)
    if shape == [3, 2]:
        return (6, *order)
    if flush:
        return (5, *ranks)
    if straight_top >= 0:
        return (4, straight_top)
    if shape == [3, 1, 1]:
        return (3, *order)
    if shape == [2, 2, 1]:
        return (2, *order)
    if shape == [2, 1, 1, 1]:
        return (1, *order)
    return (0, *ranks)


def ref_best(cards: Sequence[int]) -> Strength:
    """Strength of the best 5-card hand among 5..7 cards."""
    return max(ref_rank5(sub) for sub in itertools.combinations(cards, 5))


def five_card_class_representatives() -> list[list[int]]:
    """One 5-card hand for each of the 7,462 distinct hand values.

    Non-flush classes: every rank multiset of 5 (no rank 5 times), with the copies of a rank on
    different suits and, for five distinct ranks, not all on one suit. Flush classes: every set
    of 5 distinct ranks, all clubs.
    """
    hands: list[list[int]] = []
    for ranks in itertools.combinations_with_replacement(range(13), 5):
        counts = Counter(ranks)
        if max(counts.values()) > 4:
            continue
        hand = [4 * r + s for r, n in counts.items() for s in range(n)]
        if len(counts) == 5:
            hand[0] += 1  # one diamond among clubs: not a flush
        hands.append(hand)
    for ranks in itertools.combinations(range(13), 5):
        hands.append([4 * r for r in ranks])
    return hands


def canonical_form(hole: Iterable[int], board: Iterable[int]) -> tuple[tuple[int, ...], ...]:
    """Smallest (sorted hole, sorted board) over all relabellings of the suits."""
    hole = list(hole)
    board = list(board)
    best: tuple[tuple[int, ...], ...] | None = None
    for perm in itertools.permutations(range(4)):
        h = tuple(sorted(4 * (c // 4) + perm[c % 4] for c in hole))
        b = tuple(sorted(4 * (c // 4) + perm[c % 4] for c in board))
        if best is None or (h, b) < best:
            best = (h, b)
    assert best is not None
    return best
