"""Every private hand of a game at once, with its bucket on each street: what batch look-ups,
ranges and exports iterate over.

* Hold'em: the 1,326 hole pairs, pair ``hi * (hi - 1) / 2 + lo`` for card codes ``hi > lo``,
  written high card first (``AsKs``); pairs holding a board card have no combos. Buckets come
  from the card abstraction's tables at each hand's suit-isomorphic index (numba).
* Fixed-board Hold'em: the hole pairs of its deck (its buckets are those pairs).
* Kuhn: the cards J, Q, K. Leduc: the ranks J, Q, K, two cards each (one fewer for the rank of
  the public card); the round-two bucket is ``3 * private + public``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from holdemd.blueprint.kernels import NUM_PAIRS, pair_buckets, pair_indices
from holdemd.cards import BOARD_SIZES, format_card
from holdemd.games.compiled import DEAL_HOLDEM, DEAL_HOLDEM_FIXED_BOARD, DEAL_KUHN, Game


@dataclass(frozen=True)
class HandSet:
    labels: tuple[str, ...]
    cards: np.ndarray  # int64[H, 2]: each hand's cards (-1 past them; Leduc: the rank)
    combos: np.ndarray  # float64[H]: combinations left by the board
    overlap: str  # "cards": hands sharing a card exclude each other; "ranks": Leduc's 2 per rank
    board: np.ndarray  # int64[k]: the board (Hold'em card codes; Leduc: the public rank)
    game: Game
    tables: tuple[np.ndarray, ...]

    def buckets(self, street: int) -> np.ndarray:
        """int64[H]: each hand's bucket on ``street`` (0 for a hand without combos)."""
        kind = self.game.arrays.deal_kind
        if kind == DEAL_HOLDEM:
            indices = np.empty(NUM_PAIRS, dtype=np.int64)
            pair_indices(street, self.board[: BOARD_SIZES[street]], indices)
            out = np.empty(NUM_PAIRS, dtype=np.int64)
            pair_buckets(indices, self.tables[street], out)
            return np.maximum(out, 0)
        if kind in (DEAL_HOLDEM_FIXED_BOARD, DEAL_KUHN) or street == 0:
            return np.arange(len(self.labels), dtype=np.int64)
        return 3 * np.arange(3, dtype=np.int64) + int(self.board[0])  # Leduc, round 2


@cache
def hole_pairs() -> tuple[tuple[str, ...], np.ndarray]:
    """(labels, int64[1326, 2] cards, high card first) of every hole pair, in pair order."""
    labels = []
    cards = np.zeros((NUM_PAIRS, 2), dtype=np.int64)
    for hi in range(1, 52):
        for lo in range(hi):
            k = hi * (hi - 1) // 2 + lo
            cards[k] = (hi, lo)
    for hi, lo in cards:
        labels.append(format_card(int(hi)) + format_card(int(lo)))
    return tuple(labels), cards


def hand_set(game: Game, board: np.ndarray, tables: tuple[np.ndarray, ...]) -> HandSet:
    """The game's hands with ``board`` (Hold'em card codes; Leduc: ``[public rank]`` or empty)."""
    a = game.arrays
    board = np.asarray(board, dtype=np.int64)
    if a.deal_kind == DEAL_HOLDEM:
        labels, cards = hole_pairs()
        blocked = np.isin(cards, board).any(axis=1)
        combos = np.where(blocked, 0.0, 1.0)
        return HandSet(labels, cards, combos, "cards", board, game, tables)
    if a.deal_kind == DEAL_HOLDEM_FIXED_BOARD:
        deck = a.deck
        labels = game.bucket_labels[0]
        cards = np.zeros((len(labels), 2), dtype=np.int64)
        for hi in range(1, len(deck)):
            for lo in range(hi):
                cards[hi * (hi - 1) // 2 + lo] = (deck[hi], deck[lo])
        combos = np.ones(len(labels))
        return HandSet(labels, cards, combos, "cards", a.fixed_board.astype(np.int64), game, tables)
    ranks = game.bucket_labels[0]
    cards = np.stack([np.arange(3), np.full(3, -1)], axis=1).astype(np.int64)
    if a.deal_kind == DEAL_KUHN:
        return HandSet(ranks, cards, np.ones(3), "cards", board, game, tables)
    combos = np.full(3, 2.0)
    if board.size:
        combos[int(board[0])] -= 1.0
    return HandSet(ranks, cards, combos, "ranks", board, game, tables)


def posterior_weights(hands: HandSet, own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """float64[H]: ``own`` range weights (combos x reach) times the weight of the other player's
    hands that can be held alongside each hand (card removal), normalized to sum to one."""
    total = float(other.sum())
    if hands.overlap == "ranks":
        reach_other = np.divide(
            other, hands.combos, out=np.zeros_like(other), where=hands.combos > 0
        )
        compatible = total - reach_other  # one combo of the own rank is gone
    else:
        card_sum = np.zeros(52)
        cards = hands.cards
        for column in range(cards.shape[1]):
            held = cards[:, column] >= 0
            np.add.at(card_sum, cards[held, column], other[held])
        compatible = np.full(len(other), total)
        for column in range(cards.shape[1]):
            held = cards[:, column] >= 0
            compatible[held] -= card_sum[cards[held, column]]
        two = (cards >= 0).all(axis=1)
        compatible[two] += other[two]  # the hand itself was taken away twice
    weights = own * np.maximum(compatible, 0.0)
    total_weight = weights.sum()
    return weights / total_weight if total_weight > 0 else weights
