"""Slow pure-Python deals and card classes, the reference for the deal kernel.

A deal is the private cards of every player in player order, then the board. What the cards
mean is written here from the rules of each game, not from the kernel's code:

* Kuhn: the card is the rank; the bucket is the card, the higher card wins.
* Leduc: card = 2 * rank + suit; bucket (private rank) preflop, (private, public rank) after;
  a pair with the public card beats any high card.
* Hold'em with a card abstraction: the bucket on each street is the abstraction's table entry
  at the suit-isomorphic index of (hole cards, board so far), looked up through the public API
  (``load_abstraction`` and ``holdemd.cards.index_hands``); showdown strength is the
  textbook best-five-of-seven score of ``tests/cards/reference_evaluator``.
* Hold'em on a fixed board: the bucket is the hole pair, found by the game's own label for it.

Ranks are whatever orders hands correctly (ints or tuples): the payoff only compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from holdemd.abstraction import CardAbstraction
from holdemd.cards import index_hands, parse_cards
from holdemd.games.compiled import Game
from holdemd.solver.kernels.rng import below
from tests.cards.reference_evaluator import ref_best

# (buckets[player][street], ranks[player]) of a deal.
Classes = tuple[list[list[int]], list[Any]]
CardClasses = Callable[[Sequence[int]], Classes]

HOLDEM_BOARD_SIZES = (0, 3, 4, 5)  # board cards seen on preflop, flop, turn, river


def deal(deck: list[int], k: int, rng: np.ndarray) -> list[int]:
    """The kernel's deal of ``k`` cards: a partial Fisher-Yates shuffle of a deck that is
    never reset between deals (any order of the deck is as good a start as any other).

    This is the only place that depends on how the kernel turns random numbers into cards:
    ``below(rng, n)`` once per card, swapping position i with i + below(n - i). If that
    changes, change this function alone.
    """
    for i in range(k):
        j = i + int(below(rng, len(deck) - i))
        deck[i], deck[j] = deck[j], deck[i]
    return deck[:k]


def kuhn_classes(cards: Sequence[int]) -> Classes:
    return [[c] for c in cards[:2]], list(cards[:2])


def leduc_classes(cards: Sequence[int]) -> Classes:
    public = cards[2] // 2
    privates = [c // 2 for c in cards[:2]]
    buckets = [[r, 3 * r + public] for r in privates]
    ranks = [10 + r if r == public else r for r in privates]
    return buckets, ranks


class HoldemClasses:
    """Buckets from a card abstraction, ranks from the reference evaluator."""

    def __init__(self, abstraction: CardAbstraction, num_players: int = 2) -> None:
        self.tables = abstraction.tables
        self.num_players = num_players

    def __call__(self, cards: Sequence[int]) -> Classes:
        buckets, ranks = self.batch(np.array([list(cards)]))
        return buckets[0], ranks[0]

    def batch(self, deals: np.ndarray) -> tuple[list[list[list[int]]], list[list[Any]]]:
        """Classes of many deals, int[n, 2P + 5] -> per deal, as ``__call__`` returns them."""
        deals = np.asarray(deals, dtype=np.int64)
        board = deals[:, 2 * self.num_players :]
        per_player = []
        for p in range(self.num_players):
            hole = deals[:, 2 * p : 2 * p + 2]
            streets = [
                self.tables[s][index_hands(s, np.hstack([hole, board[:, :size]]))]
                for s, size in enumerate(HOLDEM_BOARD_SIZES)
            ]
            per_player.append(np.stack(streets, axis=1))
        buckets = [
            [per_player[p][d].tolist() for p in range(self.num_players)] for d in range(len(deals))
        ]
        ranks = [
            [
                ref_best([*deal_[2 * p : 2 * p + 2], *deal_[2 * self.num_players :]])
                for p in range(self.num_players)
            ]
            for deal_ in deals.tolist()
        ]
        return buckets, ranks


class FixedBoardClasses:
    """A player's bucket is their hole pair, on every street; the board is known."""

    def __init__(self, game: Game, board: Sequence[int]) -> None:
        self.board = list(board)
        self.num_streets = game.num_streets
        self.num_players = game.num_players
        # The game names each bucket by its two cards: read the pair -> bucket map off those.
        self.bucket_of = {
            frozenset(parse_cards(label).tolist()): b
            for b, label in enumerate(game.bucket_labels[0])
        }

    def __call__(self, cards: Sequence[int]) -> Classes:
        buckets, ranks = [], []
        for p in range(self.num_players):
            hole = list(cards[2 * p : 2 * p + 2])
            buckets.append([self.bucket_of[frozenset(hole)]] * self.num_streets)
            ranks.append(ref_best(hole + self.board))
        return buckets, ranks


def classes_for(game: Game) -> CardClasses:
    """The card classes of Kuhn or Leduc (Hold'em games need their abstraction or board)."""
    if game.name == "kuhn":
        return kuhn_classes
    if game.name == "leduc":
        return leduc_classes
    raise ValueError(f"{game.name}: pass HoldemClasses or FixedBoardClasses explicitly")
