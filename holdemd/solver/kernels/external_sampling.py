"""External-sampling MCCFR (Lanctot et al. 2009) over a compiled game.

One *iteration* is one traversal for each player in turn (the OpenSpiel convention), each on a
freshly sampled deal. At the traverser's nodes every action is explored and regrets are updated;
at other players' nodes one action is sampled from the current strategy and that strategy is
added to the strategy sum ("simple" averaging, as in OpenSpiel and Pluribus).

Updates go either straight into the tables (``in_place``) or into a `DeltaBuffer` that the caller
ships elsewhere (a worker sending deltas to the supervisor, the tables' only writer). In delta
mode the current strategy is computed from table + pending delta, so a single worker sees its own
updates exactly as in place mode does: the same seed gives the same numbers either way.

The traversal is a loop with an explicit stack of the traverser's nodes (opponent nodes need no
frame: their value is their sampled child's), never recursion (see ``kernels/__init__``).

Over the 400-line guideline on purpose: the traversal, its argument bundles and the batch loop
around it are one algorithm whose inlined helpers must compile together; split across modules
the helpers would still be read only here, and the bundles' fields are the traversal's
vocabulary (most of the length is their numpydoc). The kinds of tables and delta buffers it
reads and writes through, and their helpers, are in ``table_access``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import types
from numba.extending import overload

from holdemd.games.compiled import GameArrays
from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.deal import deal_outcome, draw_cards
from holdemd.solver.kernels.integer_regrets import INT32_LOWEST, rounded_sum
from holdemd.solver.kernels.normalize import normalize_positive, positive_part
from holdemd.solver.kernels.payoff import payoff
from holdemd.solver.kernels.rng import uniform
from holdemd.solver.kernels.table_access import (
    allocated_row,
    can_fill,
    claim_slot,
    pending_slot,
    row_entry,
)

# counters[] layout, shared with Python callers.
COUNTER_NODES = 0  # nodes visited (decision and terminal)
COUNTER_DROPPED = 1  # row updates dropped because the delta buffer was full
COUNTER_ITERATIONS = 2  # iterations completed
COUNTER_PRUNED = 3  # traverser actions skipped by negative-regret pruning
COUNTER_PRUNABLE = 4  # traverser actions at nodes where pruning was allowed this iteration
NUM_COUNTERS = 6


class Workspace(NamedTuple):
    """Scratch arrays a traversal needs, allocated once per caller."""

    strat: np.ndarray  # float64[D + 1, A]: current strategy at each stacked traverser node
    vals: np.ndarray  # float64[D + 1, A]: child values at each stacked traverser node
    frame_node: np.ndarray  # int64[D + 1]
    frame_row: np.ndarray  # int64[D + 1]
    frame_action: np.ndarray  # int64[D + 1]: action being explored
    pruned: np.ndarray  # bool[D + 1, A]: actions the stacked node skips this traversal
    any_pruned: np.ndarray  # bool[D + 1]: whether ``pruned`` of the frame holds any True
    probed: np.ndarray  # bool[D + 1]: nothing skipped, but ``pruned`` marks actions to reweight
    frame_mult: np.ndarray  # float64[D + 1]: weight multiplier of the updates at the frame
    opp_strat: np.ndarray  # float64[1, A]
    deck: np.ndarray  # int64[C]: permuted in place by the sampler
    cards: np.ndarray  # int64[cards_per_deal]
    buckets: np.ndarray  # int64[P, S]
    ranks: np.ndarray  # int64[P]


class BatchSettings(NamedTuple):
    """What the schedule sets for a batch (``holdemd.solver.schedule``); see `run_iterations`."""

    first_iteration: int  # global index of the batch's first iteration, 0-based
    linear: bool  # weight increments by the iteration number (linear CFR)
    regret_unit: float  # regret-table units per unit of utility (``tables.regret_unit``)
    prune_probability: float  # chance that an iteration prunes
    prune_threshold: float  # in table units
    average_streets: int  # strategy sums only on streets below this


def batch_settings(
    first_iteration: int,
    *,
    linear: bool = False,
    regret_unit: float = 1.0,
    prune_probability: float = 0.0,
    prune_threshold: float = 0.0,
    average_streets: int = 127,
) -> BatchSettings:
    """`BatchSettings` with each field of one fixed type, so numba compiles one signature.

    The defaults change nothing: no pruning, strategy sums on every street.
    """
    return BatchSettings(
        first_iteration=int(first_iteration),
        linear=bool(linear),
        regret_unit=float(regret_unit),
        prune_probability=float(prune_probability),
        prune_threshold=float(prune_threshold),
        average_streets=int(average_streets),
    )


class IterationWeights(NamedTuple):
    """How much one iteration's updates count; set by `run_iterations` for `traverse`."""

    weight: float  # multiplies every strategy-sum increment (1, or t for linear CFR)
    regret_weight: float  # multiplies every regret increment: weight * regret_unit
    prune: bool  # this iteration skips actions below the prune threshold
    probe_weight: float  # 1, or 1 / (1 - prune probability) on what pruning would skip


