"""Regret and strategy-sum tables, and the strategies read from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from holdemd.games.compiled import Game
from holdemd.solver.kernels.integer_regrets import INT32_LOWEST, add_integer_rows
from holdemd.solver.kernels.merge import add_rows_checked, restore_rows

TABLE_DTYPES = {"float32": np.float32, "float64": np.float64}
REGRET_DTYPES = {**TABLE_DTYPES, "int32": np.int32}

# Integer regrets (Pluribus stores 4-byte ints) count in quanta of 1/2**16 of the game's utility
# scale: the int32 range then spans +-32,768 x the scale, room for Pluribus's floor of -310 x
# with a resolution finer than float32's once |regret| passes 128 x the scale.
INT32_QUANTA_PER_SCALE = 2**16
ROWS_PER_CHUNK = 65_536  # big-table passes work in slices this size: bounded memory and pauses


@dataclass
class Tables:
    """``regret`` and ``strategy_sum``: [rows, max_actions], rows = (decision node, bucket)."""

    regret: np.ndarray
    strategy_sum: np.ndarray

    @classmethod
    def zeros(cls, game: Game, dtype: str = "float32", regret_dtype: str | None = None) -> Tables:
        """Both tables of ``dtype``, or regrets of ``regret_dtype`` (e.g. int32) if given."""
        shape = (game.num_rows, game.max_actions)
        regret = np.zeros(shape, dtype=REGRET_DTYPES[regret_dtype or dtype])
        return cls(regret, np.zeros(shape, dtype=TABLE_DTYPES[dtype]))

    @property
    def nbytes(self) -> int:
        return int(self.regret.nbytes + self.strategy_sum.nbytes)


def row_num_actions(game: Game) -> np.ndarray:
    """int64[rows]: legal actions of each infoset row."""
    a = game.arrays
    out = np.zeros(game.num_rows, dtype=np.int64)
    for node in game.decision_nodes():
        base = int(a.node_row_base[node])
        out[base : base + int(a.street_buckets[a.node_street[node]])] = a.node_num_actions[node]
    return out


def legal_mask(game: Game) -> np.ndarray:
    """bool[rows, A]: which table columns are legal actions."""
    return np.arange(game.max_actions)[None, :] < row_num_actions(game)[:, None]


def normalize_rows(game: Game, weights: np.ndarray) -> np.ndarray:
    """Rows of non-negative weights as probabilities over legal actions; uniform where all zero."""
    return normalize_block(weights, legal_mask(game))


def normalize_block(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`normalize_rows` for any rows, given their legal-action mask (a caller that works
    through a big table in chunks passes each chunk's rows of both).

    The vectorized twin of the kernels' ``kernels.normalize.normalize_positive`` (one row at
    a time inside a traversal, where numpy cannot go); tests/solver check that they agree.
    """
    w = np.where(mask, np.maximum(weights.astype(np.float64), 0.0), 0.0)
    totals = w.sum(axis=1, keepdims=True)
    uniform = mask / mask.sum(axis=1, keepdims=True)
    safe = np.where(totals > 0, totals, 1.0)
    return np.where(totals > 0, w / safe, uniform)


def average_strategy(game: Game, strategy_sum: np.ndarray) -> np.ndarray:
    """float64[rows, A]: the average strategy, the one that converges to equilibrium."""
    return normalize_rows(game, strategy_sum)


def current_strategy(game: Game, regret: np.ndarray) -> np.ndarray:
    """float64[rows, A]: regret matching on the tables (what the next iteration would play)."""
    return normalize_rows(game, regret)


def uniform_strategy(game: Game) -> np.ndarray:
    mask = legal_mask(game)
    return mask / mask.sum(axis=1, keepdims=True)


def integer_regrets(regret: np.ndarray) -> bool:
    return bool(np.issubdtype(regret.dtype, np.integer))


def regret_unit(regret_dtype: np.dtype | type, utility_scale: float) -> float:
    """Table units per unit of utility: 1 for float tables, 2**16 / scale for int32 ones.

    Regret matching is scale-free, so only what adds to regrets (the kernel's increments, the
    supervisor's floor and the prune threshold) needs this; strategies read the same.
    """
    if not np.issubdtype(np.dtype(regret_dtype), np.integer):
        return 1.0
    return INT32_QUANTA_PER_SCALE / utility_scale


def merge_rows(
    tables: Tables,
    rows: np.ndarray,
    regret_delta: np.ndarray,
    strategy_delta: np.ndarray,
    floor: float | None,
    rng: np.ndarray,
) -> bool:
    """Add one delta to both tables: the merge, the only way worker changes reach the tables.

    ``rows`` are distinct (one delta buffer slot per row), so fancy-indexed updates are exact.
    Regrets are clamped at ``floor`` (table units) if given; integer regrets round each change
    stochastically with ``rng`` (a uint64[1] generator state, ``kernels.rng.make_rng_state``)
    and saturate at the int32 range (``kernels.integer_regrets``).

    Returns False, having written nothing, when a float table would get a NaN or an infinity
    (finite deltas can still overflow float32): one bad delta must not poison the tables.
    """
    regret = tables.regret
    strategy_sum = tables.strategy_sum
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    no_floor = -math.inf
    saved_sum = np.empty(strategy_delta.shape, dtype=np.float64)
    if not add_rows_checked(
        strategy_sum, rows, strategy_delta, no_floor, largest_value(strategy_sum), saved_sum
    ):
        return False
    if not add_regret_rows(regret, rows, regret_delta, floor, rng):
        restore_rows(strategy_sum, rows, saved_sum, rows.size, 0)  # every row, whole
        return False
    return True


def add_regret_rows(
    regret: np.ndarray, rows: np.ndarray, delta: np.ndarray, floor: float | None, rng: np.ndarray
) -> bool:
    """The regret half of `merge_rows` (``rows`` int64, distinct): clamped at ``floor``,
    integer regrets rounded stochastically; False, having written nothing, when a float entry
    would not stay finite. A node's replica (``hosts.replica``) adds its workers' deltas so."""
    if integer_regrets(regret):  # saturates: cannot fail
        add_integer_rows(regret, rows, delta, stored_floor(regret, floor), rng)
        return True
    lower = -math.inf if floor is None else float(floor)
    saved = np.empty(delta.shape, dtype=np.float64)
    return bool(add_rows_checked(regret, rows, delta, lower, largest_value(regret), saved))


def largest_value(table: np.ndarray) -> float:
    """The largest value ``table``'s dtype holds."""
    if np.issubdtype(table.dtype, np.integer):
        return float(np.iinfo(table.dtype).max)
    return float(np.finfo(table.dtype).max)


def stored_floor(regret: np.ndarray, floor: float | None) -> float:
    """The lowest value ``regret`` can hold under ``floor``: integer tables hold the next
    integer up, and never less than the int32 minimum."""
    if not integer_regrets(regret):
        return -np.inf if floor is None else floor
    return INT32_LOWEST if floor is None else max(math.ceil(floor), INT32_LOWEST)


def scale_rows(table: np.ndarray, lo: int, hi: int, factor: float) -> None:
    """``table[lo:hi] *= factor`` in place; integer tables round to the nearest quantum."""
    if integer_regrets(table):
        table[lo:hi] = np.rint(table[lo:hi] * factor)
    else:
        table[lo:hi] *= factor
