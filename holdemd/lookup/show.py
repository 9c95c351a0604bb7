"""``holdemd strategy show``: the blueprint's action probabilities for one hand at one decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from holdemd.blueprint.hands import HandBucket, hand_bucket
from holdemd.blueprint.history import format_bb
from holdemd.blueprint.tree import Spot, TreeAction, street_name
from holdemd.blueprint.walk import spot_for
from holdemd.games.compiled import ACTION_KIND_NAMES
from holdemd.lookup.blueprint import Blueprint

BAR_WIDTH = 20
UNTRAINED_NOTE = (
    "this infoset has no strategy sum yet (training has not reached it, or with snapshot "
    "averaging no snapshot of its street was taken yet): the probabilities are uniform"
)


@dataclass(frozen=True)
class Lookup:
    blueprint: Blueprint
    spot: Spot
    hand: HandBucket
    actions: list[TreeAction]
    probabilities: np.ndarray  # float64[len(actions)]
    trained: bool


def look_up(
    blueprint: Blueprint,
    hand: str,
    board: str = "",
    history: str | None = None,
    seat: str | None = None,
) -> Lookup:
    """The decision ``history`` (or ``seat``) leads to, and what the blueprint plays there."""
    tree = blueprint.tree
    spot = spot_for(tree, history, seat)
    cards = hand_bucket(blueprint.game, tree.street(spot), hand, board)
    probs, trained = blueprint.probabilities(spot.node, cards.bucket)
    return Lookup(blueprint, spot, cards, tree.actions(spot), probs[0], bool(trained[0]))


def situation(blueprint: Blueprint, spot: Spot) -> str:
    """``BTN to act on the flop after 'r2 c /': pot 4 bb, nothing to call``."""
    tree = blueprint.tree
    unit = "bb" if tree.rules is not None else "chips"
    to_call = tree.to_call(spot)
    owed = f"{format_bb(tree.bb(to_call))} {unit} to call" if to_call > 0 else "nothing to call"
    street = street_name(blueprint.game, tree.street(spot))
    on = (
        street
        if street == "preflop"
        else f"in {street}"
        if street.startswith("round")
        else f"on the {street}"
    )
    return (
        f"{tree.seat(spot)} to act {on} {tree.where(spot)}: "
        f"pot {format_bb(tree.bb(tree.pot(spot)))} {unit}, {owed}"
    )


def lookup_lines(result: Lookup) -> list[str]:
    blueprint, spot, cards = result.blueprint, result.spot, result.hand
    board = f", board {cards.board}" if cards.board else ""
    lines = [
        blueprint.describe(),
        situation(blueprint, spot),
        f"hand {cards.hand}{board}: {cards.detail}",
    ]
    lines += [f"note: {note}" for note in spot.notes]
    token_width = max(len(act.token) for act in result.actions)
    label_width = max(len(act.label) for act in result.actions)
    for act, p in zip(result.actions, result.probabilities, strict=True):
        pot = f"{act.pot_fraction:.2f}x pot" if act.pot_fraction is not None else ""
        bar = "#" * round(float(p) * BAR_WIDTH)
        lines.append(
            f"  {act.token:<{token_width}}  {act.label:<{label_width}}  {pot:>10}  "
            f"{100 * float(p):5.1f}%  {bar}".rstrip()
        )
    if not result.trained:
        lines.append(f"note: {UNTRAINED_NOTE}")
    return lines


def lookup_json(result: Lookup) -> dict[str, Any]:
    blueprint, spot, cards = result.blueprint, result.spot, result.hand
    tree = blueprint.tree
    return {
        "game": blueprint.game.name,
        "snapshot": blueprint.snapshot,
        "iteration": blueprint.iteration,
        "history": tree.history(spot),
        "tree_history": blueprint.game.histories[spot.node],
        "notes": list(spot.notes),
        "street": street_name(blueprint.game, tree.street(spot)),
        "seat": tree.seat(spot),
        "player": tree.player(spot),
        "unit": "bb" if tree.rules is not None else "chips",
        "pot": tree.bb(tree.pot(spot)),
        "to_call": tree.bb(tree.to_call(spot)),
        "hand": cards.hand,
        "board": cards.board,
        "bucket": cards.bucket,
        "bucket_label": cards.label,
        "trained": result.trained,
        "actions": [
            {
                "token": act.token,
                "label": act.label,
                "kind": ACTION_KIND_NAMES[act.kind],
                "amount_bb": act.amount_bb,
                "pot_fraction": act.pot_fraction,
                "probability": float(p),
            }
            for act, p in zip(result.actions, result.probabilities, strict=True)
        ],
    }