def make_workspace(game: GameArrays, max_actions: int) -> Workspace:
    depth = game.max_depth + 1
    return Workspace(
        strat=np.zeros((depth, max_actions)),
        vals=np.zeros((depth, max_actions)),
        frame_node=np.zeros(depth, dtype=np.int64),
        frame_row=np.zeros(depth, dtype=np.int64),
        frame_action=np.zeros(depth, dtype=np.int64),
        pruned=np.zeros((depth, max_actions), dtype=np.bool_),
        any_pruned=np.zeros(depth, dtype=np.bool_),
        probed=np.zeros(depth, dtype=np.bool_),
        frame_mult=np.ones(depth),
        opp_strat=np.zeros((1, max_actions)),
        deck=game.deck.copy(),
        cards=np.zeros(game.cards_per_deal, dtype=np.int64),
        buckets=np.zeros((game.num_players, game.street_buckets.shape[0]), dtype=np.int64),
        ranks=np.zeros(game.num_players, dtype=np.int64),
    )


@inline_kernel
def regret_matching(tables, entry, pending, sent, n, out, k):
    """Current strategy of a row into ``out[k, :n]``: positive regrets normalized, else uniform.

    Parameters
    ----------
    tables : LiveTables
        The row's regret is ``tables.regret[entry:entry + n]`` (zeros if ``entry`` < 0) plus
        its pending and in-flight changes.
    entry : int
        The row's first entry (`row_entry`).
    pending : int
        Slot of the row in ``tables.delta`` (-1: none).
    sent : int
        Slot of the row in ``tables.inflight`` (-1: none).
    n : int
        Legal actions.
    out : float64[K, >= n], out
    k : int
        Row of ``out`` to fill (an index rather than a view: views cost in the hot loop).
    """
    total = 0.0
    for a in range(n):
        r = float(tables.regret[entry + a]) if entry >= 0 else 0.0
        if pending >= 0:
            r += float(tables.delta.regret[pending, a])
        if sent >= 0:
            r += float(tables.inflight.regret[sent, a])
        r = positive_part(r)
        out[k, a] = r
        total += r
    normalize_positive(out, k, n, total)


@inline_kernel
def _add_integer_regret(regret, entry, change, rng):
    """``regret[entry] += change``, rounded stochastically (`rounded_sum`).

    Parameters
    ----------
    regret : int32[entries], in/out
    entry : int
    change : float
        In table units.
    rng : uint64[1]
    """
    regret[entry] = rounded_sum(regret[entry], change, INT32_LOWEST, rng)


@inline_kernel
def _add_float_regret(regret, entry, change, rng):
    """``regret[entry] += change``.

    Parameters
    ----------
    regret : float32 or float64 [entries], in/out
    entry : int
    change : float
    rng : uint64[1]
        Unused (the integer variant's signature).
    """
    regret[entry] += change


def add_regret(regret, entry, change, rng):
    """``regret[entry] += change`` for a float or an integer regret table (compiled code gets
    the dtype's variant from the overload below; this body runs without JIT)."""
    if np.issubdtype(regret.dtype, np.integer):
        _add_integer_regret(regret, entry, change, rng)
    else:
        _add_float_regret(regret, entry, change, rng)


