"""Ranges from a blueprint's own actions, and the exports people paste into other tools.

``reach_along``: walking from the root to a decision, every action multiplies the acting
player's weight of each hand by the probability the blueprint takes it with that hand (its
bucket on that street, with the board so far): Bayes with a uniform prior over the hands the
board leaves. One vectorized step per action of the history.

``range_strings``: one range per action at a decision, in the syntax of PioSolver, GTO+ and
most range tools (``AA,AKs:0.75,KQo:0.4``): weight = reach x probability of the action; hands
at weight 1 without a suffix, others with ``:w`` to 3 decimals, hands below 0.0005 left out. A
class is written as a class (``AKs``) when all its combos have the same weight (always preflop),
else combo by combo (``AhKh:0.5``), as is a class the board blocks a combo of (so a string never
names a board card).

``strategy_csv``: one row per hand and action at a decision (hand, bucket, action, label,
probability).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import numpy as np

from holdemd.blueprint.handsets import HandSet
from holdemd.cards import NUM_RANKS, RANK_CHARS
from holdemd.games.compiled import DEAL_HOLDEM

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint
    from holdemd.blueprint.results import StrategyTable

WEIGHT_DECIMALS = 3


def reach_along(blueprint: Blueprint, node: int, hands: HandSet) -> np.ndarray:
    """float64[P, H]: each player's probability of the actions from the root to ``node``."""
    nodes = blueprint.nodes
    a = blueprint.tree.game.arrays
    path = []
    at = node
    while nodes.parent[at] >= 0:
        up = int(nodes.parent[at])
        path.append((up, int(nodes.parent_action[at])))
        at = up
    reach = np.ones((a.num_players, len(hands.labels)))
    by_street: dict[int, np.ndarray] = {}
    for up, column in reversed(path):
        street = int(a.node_street[up])
        if street not in by_street:
            by_street[street] = hands.buckets(street)
        buckets = np.arange(int(a.street_buckets[street]))
        probs, _ = blueprint.store.rows(up, buckets)
        reach[int(a.node_player[up])] *= probs[by_street[street], column]
    return reach


def _classes(hands: HandSet) -> tuple[list[str], list[np.ndarray]]:
    """Hold'em: the 169 class names in chart order (AA, AKs, ..., AKo, KK, ...) and the pair
    indices of each class."""
    names: list[str] = []
    members: list[np.ndarray] = []
    cards = hands.cards
    ranks = cards >> 2  # card code = 4 * rank + suit
    suited = (cards[:, 0] & 3) == (cards[:, 1] & 3)
    hi, lo = ranks.max(axis=1), ranks.min(axis=1)
    for row in range(NUM_RANKS - 1, -1, -1):
        for col in range(NUM_RANKS - 1, -1, -1):
            if row == col:
                names.append(RANK_CHARS[row] * 2)
                members.append(np.flatnonzero((hi == row) & (lo == row)))
                continue
            high, low = max(row, col), min(row, col)
            is_suited = col < row  # above the diagonal: suited
            names.append(f"{RANK_CHARS[high]}{RANK_CHARS[low]}{'s' if is_suited else 'o'}")
            mask = (hi == high) & (lo == low) & (suited == is_suited)
            members.append(np.flatnonzero(mask))
    return names, members


def _weight_text(name: str, weight: float) -> str | None:
    rounded = round(float(weight), WEIGHT_DECIMALS)
    if rounded <= 0.0:
        return None
    if rounded >= 1.0:
        return name
    return f"{name}:{rounded:.{WEIGHT_DECIMALS}f}".rstrip("0")


def range_string(hands: HandSet, weights: np.ndarray) -> str:
    """``weights`` (float64[H], 0..1) as a range string (see the module doc)."""
    parts: list[str] = []
    if hands.game.arrays.deal_kind != DEAL_HOLDEM:
        for label, weight in zip(hands.labels, weights, strict=True):
            text = _weight_text(label, weight)
            if text:
                parts.append(text)
        return ",".join(parts)
    names, members = _classes(hands)
    for name, pairs in zip(names, members, strict=True):
        live = pairs[hands.combos[pairs] > 0]
        if live.size == 0:
            continue
        values = weights[live]
        whole = live.size == pairs.size  # a class with a board card is written combo by combo
        if whole and np.all(np.abs(values - values[0]) < 0.5 * 10**-WEIGHT_DECIMALS):
            text = _weight_text(name, float(values.mean()))
            if text:
                parts.append(text)
            continue
        for pair in live:
            text = _weight_text(hands.labels[pair], float(weights[pair]))
            if text:
                parts.append(text)
    return ",".join(parts)


def range_strings(blueprint: Blueprint, table: StrategyTable, reach: np.ndarray) -> dict[str, str]:
    """One range string per action at ``table``'s decision: the acting player's hands that take
    the action, weighted by reach x probability. ``reach`` is float64[H] over the hand set."""
    hands = blueprint.hands(table.decision.street, table.board)
    keep = np.flatnonzero(hands.combos > 0)
    out = {}
    for column, action in enumerate(table.actions):
        weights = np.zeros(len(hands.labels))
        weights[keep] = reach[keep] * table.probabilities[:, column]
        out[action.token] = range_string(hands, weights)
    return out


def by_class(table: StrategyTable, hands: HandSet) -> StrategyTable:
    """A Hold'em preflop batch look-up with one row per class (169) instead of per combo:
    preflop every combo of a class is in the class's bucket."""
    from dataclasses import replace

    names, members = _classes(hands)
    position = {label: k for k, label in enumerate(table.hands)}
    rows = [position[hands.labels[int(pairs[0])]] for pairs in members]
    return replace(
        table,
        hands=tuple(names),
        buckets=table.buckets[rows],
        probabilities=table.probabilities[rows],
        trained=table.trained[rows],
    )


def strategy_csv(table: StrategyTable, bucket_labels: tuple[str, ...]) -> str:
    """Rows ``hand,bucket,bucket_label,action,label,probability`` of a batch look-up."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["hand", "bucket", "bucket_label", "action", "label", "probability"])
    for k, hand in enumerate(table.hands):
        bucket = int(table.buckets[k])
        for column, action in enumerate(table.actions):
            probability = f"{float(table.probabilities[k, column]):.6f}"
            writer.writerow(
                [hand, bucket, bucket_labels[bucket], action.token, action.label, probability]
            )
    return buffer.getvalue()
