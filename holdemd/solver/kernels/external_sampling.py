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

Here: the traversal, the batch loop around it, and the two helpers that walk the workspace's
stack frames. Elsewhere: the argument bundles and counter layout (``traversal_args``), reading
and writing a row's regrets (``regret_rows``), and the kinds of tables and delta buffers the
traversal goes through (``table_access``). All helpers are inlined, so the compiled traversal
is the same wherever they live.
"""

from __future__ import annotations

from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.deal import deal_outcome, draw_cards
from holdemd.solver.kernels.payoff import payoff
from holdemd.solver.kernels.regret_rows import add_regret, regret_matching
from holdemd.solver.kernels.rng import uniform
from holdemd.solver.kernels.table_access import (
    allocated_row,
    can_fill,
    claim_slot,
    pending_slot,
    row_entry,
)
from holdemd.solver.kernels.traversal_args import (
    COUNTER_DROPPED,
    COUNTER_ITERATIONS,
    COUNTER_NODES,
    COUNTER_PRUNABLE,
    COUNTER_PRUNED,
    IterationWeights,
)


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