@overload(add_regret, inline="always")
def _add_regret_compiled(regret, entry, change, rng):
    if isinstance(regret.dtype, types.Integer):
        return lambda regret, entry, change, rng: _add_integer_regret(regret, entry, change, rng)
    return lambda regret, entry, change, rng: _add_float_regret(regret, entry, change, rng)


@inline_kernel
def _next_action(ws, sp, a, n):
    """The first action >= a of frame sp that is not pruned; n if none.

    Parameters
    ----------
    ws : Workspace
    sp : int
        The frame (stack position).
    a : int
    n : int
        Actions of the frame's node.
    """
    if not ws.any_pruned[sp]:
        return a  # the common case: nothing to skip, nothing to read
    while a < n and ws.pruned[sp, a]:
        a += 1
    return a


@inline_kernel
def _action_mult(ws, sp, a, probe_weight):
    """Weight multiplier of the updates at and below action a of frame sp: ``probe_weight``
    if a pruning iteration would skip that action or any action above it on the path, else 1.

    Once per path, not once per skippable action: one coin decides the whole iteration, so an
    update below two skippable actions is still made on a 1 - p share of iterations, and
    1 / (1 - p) makes it unbiased (tests/solver/test_reference_pruning.py checks it against
    exact expectations). The frame's own multiplier is already 1 or ``probe_weight``.

    Parameters
    ----------
    ws : Workspace
    sp : int
        The frame (stack position).
    a : int
    probe_weight : float
        See `traverse`.
    """
    # Written as the frame's multiplier times something, with the test on it last: returning
    # ``probe_weight`` itself compiled to a traversal about 40% slower (Leduc 390k against
    # 710k iterations/s, CPU time, alternating runs), though it is never taken unprobed.
    if ws.probed[sp] and ws.pruned[sp, a] and ws.frame_mult[sp] == 1.0:
        return ws.frame_mult[sp] * probe_weight
    return ws.frame_mult[sp]


