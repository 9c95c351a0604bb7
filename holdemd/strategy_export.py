"""Average strategies as JSON: one object mapping an infoset key to action probabilities.

Keys are ``"<cards>:<history>"`` in each game's own notation (see ``Game.infoset_key``); values
list the probabilities in the game's export column order (Kuhn ``[pass, bet]``, Leduc
``[fold, call, raise]`` with 0 for an illegal action). Reading a file back gives a policy array
that the exact evaluator accepts, so an export can be checked independently of the tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from holdemd.errors import UsageError
from holdemd.games.compiled import Game
from holdemd.rundir.atomic import write_text_atomic


def strategy_to_json(game: Game, policy: np.ndarray) -> dict[str, list[float]]:
    """Every infoset of ``game`` (all are reachable in Kuhn and Leduc) with its probabilities.

    Probabilities keep full float precision (shortest round-trip form), so re-reading an export
    gives back exactly the policy that was written.
    """
    a = game.arrays
    width = len(game.export_actions)
    out: dict[str, list[float]] = {}
    for node in game.decision_nodes():
        street = int(a.node_street[node])
        n = int(a.node_num_actions[node])
        slots = game.export_slot[node, :n]
        for bucket in range(int(a.street_buckets[street])):
            probs = [0.0] * width
            row = game.row_of(int(node), bucket)
            for i in range(n):
                probs[int(slots[i])] = float(policy[row, i])
            out[game.infoset_key(int(node), bucket)] = probs
    return out


def json_to_strategy(game: Game, data: dict[str, list[float]], source: str) -> np.ndarray:
    """The policy array for an exported object; every infoset must be present."""
    a = game.arrays
    policy = np.zeros((game.num_rows, game.max_actions))
    missing = []
    for node in game.decision_nodes():
        street = int(a.node_street[node])
        n = int(a.node_num_actions[node])
        slots = game.export_slot[node, :n]
        for bucket in range(int(a.street_buckets[street])):
            key = game.infoset_key(int(node), bucket)
            probs = data.get(key)
            if probs is None:
                missing.append(key)
                continue
            if len(probs) != len(game.export_actions):
                raise UsageError(
                    f"{source}: infoset '{key}' has {len(probs)} probabilities, expected "
                    f"{len(game.export_actions)} ({', '.join(game.export_actions)})"
                )
            policy[game.row_of(int(node), bucket), :n] = [probs[int(s)] for s in slots]
    if missing:
        raise UsageError(
            f"{source}: {len(missing)} infosets missing, e.g. '{missing[0]}'; "
            f"export again with `holdemd strategy export`"
        )
    return policy


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to ``path`` atomically (a reader never sees half a file)."""
    write_text_atomic(path, _one_entry_per_line(data))


def _one_entry_per_line(data: object) -> str:
    """JSON with one top-level key per line: greppable, diffable, still one object."""
    if not isinstance(data, dict) or not data:
        return json.dumps(data) + "\n"
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in sorted(data.items())]
    return "{\n" + ",\n".join(lines) + "\n}\n"
