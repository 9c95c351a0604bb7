"""The kernel that compiles a no-limit betting tree into node arrays.

They expand exactly the tree of :func:`holdemd.games.betting.build_record_arrays` (the rules of
:class:`~holdemd.games.nolimit.NoLimitRules` played by ``apply_action`` / ``next_street``), in
the same depth-first pre-order, but keep no object per node: the state of the path being
expanded lives in small per-depth stack arrays, and everything else a node needs (street,
contributions, who is still in) is read back from the node arrays being written. Arithmetic is
the same float64 operations in the same order as the Python rules, so amounts match bit for bit.

No kernel raises (see ``holdemd.jit``): a kernel that runs out of room returns a status and the
caller decides. The histories are written from the finished arrays (``history_kernels``).
"""

from __future__ import annotations

import numpy as np

from holdemd.games.compiled import CHECK_CALL, FOLD, FOLDED, NOT_TERMINAL, RAISE, SHOWDOWN
from holdemd.jit import inline_kernel, kernel

# Status codes of build_nolimit_tree (a count of nodes when >= 0).
OUT_OF_NODES = -1  # more nodes than the arrays hold: grow them and build again
OUT_OF_COLUMNS = -2  # a node with more actions than the arrays' width
OUT_OF_DEPTH = -3  # a path longer than the stack


@inline_kernel
def _open_node(
    node,
    depth,
    num_players,
    stack,
    big_blind,
    max_raises,
    menu,
    menu_len,
    to_act,
    to_act_len,
    raises,
    node_player,
    node_street,
    node_num_actions,
    node_action_kind,
    node_action_amount,
    node_terminal,
    node_contrib,
    node_alive,
    candidates,
):
    """Make ``node`` a decision of ``to_act[depth, 0]`` and write its legal actions
    (``NoLimitRules.legal_actions``) into its columns; returns how many there are (columns past
    the arrays' width are not written: the caller stops on a count above it).

    Parameters
    ----------
    node : int
        The node, its street, contributions and alive flags written already.
    depth : int
        Its depth: its row of the ``to_act`` / ``to_act_len`` / ``raises`` stacks.
    num_players, stack, big_blind, max_raises, menu, menu_len : see build_nolimit_tree
    to_act, to_act_len, raises : see build_nolimit_tree
    node_player, node_street, node_num_actions, node_terminal : int8[N]
    node_action_kind : int8[N, A]
    node_action_amount : float64[N, A]
    node_contrib : float64[N, P]
    node_alive : int8[N, P]
    candidates : float64[F + 1]
        Scratch for the raise amounts.
    """
    width = node_action_kind.shape[1]
    player = to_act[depth, 0]
    street = node_street[node]
    node_player[node] = player
    node_terminal[node] = NOT_TERMINAL
    top = node_contrib[node, 0]
    pot = 0.0
    for p in range(num_players):
        c = node_contrib[node, p]
        pot += c
        if c > top:
            top = c
    own = node_contrib[node, player]
    to_call = top - own
    n = 0
    if to_call > 0:
        if n < width:
            node_action_kind[node, n] = FOLD
            node_action_amount[node, n] = own
        n += 1
    if n < width:
        node_action_kind[node, n] = CHECK_CALL
        node_action_amount[node, n] = min(top, stack)  # a short call is all-in
    n += 1
    others_can_bet = False
    for q in range(num_players):
        if q != player and node_alive[node, q] == 1 and node_contrib[node, q] < stack:
            others_can_bet = True
    r = raises[depth]
    if stack > top and others_can_bet and r < max_raises[street]:
        # The minimum raise is the last full raise on the street (the gap between the two
        # highest contribution levels), at least a big blind; before any raise, a big blind.
        increment = 0.0
        if r > 0:
            second = -1.0
            for p in range(num_players):
                c = node_contrib[node, p]
                if c < top and c > second:
                    second = c
            if second >= 0.0:
                increment = top - second
        minimum = top + max(increment, big_blind)
        m = 0
        fractions = menu_len[street, r] if r < menu_len.shape[1] else 0
        for i in range(fractions):
            # np.rint rounds half to even, as Python's round() does.
            amount = np.rint(top + menu[street, r, i] * (pot + to_call))
            amount = max(amount, minimum)
            candidates[m] = min(amount, stack)
            m += 1
        candidates[m] = stack  # all-in
        m += 1
        # Insertion sort: a handful of amounts, and no allocation per node.
        for i in range(1, m):
            value = candidates[i]
            j = i - 1
            while j >= 0 and candidates[j] > value:
                candidates[j + 1] = candidates[j]
                j -= 1
            candidates[j + 1] = value
        for i in range(m):
            if i > 0 and candidates[i] == candidates[i - 1]:
                continue  # sizes that round to the same amount are offered once
            if n < width:
                node_action_kind[node, n] = RAISE
                node_action_amount[node, n] = candidates[i]
            n += 1
    node_num_actions[node] = min(n, width)
    return n


