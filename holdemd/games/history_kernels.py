"""Kernels that write a built no-limit tree's histories, packed (``PackedStrings``' layout).

A node's history is its parent's, the letter of the action that led to it
(``NoLimitRules.letter``: f, c, k, a, or r and the raise-to amount) and a ``/`` for each street
that action moved to. All of it can be read off the node arrays, so the tree builder does not
carry strings; nodes are in pre-order, so every parent comes before its children.
"""

from __future__ import annotations

import numpy as np

from holdemd.games.compiled import CHECK_CALL, FOLD, RAISE
from holdemd.jit import inline_kernel, kernel


@inline_kernel
def _label_length(kind, amount, to_call, stack):
    """Bytes of ``NoLimitRules.letter``: f, c, k, a, or r and the amount's digits.

    Parameters
    ----------
    kind : int
        FOLD / CHECK_CALL / RAISE.
    amount : float64
        The actor's contribution after the action (a whole number of chips).
    to_call : float64
        What the actor faced (unused: every letter but a raise's is one byte).
    stack : float64
        The starting stack: a raise to it is all-in, ``a``.
    """
    if kind != RAISE or amount >= stack:
        return 1
    digits = 1
    value = np.int64(amount)
    while value >= 10:
        value //= 10
        digits += 1
    return 1 + digits


@inline_kernel
def _to_call(node, node_player, node_contrib):
    """What the player to act at ``node`` must add to call.

    Parameters
    ----------
    node : int
    node_player : int8[N]
    node_contrib : float64[N, P]
    """
    top = node_contrib[node, 0]
    for p in range(node_contrib.shape[1]):
        top = max(top, node_contrib[node, p])
    return top - node_contrib[node, node_player[node]]


@kernel
def history_offsets(
    node_num_actions,
    node_children,
    node_action_kind,
    node_action_amount,
    node_player,
    node_street,
    node_contrib,
    stack,
    offsets,
):
    """Where each node's history starts in the packed bytes (``PackedStrings.offsets``).

    A child's history is its parent's, the action's letter (``NoLimitRules.letter``) and a
    ``/`` for each street the action moved to; parents precede children (pre-order), so one
    pass in node order sees every parent's length before its children's.

    Parameters
    ----------
    node_num_actions, node_player, node_street : int8[N]
    node_children : int32[N, A]
    node_action_kind : int8[N, A]
    node_action_amount : float64[N, A]
    node_contrib : float64[N, P]
    stack : float64
    offsets : int64[N + 1]
        Out: ``offsets[i]:offsets[i + 1]`` is node i's history in the packed bytes.
    """
    n = node_num_actions.shape[0]
    offsets[0] = 0
    offsets[1] = 0  # the root's history is empty
    for node in range(n):
        length = offsets[node + 1]  # still a length here: replaced by the sums below
        actions = node_num_actions[node]
        if actions == 0:
            continue
        to_call = _to_call(node, node_player, node_contrib)
        for a in range(actions):
            child = node_children[node, a]
            label = _label_length(
                node_action_kind[node, a], node_action_amount[node, a], to_call, stack
            )
            offsets[child + 1] = length + label + node_street[child] - node_street[node]
    for i in range(n):
        offsets[i + 1] += offsets[i]


@kernel
def fill_histories(
    node_num_actions,
    node_children,
    node_action_kind,
    node_action_amount,
    node_player,
    node_street,
    node_contrib,
    stack,
    offsets,
    data,
):
    """Write each node's history at ``data[offsets[i]:offsets[i + 1]]`` (ASCII): a parent's
    bytes are final before its children copy them, as parents precede children.

    Parameters
    ----------
    node_num_actions, node_player, node_street : int8[N]
    node_children : int32[N, A]
    node_action_kind : int8[N, A]
    node_action_amount : float64[N, A]
    node_contrib : float64[N, P]
    stack : float64
    offsets : int64[N + 1]
        Filled by :func:`history_offsets`.
    data : uint8[offsets[N]]
        Out.
    """
    n = node_num_actions.shape[0]
    for node in range(n):
        actions = node_num_actions[node]
        if actions == 0:
            continue
        start = offsets[node]
        length = offsets[node + 1] - start
        to_call = _to_call(node, node_player, node_contrib)
        for a in range(actions):
            child = node_children[node, a]
            at = offsets[child]
            for i in range(length):
                data[at + i] = data[start + i]
            at += length
            kind = node_action_kind[node, a]
            amount = node_action_amount[node, a]
            if kind == FOLD:
                data[at] = 102  # f
            elif kind == CHECK_CALL:
                data[at] = 99 if to_call > 0 else 107  # c, k
            elif amount >= stack:
                data[at] = 97  # a
            else:
                data[at] = 114  # r
                digits = _label_length(kind, amount, to_call, stack) - 1
                value = np.int64(amount)
                for i in range(digits, 0, -1):
                    data[at + i] = 48 + value % 10
                    value //= 10
                at += digits
            at += 1
            for i in range(node_street[child] - node_street[node]):
                data[at + i] = 47  # /
