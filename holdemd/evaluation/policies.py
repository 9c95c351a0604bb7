"""Strategies to evaluate: a snapshot's blueprint, and the baseline bots it plays against.

A `Policy` is a table of non-negative action weights that kernels normalize one row at a time,
as `holdemd.solver.tables.average_strategy` does (`holdemd.solver.kernels.normalize`: negative
weights count as zero; an all-zero row is uniform over the legal actions). A blueprint's table is its strategy sums, one
row per infoset (``by_node=False``: row = ``node_row_base[node] + bucket``), so no float64 copy
of a large table is ever made. A bot ignores its cards, so its table has one row per node
(``by_node=True``):

* ``random``: uniform over the legal actions of the tree (fold, call, every bet size, all-in);
* ``call``: always checks or calls;
* ``raise``: always makes the smallest raise the tree offers, and calls when no raise is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from holdemd.games.compiled import CHECK_CALL, RAISE, Game
from holdemd.jit import inline_kernel
from holdemd.solver.kernels.normalize import normalize_positive, positive_part
from holdemd.solver.tables import normalize_rows


class PolicyArrays(NamedTuple):
    """The numeric part of a `Policy`, as kernels take it."""

    weights: np.ndarray  # float[rows, A] (by infoset row) or [nodes, A] (by node)
    by_node: bool


@dataclass(frozen=True)
class Policy:
    name: str
    weights: np.ndarray  # [rows, A] (by infoset row) or [nodes, A] (by node): action weights
    by_node: bool

    @property
    def arrays(self) -> PolicyArrays:
        return PolicyArrays(self.weights, bool(self.by_node))


def blueprint_policy(name: str, strategy_sum: np.ndarray) -> Policy:
    """The average strategy of a snapshot, read from its strategy sums."""
    return Policy(name=name, weights=strategy_sum, by_node=False)


def random_bot(game: Game, dtype: type | np.dtype = np.float32) -> Policy:
    kinds = game.arrays.node_action_kind
    return Policy("random", (kinds >= 0).astype(dtype), by_node=True)


def call_bot(game: Game, dtype: type | np.dtype = np.float32) -> Policy:
    kinds = game.arrays.node_action_kind
    return Policy("call", (kinds == CHECK_CALL).astype(dtype), by_node=True)


def raise_bot(game: Game, dtype: type | np.dtype = np.float32) -> Policy:
    kinds = game.arrays.node_action_kind
    raises = kinds == RAISE
    # Raise actions are listed in ascending amounts, so the first one is the smallest.
    first_raise = raises & (np.cumsum(raises, axis=1) == 1)
    can_raise = raises.any(axis=1, keepdims=True)
    weights = np.where(can_raise, first_raise, kinds == CHECK_CALL)
    return Policy("raise", weights.astype(dtype), by_node=True)


BOTS: dict[str, Callable[[Game, type | np.dtype], Policy]] = {
    "random": random_bot,
    "call": call_bot,
    "raise": raise_bot,
}


def row_probabilities(game: Game, policy: Policy) -> np.ndarray:
    """float64[rows, A]: the policy as per-row probabilities (for exact evaluation)."""
    if not policy.by_node:
        return normalize_rows(game, policy.weights)
    a = game.arrays
    node_of_row = np.zeros(game.num_rows, dtype=np.int64)
    for node in game.decision_nodes():
        base = int(a.node_row_base[node])
        node_of_row[base : base + int(a.street_buckets[a.node_street[node]])] = node
    return normalize_rows(game, policy.weights[node_of_row])


def combine_by_player(game: Game, per_player: list[np.ndarray]) -> np.ndarray:
    """One probability table in which the rows of player p's nodes come from ``per_player[p]``."""
    a = game.arrays
    out = np.empty_like(per_player[0])
    for node in game.decision_nodes():
        base = int(a.node_row_base[node])
        rows = slice(base, base + int(a.street_buckets[a.node_street[node]]))
        out[rows] = per_player[int(a.node_player[node])][rows]
    return out


@inline_kernel
def action_probabilities(
    policy: PolicyArrays,
    row_base: np.ndarray,
    node: int,
    bucket: int,
    n: int,
    out: np.ndarray,
    k: int,
) -> None:
    """Probabilities of the ``n`` legal actions at ``node`` for a player holding ``bucket``,
    into ``out[k, :n]``.

    Parameters
    ----------
    policy : PolicyArrays
        ``weights`` has one row per node (a bot, ``by_node``) or per infoset row (a blueprint).
    row_base : int64[N]
        ``GameArrays.node_row_base``.
    node, bucket, n : int
    out : float64[K, >= n], out
    k : int
        The row of ``out`` to fill.
    """
    index = node if policy.by_node else row_base[node] + bucket
    total = 0.0
    for a in range(n):
        w = positive_part(float(policy.weights[index, a]))
        out[k, a] = w
        total += w
    normalize_positive(out, k, n, total)