@kernel
def build_nolimit_tree(
    num_players,
    stack,
    big_blind,
    initial_contrib,
    street_order,
    max_raises,
    menu,
    menu_len,
    node_player,
    node_street,
    node_num_actions,
    node_children,
    node_action_kind,
    node_action_amount,
    node_terminal,
    node_contrib,
    node_alive,
    node_depth,
    to_act,
    to_act_len,
    raises,
    next_action,
):
    """Expand the tree from the initial state in depth-first pre-order (root 0, then each
    child's whole subtree in action order), writing one row of every node array per node.

    P players, S streets, D menu depths, F fractions per depth, N node capacity, A columns,
    H stack depth.

    Parameters
    ----------
    num_players : int
    stack : float64
        Every player's starting stack in chips, blinds included.
    big_blind : float64
        The smallest raise increment.
    initial_contrib : float64[P]
        Blinds and antes at the root.
    street_order : int64[S, P]
        Acting order of a new round, before skipping folded and all-in players.
    max_raises : int64[S]
        Bets and raises allowed per street (the first bet counts).
    menu : float64[S, D, F]
        Pot fractions per street and raise depth; ``menu_len[s, d]`` of them are used.
    menu_len : int64[S, D]
        Fractions offered per street and raise depth (0 past the street's menu: all-in only).
    node_player, node_street, node_num_actions, node_terminal : int8[N]
        Out. As in ``GameArrays``.
    node_children : int32[N, A]
        Out, filled with -1 by the caller.
    node_action_kind : int8[N, A]
        Out, filled with -1 by the caller.
    node_action_amount : float64[N, A]
        Out, filled with 0 by the caller.
    node_contrib : float64[N, P]
        Out.
    node_alive : int8[N, P]
        Out.
    node_depth : int16[N]
        Out.
    to_act : int64[H, P]
        Scratch: per depth on the current path, the players still to act this round, in order.
    to_act_len : int64[H]
        Scratch: how many of ``to_act[d]`` are used.
    raises : int64[H]
        Scratch: bets and raises made this round, per depth.
    next_action : int64[H]
        Scratch: the next action to expand, per depth.

    Returns
    -------
    int
        The number of nodes, or OUT_OF_NODES / OUT_OF_COLUMNS / OUT_OF_DEPTH.
    """
    capacity = node_player.shape[0]
    width = node_children.shape[1]
    height = to_act.shape[0]
    num_streets = street_order.shape[0]
    child_contrib = np.empty(num_players, dtype=np.float64)
    child_alive = np.empty(num_players, dtype=np.int8)
    child_to_act = np.empty(num_players, dtype=np.int64)
    candidates = np.empty(menu.shape[2] + 1, dtype=np.float64)

    # The root: every player can act (NoLimitRules requires a stack above blind plus ante).
    for p in range(num_players):
        node_contrib[0, p] = initial_contrib[p]
        node_alive[0, p] = 1
        to_act[0, p] = street_order[0, p]
    to_act_len[0] = num_players
    raises[0] = 0
    node_street[0] = 0
    node_depth[0] = 0
    count = 1
    if (
        _open_node(
            0,
            0,
            num_players,
            stack,
            big_blind,
            max_raises,
            menu,
            menu_len,
            to_act,
            to_act_len,
            raises,
            node_player,
            node_street,
            node_num_actions,
            node_action_kind,
            node_action_amount,
            node_terminal,
            node_contrib,
            node_alive,
            candidates,
        )
        > width
    ):
        return OUT_OF_COLUMNS
    next_action[0] = 0
    depth = 0
    path = np.empty(height, dtype=np.int64)
    path[0] = 0
    while depth >= 0:
        node = path[depth]
        a = next_action[depth]
        if a >= node_num_actions[node]:
            depth -= 1
            continue
        next_action[depth] = a + 1
        if count >= capacity:
            return OUT_OF_NODES
        child = count
        count += 1
        node_children[node, a] = child
        node_depth[child] = depth + 1

        # apply_action: the state after the player to act takes action a.
        player = to_act[depth, 0]
        kind = node_action_kind[node, a]
        amount = node_action_amount[node, a]
        for p in range(num_players):
            child_contrib[p] = node_contrib[node, p]
            child_alive[p] = node_alive[node, p]
        child_raises = raises[depth]
        child_len = 0
        street = node_street[node]
        if kind == FOLD:
            child_alive[player] = 0
        else:
            child_contrib[player] = amount
        if kind == RAISE:
            child_raises += 1
            # Everyone else still able to act answers the raise, in seat order after it.
            for k in range(1, num_players):
                q = (player + k) % num_players
                if child_alive[q] == 1 and child_contrib[q] < stack:
                    child_to_act[child_len] = q
                    child_len += 1
        else:
            for i in range(1, to_act_len[depth]):
                child_to_act[child_len] = to_act[depth, i]
                child_len += 1
        alive_count = 0
        for p in range(num_players):
            alive_count += child_alive[p]
        if alive_count > 1 and child_len == 0:
            # next_street: the first later round where two or more can still bet; when there
            # is none the board runs out and the node stays on this street as a showdown.
            s = street + 1
            while s < num_streets:
                n = 0
                for i in range(num_players):
                    q = street_order[s, i]
                    if child_alive[q] == 1 and child_contrib[q] < stack:
                        child_to_act[n] = q
                        n += 1
                if n >= 2:
                    street = s
                    child_len = n
                    child_raises = 0
                    break
                s += 1

        for p in range(num_players):
            node_contrib[child, p] = child_contrib[p]
            node_alive[child, p] = child_alive[p]
        node_street[child] = street
        if alive_count == 1 or child_len == 0:
            node_player[child] = -1
            node_num_actions[child] = 0
            node_terminal[child] = FOLDED if alive_count == 1 else SHOWDOWN
            continue
        if depth + 1 >= height:
            return OUT_OF_DEPTH
        d = depth + 1
        for i in range(child_len):
            to_act[d, i] = child_to_act[i]
        to_act_len[d] = child_len
        raises[d] = child_raises
        if (
            _open_node(
                child,
                d,
                num_players,
                stack,
                big_blind,
                max_raises,
                menu,
                menu_len,
                to_act,
                to_act_len,
                raises,
                node_player,
                node_street,
                node_num_actions,
                node_action_kind,
                node_action_amount,
                node_terminal,
                node_contrib,
                node_alive,
                candidates,
            )
            > width
        ):
            return OUT_OF_COLUMNS
        next_action[d] = 0
        path[d] = child
        depth = d
    return count
