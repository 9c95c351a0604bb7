"""How a traversal reads and writes the tables: the two kinds of tables (dense, lazily
allocated) and the two kinds of delta buffers (indexed by row, hashed), each a NamedTuple of its
own so that numba compiles `external_sampling`'s traversal once per kind and each kind pays
only for itself. The helpers here pick the kind's variant at compile time (``@overload``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba.extending import overload

from holdemd.jit import kernel


class DeltaBuffer(NamedTuple):
    """A bounded, sparse accumulator of table changes.

    ``slot_of_row[r]`` is -1 until row r is first touched; then its changes live in slot
    ``slot_of_row[r]`` of ``regret``/``strategy``, and ``rows[slot] == r``.
    """

    slot_of_row: np.ndarray  # int32[rows]
    rows: np.ndarray  # int32[capacity]
    regret: np.ndarray  # float[capacity, A]
    strategy: np.ndarray  # float[capacity, A]
    used: np.ndarray  # int64[2]: slots in use; the most rows one iteration has added


class HashedDeltaBuffer(NamedTuple):
    """A `DeltaBuffer` for games with hundreds of millions of rows, where an index by row
    would outweigh the buffer: an open-addressing hash of the rows in use (linear probing,
    at most half full) finds their slots instead.

    A type of its own, so that numba compiles the traversal once per kind of buffer and the
    games that index by row pay nothing for the hash (a runtime branch to it cost Leduc a
    third of its speed).
    """

    hash_rows: np.ndarray  # int64[H], H a power of two: the row in each cell, -1 if free
    hash_slots: np.ndarray  # int32[H]: its slot
    rows: np.ndarray  # int32[capacity]; int64 for games of 2**31 rows or more
    regret: np.ndarray  # float[capacity, A]
    strategy: np.ndarray  # float[capacity, A]
    used: np.ndarray  # int64[2]: slots in use; the most rows one iteration has added


class LiveTables(NamedTuple):
    """The tables a batch reads, and where its changes go: dense tables, read flat.

    Row r starts at entry ``r * stride`` (``stride`` = A). `LazyLiveTables` has the same
    fields and is read through the same helpers (`row_entry`, `allocated_row`), which numba
    compiles for the class it is given: the traversal is one algorithm for both.
    """

    regret: np.ndarray  # float32, float64 or int32 [entries], in table units
    strategy_sum: np.ndarray  # float32 or float64 [entries]
    regret_at: np.ndarray  # unused here (int64[0]); see LazyLiveTables
    strategy_at: np.ndarray  # unused here (int64[0])
    stride: int  # entries per row: A
    used: np.ndarray  # unused here (int64[2])
    delta: Any  # DeltaBuffer or HashedDeltaBuffer: receives the changes unless in_place
    inflight: Any  # the same kind: sent to the tables' owner, not yet merged; read only
    in_place: bool  # write into regret and strategy_sum themselves (delta is then unused)


class LazyLiveTables(NamedTuple):
    """`LiveTables` over lazily allocated tables (``solver.lazy_tables``).

    Row ``node_row_base[node] + bucket`` of a node starts at entry ``at[node] + bucket * n``
    (n: the node's legal actions). ``at[node] < 0``: the block is not allocated; it reads as
    zeros, and an in-place update allocates it at ``used``. A class of its own so that the
    dense traversal pays nothing for this: with the allocation compiled into it (a branch
    never taken), HUNL quick ran at 0.8x (alternating runs, CPU time).
    """

    regret: np.ndarray  # int32, float32 or float64 [capacity]
    strategy_sum: np.ndarray  # float32 or float64 [capacity]
    regret_at: np.ndarray  # int64[nodes]: a node's first regret entry, -1 if none yet
    strategy_at: np.ndarray  # int64[nodes]: the same for the strategy sums
    stride: int  # unused (0)
    used: np.ndarray  # int64[2]: entries allocated in regret, strategy_sum
    delta: Any
    inflight: Any
    in_place: bool


HASHED_ABOVE_ROWS = 1 << 24  # above this many rows a buffer hashes its rows


def make_delta_buffer(
    num_rows: int, max_actions: int, capacity: int, dtype: np.dtype | type = np.float32
) -> DeltaBuffer | HashedDeltaBuffer:
    """A buffer for ``capacity`` rows of a game with ``num_rows``: indexed by row, or hashed
    when the game has more than ``HASHED_ABOVE_ROWS`` rows (an index would cost 4 bytes each)."""
    if num_rows > HASHED_ABOVE_ROWS and capacity < num_rows:
        cells = 1 << int(2 * capacity - 1).bit_length()
        return HashedDeltaBuffer(
            hash_rows=np.full(cells, -1, dtype=np.int64),
            hash_slots=np.zeros(cells, dtype=np.int32),
            # Row numbers pass 2**31 in the biggest 6-max trees (nodes x 200 buckets).
            rows=np.zeros(capacity, dtype=np.int32 if num_rows < 2**31 else np.int64),
            regret=np.zeros((capacity, max_actions), dtype=dtype),
            strategy=np.zeros((capacity, max_actions), dtype=dtype),
            used=np.zeros(2, dtype=np.int64),
        )
    return DeltaBuffer(
        slot_of_row=np.full(num_rows, -1, dtype=np.int32),
        rows=np.zeros(capacity, dtype=np.int32),
        regret=np.zeros((capacity, max_actions), dtype=dtype),
        strategy=np.zeros((capacity, max_actions), dtype=dtype),
        used=np.zeros(2, dtype=np.int64),
    )


def no_delta_buffer(max_actions: int, dtype: np.dtype | type) -> DeltaBuffer:
    """The empty buffer passed in place mode (numba needs an argument of the same type)."""
    buffer = make_delta_buffer(0, max_actions, 0, dtype)
    assert isinstance(buffer, DeltaBuffer)
    return buffer


def _is_lazy(tables) -> bool:
    """Whether tables (or their numba type, at compile time) are `LazyLiveTables`."""
    return getattr(tables, "instance_class", type(tables)) is LazyLiveTables


def _dense_entry(tables, at, node, row, bucket, n):
    return row * tables.stride


def _lazy_entry(tables, at, node, row, bucket, n):
    start = at[node]
    if start < 0:
        return -1
    return start + bucket * n


def _dense_allocated(tables, at, which, table_size, node, row, bucket, n, buckets):
    return row * tables.stride


def _lazy_allocated(tables, at, which, table_size, node, row, bucket, n, buckets):
    if at[node] < 0:
        start = tables.used[which]
        if start + buckets * n > table_size:
            return -1
        tables.used[which] = start + buckets * n
        at[node] = start
    return at[node] + bucket * n


def row_entry(tables, at, node, row, bucket, n):
    """The first entry of a row in a flat table; -1 if its block is not allocated.

    Parameters
    ----------
    tables : LiveTables or LazyLiveTables
    at : int64[nodes]
        ``tables.regret_at`` or ``tables.strategy_at``.
    node, row, bucket, n : int
        The node, its row for the deal, the row's bucket, the node's legal actions.
    """
    impl = _lazy_entry if _is_lazy(tables) else _dense_entry
    return impl(tables, at, node, row, bucket, n)


def allocated_row(tables, at, which, table_size, node, row, bucket, n, buckets):
    """`row_entry`, first allocating a lazy node's block at the end of its arena if it has
    none; -1 when the arena is full (the update is then dropped and counted).

    Parameters
    ----------
    tables : LiveTables or LazyLiveTables, in/out
        ``tables.used[which]`` counts the arena's allocated entries.
    at : int64[nodes], in/out
    which : int
        0: the regret arena, 1: the strategy sums.
    table_size : int
        The arena's capacity in entries.
    node, row, bucket, n : int
        See `row_entry`.
    buckets : int
        Buckets of the node's street: its block holds ``buckets * n`` entries.
    """
    impl = _lazy_allocated if _is_lazy(tables) else _dense_allocated
    return impl(tables, at, which, table_size, node, row, bucket, n, buckets)


# The variants are plain functions, compiled as the overloads' implementations (and inlined).
@overload(row_entry, inline="always")
def _row_entry_compiled(tables, at, node, row, bucket, n):
    return _lazy_entry if _is_lazy(tables) else _dense_entry


@overload(allocated_row, inline="always")
def _allocated_row_compiled(tables, at, which, table_size, node, row, bucket, n, buckets):
    return _lazy_allocated if _is_lazy(tables) else _dense_allocated


@kernel
def hash_cell(hash_rows, row):
    """The cell of ``hash_rows`` holding ``row``, or the free cell where it would go.

    Called, not inlined: numba's SSA pass mishandles this loop when it is inlined into the
    inlined overloads below. Only hashed buffers (games of over 16M rows) make the call.

    Parameters
    ----------
    hash_rows : int64[H], H a power of two
    row : int
    """
    mask = hash_rows.shape[0] - 1
    cell = (row * 2654435761) & mask  # Knuth's multiplicative hash; probing handles the rest
    while hash_rows[cell] >= 0 and hash_rows[cell] != row:
        cell = (cell + 1) & mask
    return cell


def _indexed_pending(delta, row):
    if delta.slot_of_row.shape[0] == 0:
        return -1
    return delta.slot_of_row[row]


def _hashed_pending(delta, row):
    cell = hash_cell(delta.hash_rows, row)
    if delta.hash_rows[cell] < 0:
        return -1
    return delta.hash_slots[cell]


def _indexed_claim(delta, row):
    slot = delta.slot_of_row[row]
    if slot >= 0:
        return slot
    slot = delta.used[0]
    if slot >= delta.rows.shape[0]:
        return -1
    delta.used[0] = slot + 1
    delta.slot_of_row[row] = slot
    delta.rows[slot] = row
    return slot


def _hashed_claim(delta, row):
    cell = hash_cell(delta.hash_rows, row)
    if delta.hash_rows[cell] >= 0:
        return delta.hash_slots[cell]
    slot = delta.used[0]
    if slot >= delta.rows.shape[0]:
        return -1
    delta.used[0] = slot + 1
    delta.hash_rows[cell] = row
    delta.hash_slots[cell] = slot
    delta.rows[slot] = row
    return slot


def _is_hashed(delta) -> bool:
    """Whether a buffer (or its numba type, at compile time) is a `HashedDeltaBuffer`."""
    kind = getattr(delta, "instance_class", type(delta))
    return kind is HashedDeltaBuffer


def pending_slot(delta, row):
    """Slot of row's changes in ``delta``, -1 if none (compiled: the buffer kind's variant)."""
    return _hashed_pending(delta, row) if _is_hashed(delta) else _indexed_pending(delta, row)


def claim_slot(delta, row):
    """Slot for row's changes, claiming a free one; -1 when the buffer is full."""
    return _hashed_claim(delta, row) if _is_hashed(delta) else _indexed_claim(delta, row)


# The variants are plain functions, compiled as the overloads' implementations (and inlined).
@overload(pending_slot, inline="always")
def pending_slot_compiled(delta, row):
    return _hashed_pending if _is_hashed(delta) else _indexed_pending


@overload(claim_slot, inline="always")
def claim_slot_compiled(delta, row):
    return _hashed_claim if _is_hashed(delta) else _indexed_claim


def can_fill(delta):
    """Whether a buffer can fill up: a smaller one than the game's rows (a hashed one is)."""
    return _is_hashed(delta) or delta.rows.shape[0] < delta.slot_of_row.shape[0]


@overload(can_fill, inline="always")
def _can_fill_compiled(delta):
    if _is_hashed(delta):
        return lambda delta: True
    return lambda delta: delta.rows.shape[0] < delta.slot_of_row.shape[0]