@inline_kernel
def traverse(g, traverser, tables, settings, weights, rng, ws, counters):
    """One external-sampling traversal for ``traverser`` on the deal already in ``ws``.

    Parameters
    ----------
    g : GameArrays
    traverser : int
    tables : LiveTables
        Read at every decision; the changes go to the tables (``in_place``) or ``delta``.
    settings : BatchSettings
        ``prune_threshold``: with ``weights.prune``, skip the traverser's actions whose regret
        is below it (Pluribus's negative-regret pruning), except on the last street and for
        actions that end the hand; a skipped action is neither explored nor updated.
        ``average_streets``: strategy sums are accumulated only at nodes of streets below
        this (1: first betting round only, Pluribus's choice; later streets are averaged from
        snapshots).
    weights : IterationWeights
        ``probe_weight`` is 1, or (in an iteration that could have pruned but does not)
        1 / (1 - prune probability): the actions a pruning iteration would skip are explored,
        and every update they lead to (their regret, the traverser's regrets below them, the
        strategy sums on the way) is multiplied by it. Pruning then leaves every update
        unbiased.
    rng : uint64[1]
    ws : Workspace
        ``ws.buckets`` and ``ws.ranks`` hold the deal.
    counters : int64[NUM_COUNTERS]

    Returns
    -------
    float
        The sampled value of the root for ``traverser``.
    """
    # Fields are read where they are used, not unpacked into locals here: with eleven more
    # values live across the loop, Leduc ran about 10% slower (interleaved runs, 4 processes
    # each).
    last_street = g.street_buckets.shape[0] - 1
    sp = -1
    node = 0
    value = 0.0
    visited = 0  # kept in a register; written to counters once at the end
    strat = ws.opp_strat
    mult = 1.0  # weight multiplier of the updates on the current path (see probe_weight)
    while True:
        # Descend to a terminal or to the traverser's next decision.
        while True:
            visited += 1
            player = g.node_player[node]
            if player < 0:
                value = payoff(g.node_contrib, g.node_alive, node, ws.ranks, traverser)
                break
            bucket = ws.buckets[player, g.node_street[node]]
            row = g.node_row_base[node] + bucket
            n = g.node_num_actions[node]
            entry = row_entry(tables, tables.regret_at, node, row, bucket, n)
            pending = -1 if tables.in_place else pending_slot(tables.delta, row)
            sent = -1 if tables.in_place else pending_slot(tables.inflight, row)
            if player == traverser:
                sp += 1
                regret_matching(tables, entry, pending, sent, n, ws.strat, sp)
                ws.frame_node[sp] = node
                ws.frame_row[sp] = row
                skipped = 0
                probing = weights.probe_weight != 1.0
                if (weights.prune or probing) and g.node_street[node] < last_street:
                    for a in range(n):
                        ws.pruned[sp, a] = False
                        if g.node_terminal[g.node_children[node, a]] != 0:
                            continue  # an action that ends the hand is always explored
                        r = float(tables.regret[entry + a]) if entry >= 0 else 0.0
                        if pending >= 0:
                            r += float(tables.delta.regret[pending, a])
                        if sent >= 0:
                            r += float(tables.inflight.regret[sent, a])
                        if r < settings.prune_threshold:
                            ws.pruned[sp, a] = True
                            skipped += 1
                    if skipped == n:  # never prune every action of a node
                        skipped = 0
                    if weights.prune:
                        counters[COUNTER_PRUNABLE] += n
                        counters[COUNTER_PRUNED] += skipped
                ws.probed[sp] = probing and skipped > 0
                if probing:
                    skipped = 0  # explore every action; ``pruned`` only picks the weights
                ws.any_pruned[sp] = skipped > 0
                first = _next_action(ws, sp, 0, n)
                ws.frame_action[sp] = first
                ws.frame_mult[sp] = mult
                mult = _action_mult(ws, sp, first, weights.probe_weight)
                node = g.node_children[node, first]
                continue
            regret_matching(tables, entry, pending, sent, n, strat, 0)
            if g.node_street[node] >= settings.average_streets:
                pass  # averaged from snapshots of the current strategy instead
            elif tables.in_place:
                into = allocated_row(
                    tables,
                    tables.strategy_at,
                    1,
                    tables.strategy_sum.shape[0],
                    node,
                    row,
                    bucket,
                    n,
                    g.street_buckets[g.node_street[node]],
                )
                if into >= 0:
                    for a in range(n):
                        tables.strategy_sum[into + a] += weights.weight * mult * strat[0, a]
                else:
                    counters[COUNTER_DROPPED] += 1
            else:
                slot = claim_slot(tables.delta, row)
                if slot >= 0:
                    for a in range(n):
                        tables.delta.strategy[slot, a] += weights.weight * mult * strat[0, a]
                else:
                    counters[COUNTER_DROPPED] += 1
            r = uniform(rng)
            chosen = n - 1
            cumulative = 0.0
            for a in range(n - 1):
                cumulative += strat[0, a]
                if r < cumulative:
                    chosen = a
                    break
            node = g.node_children[node, chosen]
        # Hand the value up to the traverser's frames, finishing those whose actions are done.
        while True:
            if sp < 0:
                counters[COUNTER_NODES] += visited
                return value
            a = ws.frame_action[sp]
            ws.vals[sp, a] = value
            fnode = ws.frame_node[sp]
            n = g.node_num_actions[fnode]
            following = _next_action(ws, sp, a + 1, n)
            if following < n:
                ws.frame_action[sp] = following
                node = g.node_children[fnode, following]
                mult = _action_mult(ws, sp, following, weights.probe_weight)
                break
            # The node's value over the explored actions; renormalized, as a pruned action
            # still has probability when every regret is negative (uniform strategy).
            any_pruned = ws.any_pruned[sp]
            v = 0.0
            if any_pruned:
                mass = 0.0
                for b in range(n):
                    if not ws.pruned[sp, b]:
                        v += ws.strat[sp, b] * ws.vals[sp, b]
                        mass += ws.strat[sp, b]
                if mass > 0.0:
                    v /= mass
            else:
                for b in range(n):
                    v += ws.strat[sp, b] * ws.vals[sp, b]
            row = ws.frame_row[sp]
            if tables.in_place:
                into = allocated_row(
                    tables,
                    tables.regret_at,
                    0,
                    tables.regret.shape[0],
                    fnode,
                    row,
                    row - g.node_row_base[fnode],
                    n,
                    g.street_buckets[g.node_street[fnode]],
                )
                if into < 0:
                    counters[COUNTER_DROPPED] += 1
                for b in range(n):
                    if into >= 0 and not (any_pruned and ws.pruned[sp, b]):
                        w = weights.regret_weight * _action_mult(ws, sp, b, weights.probe_weight)
                        add_regret(tables.regret, into + b, w * (ws.vals[sp, b] - v), rng)
            else:
                slot = claim_slot(tables.delta, row)
                if slot >= 0:
                    for b in range(n):
                        if not (any_pruned and ws.pruned[sp, b]):
                            w = weights.regret_weight * _action_mult(
                                ws, sp, b, weights.probe_weight
                            )
                            tables.delta.regret[slot, b] += w * (ws.vals[sp, b] - v)
                else:
                    counters[COUNTER_DROPPED] += 1
            value = v
            sp -= 1


