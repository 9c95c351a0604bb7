"""``holdemd strategy show``: the blueprint's action probabilities for one hand at one decision.

``lookup_json`` is the look-up as one JSON object; the text is made from it
(``show_text.show_lines``), as ``holdemctl strategy show`` makes it from the daemon's reply.
"""

from __future__ import annotations

from typing import Any

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.results import Decision, Strategy
from holdemd.lookup.show_text import (
    BAR_WIDTH,
    UNTRAINED_NOTE,
    show_lines,
    situation_text,
    where_text,
)

__all__ = [
    "BAR_WIDTH",
    "UNTRAINED_NOTE",
    "look_up",
    "lookup_json",
    "lookup_lines",
    "situation",
    "where",
]


def look_up(
    blueprint: Blueprint,
    hand: str,
    board: str = "",
    history: str | None = None,
    seat: str | None = None,
) -> Strategy:
    """The decision ``history`` (or ``seat``) leads to, and what the blueprint plays there."""
    return blueprint.strategy(hand, board, history, seat)


def where(decision: Decision) -> str:
    """``after 'r2 c /'``, or ``at the start of the hand``."""
    return where_text(decision.history)


def situation(decision: Decision) -> str:
    """``BTN to act on the flop after 'r2 c /': pot 4 bb, nothing to call``."""
    return situation_text(
        decision.seat,
        decision.street_name,
        decision.history,
        decision.unit,
        decision.pot,
        decision.to_call,
    )


def lookup_lines(blueprint: Blueprint, result: Strategy) -> list[str]:
    return show_lines(lookup_json(blueprint, result))


def lookup_json(blueprint: Blueprint, result: Strategy) -> dict[str, Any]:
    decision = result.decision
    data = result.as_dict()
    return {
        "game": blueprint.name,
        "snapshot": blueprint.snapshot,
        "iteration": blueprint.iteration,
        "blueprint": str(blueprint.source) if blueprint.bits is not None else None,
        "description": blueprint.describe(),
        "history": decision.history,
        "tree_history": decision.tree_history,
        "notes": list(decision.notes),
        "translations": [t.as_dict() for t in decision.translations],
        "street": decision.street_name,
        "seat": decision.seat,
        "player": decision.player,
        "unit": decision.unit,
        "pot": decision.pot,
        "to_call": decision.to_call,
        "hand": result.hand,
        "board": result.board,
        "bucket": result.bucket,
        "bucket_label": result.bucket_label,
        "detail": result.detail,
        "trained": result.trained,
        "actions": data["actions"],
        **({"branches": data["branches"]} if "branches" in data else {}),
    }
