"""The no-limit tree builder: node arrays sized from the exact count, filled by numba kernels.

``betting.build_record_arrays`` walks the tree with a Python record per node (a few hundred
bytes and ~20 microseconds each: 2.1M nodes took 40 s and gigabytes). Here the tree counter
(``tree_size``) says how many nodes and columns the tree has, the arrays are allocated once at
that size, and :func:`~holdemd.games.tree_kernels.build_nolimit_tree` fills them in the same
node order, so a game built either way is the same game. The histories come out packed
(``PackedStrings``): one byte per letter, no ``str`` per node.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from holdemd.errors import GameError
from holdemd.games import history_kernels, tree_kernels
from holdemd.games.compiled import NOT_TERMINAL, GameArrays, no_bucket_tables
from holdemd.games.nolimit import NoLimitRules
from holdemd.games.packed import PackedStrings
from holdemd.games.tree_size import TreeTooLargeToCount, count_nolimit_tree

# Bytes per node of the arrays one node costs, besides its A columns and P players:
# player, street, num_actions, terminal (int8), row_base (int64), depth (int16).
NODE_BYTES = 4 + 8 + 2
COLUMN_BYTES = 4 + 1 + 8  # children int32, kind int8, amount float64
PLAYER_BYTES = 8 + 1  # contrib float64, alive int8
# A node's history, packed: its bytes (a few letters per action on the path) and its offset.
# Measured: 31 letters per node on 6max_mid, 35 on a 20M-node 6-max tree; the estimate rounds up.
HISTORY_BYTES = 40 + 8
# Arrays for at least this many nodes when the count gave up (they double until the tree fits).
FIRST_CAPACITY = 1 << 16


def tree_bytes(nodes: int, max_actions: int, num_players: int) -> int:
    """What a built tree of this shape holds: node arrays plus packed histories."""
    per_node = NODE_BYTES + COLUMN_BYTES * max_actions + PLAYER_BYTES * num_players
    return nodes * (per_node + HISTORY_BYTES)


def build_nolimit_arrays(
    rules: NoLimitRules,
    street_buckets: Sequence[int],
    deal_kind: int,
    deck: Sequence[int],
    cards_per_deal: int,
) -> tuple[GameArrays, PackedStrings, int]:
    """Compile ``rules`` into arrays; returns (arrays, packed history per node, infoset rows).

    The same arrays, node order and histories as ``betting.build_record_arrays``; the caller
    sets the card fields (bucket tables, fixed board).
    """
    if len(street_buckets) != rules.num_streets:
        raise GameError(
            f"{len(street_buckets)} bucket counts given for {rules.num_streets} streets"
        )
    try:
        counts = count_nolimit_tree(rules)
        capacity, width, at_least = counts.nodes, counts.max_actions, counts.nodes
    except TreeTooLargeToCount as stop:
        # Too varied to count: start from what the count proved and double until it fits.
        at_least = stop.nodes_at_least
        capacity, width = max(2 * at_least, FIRST_CAPACITY), _widest_menu(rules)
    while True:
        _check_room(capacity, width, rules.num_players, at_least)
        built = _expand(rules, capacity, width)
        if built is not None:
            break
        at_least = capacity + 1
        capacity *= 2
    arrays, used = built
    if used < capacity:  # only after an uncountable tree: trim to the nodes built
        arrays = GameArrays._make(_head(field, used) for field in arrays)
    actions = int(arrays.node_num_actions.max())
    if actions < width:
        arrays = arrays._replace(
            node_children=np.ascontiguousarray(arrays.node_children[:, :actions]),
            node_action_kind=np.ascontiguousarray(arrays.node_action_kind[:, :actions]),
            node_action_amount=np.ascontiguousarray(arrays.node_action_amount[:, :actions]),
        )
    buckets = np.asarray(street_buckets, dtype=np.int64)
    row_base, num_rows = _row_bases(arrays, buckets)
    arrays = arrays._replace(
        node_row_base=row_base,
        street_buckets=buckets,
        deal_kind=deal_kind,
        deck=np.asarray(deck, dtype=np.int64),
        cards_per_deal=cards_per_deal,
        max_depth=int(arrays.node_depth.max()),
    )
    return arrays, _histories(arrays, float(rules.stack_chips)), num_rows


def _check_room(capacity: int, width: int, num_players: int, at_least: int) -> None:
    """Stop before allocating arrays that cannot fit (only an uncountable tree gets here with
    no memory check before it: run set-up checks a counted tree's size)."""
    from holdemd.durations import format_bytes
    from holdemd.games.memory_check import available_memory

    needed, free = tree_bytes(capacity, width, num_players), available_memory()
    if needed > free:
        raise GameError(
            f"the betting tree has at least {at_least:,} nodes, and arrays for {capacity:,} "
            f"need {format_bytes(needed)} but only {format_bytes(free)} of memory is "
            "available; use fewer bet sizes, lower max_raises or fewer players"
        )


def _widest_menu(rules: NoLimitRules) -> int:
    """Fold, call, every fraction of the longest menu entry, all-in: an upper bound."""
    longest = max((len(depth) for street in rules.bet_menu for depth in street), default=0)
    return 3 + longest


def _head(field: object, used: int) -> object:
    if isinstance(field, np.ndarray) and field.ndim >= 1 and field.shape[0] > used:
        return field[:used].copy()
    return field


def _expand(rules: NoLimitRules, capacity: int, width: int) -> tuple[GameArrays, int] | None:
    """Run the kernel on arrays for ``capacity`` nodes; None when the tree has more."""
    n, players = capacity, rules.num_players
    streets = rules.num_streets
    arrays = GameArrays(
        node_player=np.empty(n, dtype=np.int8),
        node_street=np.empty(n, dtype=np.int8),
        node_num_actions=np.empty(n, dtype=np.int8),
        node_children=np.full((n, width), -1, dtype=np.int32),
        node_action_kind=np.full((n, width), -1, dtype=np.int8),
        node_action_amount=np.zeros((n, width), dtype=np.float64),
        node_row_base=np.zeros(0, dtype=np.int64),  # filled in after the tree
        node_terminal=np.empty(n, dtype=np.int8),
        node_contrib=np.empty((n, players), dtype=np.float64),
        node_alive=np.empty((n, players), dtype=np.int8),
        node_depth=np.empty(n, dtype=np.int16),
        street_buckets=np.zeros(0, dtype=np.int64),
        deal_kind=0,
        deck=np.zeros(0, dtype=np.int64),
        cards_per_deal=0,
        bucket_tables=no_bucket_tables(),
        fixed_board=np.zeros(0, dtype=np.int64),
        card_slot=np.zeros(0, dtype=np.int64),
        num_players=players,
        max_depth=0,
    )
    depths = max((len(street) for street in rules.bet_menu), default=0) or 1
    fractions = max((len(d) for street in rules.bet_menu for d in street), default=0) or 1
    menu = np.zeros((streets, depths, fractions), dtype=np.float64)
    menu_len = np.zeros((streets, depths), dtype=np.int64)
    for s, street in enumerate(rules.bet_menu):
        for d, sizes in enumerate(street):
            menu[s, d, : len(sizes)] = sizes
            menu_len[s, d] = len(sizes)
    # Every action on a path either takes a player off the round's to-act list or raises, and
    # each raise puts at most every other player back on: a bound on the path's length.
    height = 2 + sum((cap + 1) * players for cap in rules.max_raises)
    status = tree_kernels.build_nolimit_tree(
        players,
        float(rules.stack_chips),
        float(rules.big_blind),
        np.asarray(rules.initial_state().contrib, dtype=np.float64),
        np.array([rules.street_order(s) for s in range(streets)], dtype=np.int64),
        np.asarray(rules.max_raises, dtype=np.int64),
        menu,
        menu_len,
        arrays.node_player,
        arrays.node_street,
        arrays.node_num_actions,
        arrays.node_children,
        arrays.node_action_kind,
        arrays.node_action_amount,
        arrays.node_terminal,
        arrays.node_contrib,
        arrays.node_alive,
        arrays.node_depth,
        np.empty((height, players), dtype=np.int64),
        np.empty(height, dtype=np.int64),
        np.empty(height, dtype=np.int64),
        np.empty(height, dtype=np.int64),
    )
    if status == tree_kernels.OUT_OF_NODES:
        return None
    if status < 0:  # the count or the depth bound is wrong: a bug, not a user mistake
        raise GameError(f"the no-limit tree builder stopped with status {status}")
    return arrays, int(status)


def _row_bases(arrays: GameArrays, buckets: np.ndarray) -> tuple[np.ndarray, int]:
    """First infoset row of each decision node (-1 at terminals), rows in node order."""
    decision = arrays.node_terminal == NOT_TERMINAL
    rows = np.where(decision, buckets[arrays.node_street], 0)
    ends = np.cumsum(rows, dtype=np.int64)
    num_rows = int(ends[-1]) if ends.size else 0
    ends -= rows
    ends[~decision] = -1
    return ends, num_rows


def _histories(arrays: GameArrays, stack: float) -> PackedStrings:
    a = arrays
    fields = (
        a.node_num_actions,
        a.node_children,
        a.node_action_kind,
        a.node_action_amount,
        a.node_player,
        a.node_street,
        a.node_contrib,
        stack,
    )
    offsets = np.empty(a.node_player.shape[0] + 1, dtype=np.int64)
    history_kernels.history_offsets(*fields, offsets)
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    history_kernels.fill_histories(*fields, offsets, data)
    return PackedStrings(data, offsets)
