"""Small numba pieces that playing hands (match.py) and local best response (lbr_kernel.py)
share: the value of a called showdown by equity, and the sampled continuation of a hand."""

from __future__ import annotations

from holdemd.jit import inline_kernel


@inline_kernel
def called_value(g, node, equity):
    """Heads-up, a showdown at ``node`` won with probability ``equity``: the smaller stake is
    what changes hands, so the value is stake * (2 * equity - 1).

    Parameters
    ----------
    g : GameArrays
    node : int
        A showdown terminal.
    equity : float
        Probability of winning (ties count half) of the player whose value this is.
    """
    c0 = g.node_contrib[node, 0]
    c1 = g.node_contrib[node, 1]
    return (c0 if c0 < c1 else c1) * (2.0 * equity - 1.0)


@inline_kernel
def pick_continuing(g, node, probs, last, u):
    """The action that ``u`` (uniform over the total probability of the actions that do not
    end the hand) selects among those actions; ``last`` (the last of them) if rounding leaves
    ``u`` past the end. Hand-ending actions are scored exactly by the callers instead.

    Parameters
    ----------
    g : GameArrays
    node : int
        A decision node.
    probs : float64[>= A]
        Probabilities of the node's actions.
    last : int
        The last action with positive probability that does not end the hand.
    u : float
        Uniform in [0, total probability of the actions that do not end the hand).
    """
    a = 0
    cumulative = 0.0
    while a < last:
        if probs[a] > 0.0 and g.node_player[g.node_children[node, a]] >= 0:
            cumulative += probs[a]
            if u < cumulative:
                break
        a += 1
    return a
