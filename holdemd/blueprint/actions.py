"""What the actions of every node are called: tokens, labels and the tree's own letters, computed
once by walking the whole tree with the betting rules, and stored as ids into one string pool.

The walk (`describe_tree`) is the slow part (about 0.4 s for hunl_mid's 32,792 nodes): an
export does it once and the blueprint file keeps its result, so a reader never needs the
betting rules to name an action. From the stored texts and the node arrays follow everything
else a look-up prints: each node's parent, the tree's own history (``Game.histories``) and the
canonical ``--history`` of a node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdemd.blueprint.history import format_history
from holdemd.blueprint.tree import BettingTree
from holdemd.games.compiled import GameArrays


@dataclass(frozen=True)
class ActionTexts:
    """Per (node, action): ids into ``pool`` (-1 past a node's actions).

    ``token`` is how ``--history`` writes the action (``r3``), ``label`` how people say it
    (``raise to 3 bb``), ``step`` what the action adds to the tree's own history of the node
    (``r300``, or ``c/`` when it ends a street). ``street_start`` holds each player's
    contribution when the node's street began (chips), so amounts on a street need no replay.
    """

    pool: tuple[str, ...]
    token: np.ndarray  # int32[N, A]
    label: np.ndarray  # int32[N, A]
    step: np.ndarray  # int32[N, A]
    street_start: np.ndarray  # float64[N, P]


def describe_tree(tree: BettingTree) -> ActionTexts:
    """Walk every node of ``tree`` once and name its actions."""
    a = tree.game.arrays
    shape = a.node_children.shape
    ids = {name: np.full(shape, -1, dtype=np.int32) for name in ("token", "label", "step")}
    street_start = a.node_contrib.astype(np.float64).copy()
    pool: dict[str, int] = {}
    histories = tree.game.histories

    def intern(text: str) -> int:
        return pool.setdefault(text, len(pool))

    root = tree.root()
    if root.street_start:  # no-limit: the blinds are bets of the first street
        street_start[0] = root.street_start
    stack = [root]
    while stack:
        spot = stack.pop()
        node = spot.node
        if tree.is_terminal(spot):
            continue
        for act in tree.actions(spot):
            child = act.child
            ids["token"][node, act.index] = intern(act.token)
            ids["label"][node, act.index] = intern(act.label)
            ids["step"][node, act.index] = intern(histories[child][len(histories[node]) :])
            if a.node_street[child] == a.node_street[node]:
                street_start[child] = street_start[node]
            stack.append(tree.take(spot, act))
    return ActionTexts(tuple(pool), ids["token"], ids["label"], ids["step"], street_start)


def parents(arrays: GameArrays) -> tuple[np.ndarray, np.ndarray]:
    """(int32[N] parent node, -1 at the root; int8[N] the parent's action leading here)."""
    children = arrays.node_children
    parent = np.full(children.shape[0], -1, dtype=np.int32)
    action = np.full(children.shape[0], -1, dtype=np.int8)
    nodes, columns = np.nonzero(children >= 0)
    parent[children[nodes, columns]] = nodes
    action[children[nodes, columns]] = columns
    return parent, action


def tree_histories(arrays: GameArrays, texts: ActionTexts) -> tuple[str, ...]:
    """``Game.histories``: each node's history in the tree's own notation (root first: a
    child's index is always larger than its parent's)."""
    pool, step = texts.pool, texts.step
    children = arrays.node_children
    out = [""] * children.shape[0]
    for node in range(children.shape[0]):
        for column in range(int(arrays.node_num_actions[node])):
            child = int(children[node, column])
            out[child] = out[node] + pool[int(step[node, column])]
    return tuple(out)


def canonical_history(
    arrays: GameArrays,
    texts: ActionTexts,
    parent: np.ndarray,
    parent_action: np.ndarray,
    node: int,
    compact: bool,
) -> str:
    """The ``--history`` a walk to ``node`` prints: its tokens grouped by street, with the
    streets begun after the last action left empty (``"r2 c /"`` at a flop decision)."""
    path = []
    at = node
    while parent[at] >= 0:
        up = int(parent[at])
        path.append(
            (int(arrays.node_street[up]), texts.pool[int(texts.token[up, parent_action[at]])])
        )
        at = up
    decision = int(arrays.node_player[node]) >= 0
    last = path[0][0] if path else 0
    count = int(arrays.node_street[node]) + 1 if decision else last + 1
    streets: list[list[str]] = [[] for _ in range(max(count, 1))]
    for street, token in reversed(path):
        streets[street].append(token)
    return format_history(tuple(tuple(s) for s in streets), compact)