@kernel
def run_iterations(g, tables, settings, n_iterations, rng, ws, counters):
    """Run up to ``n_iterations`` MCCFR iterations; returns how many ran.

    Parameters
    ----------
    g : GameArrays
    tables : LiveTables
        ``delta`` holds float buffers whatever the regret dtype (changes in table units). It is
        ignored when ``in_place``; otherwise the batch stops early, at an iteration boundary,
        once the buffer may not hold another iteration's new rows (the caller then drains it).
        ``inflight`` is a buffer sent to the tables' owner but not yet merged: its regrets
        count as part of the tables when computing strategies, so a worker never loses sight
        of its own work (an empty buffer when there is none).
    settings : BatchSettings
        ``first_iteration`` sets the linear-CFR weight t + 1. ``prune_probability`` is the
        chance that an iteration prunes (see `traverse`); 0 draws no random number, so runs
        without pruning are the same as before it existed. The other iterations explore what
        pruning skips, with weight 1 / (1 - prune_probability) (``IterationWeights``).
    n_iterations : int
    rng : uint64[1]
    ws : Workspace
    counters : int64[NUM_COUNTERS]
        Accumulated; see the COUNTER_* indices.
    """
    delta = tables.delta
    in_place = tables.in_place
    prune_probability = settings.prune_probability
    num_players = g.num_players
    k = g.cards_per_deal
    # A buffer with a slot for every row can never fill up; a smaller one may.
    bounded = (not in_place) and can_fill(delta)
    for i in range(n_iterations):
        before = delta.used[0]
        if bounded and before > 0 and before + 2 * delta.used[1] > delta.rows.shape[0]:
            # Stop while there is still room for twice the largest iteration seen since the
            # buffer was emptied: a rule on the buffer alone, so a batch is cut at the same
            # iteration however the caller splits it into calls (repeatable runs).
            return i
        weight = float(settings.first_iteration + i + 1) if settings.linear else 1.0
        regret_weight = weight * settings.regret_unit
        prune = prune_probability > 0.0 and uniform(rng) < prune_probability
        # Importance weighting: what pruning skips gets its expected update from the iterations
        # that do not prune. Without it a skipped action and its subtree learn 1 / (1 - p)
        # times slower, so an action whose regret dips below the threshold for a while and then
        # becomes good again stays pruned, its subtree stale (with two asynchronous workers on
        # Leduc such dips are common, and the stuck actions made pruning hurt convergence).
        probe_weight = 1.0
        if prune_probability > 0.0 and not prune and prune_probability < 1.0:
            probe_weight = 1.0 / (1.0 - prune_probability)
        weights = IterationWeights(weight, regret_weight, prune, probe_weight)
        for traverser in range(num_players):
            draw_cards(ws.deck, ws.deck.shape[0], k, rng, ws.cards, 0)
            deal_outcome(g, ws.cards, ws.buckets, ws.ranks)
            traverse(g, traverser, tables, settings, weights, rng, ws, counters)
        if not in_place:
            added = delta.used[0] - before
            if added > delta.used[1]:
                delta.used[1] = added
        counters[COUNTER_ITERATIONS] += 1
    return n_iterations
