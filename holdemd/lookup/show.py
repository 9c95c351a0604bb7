"""``holdemd strategy show``: the blueprint's action probabilities for one hand at one decision."""

from __future__ import annotations

from typing import Any

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.history import format_bb
from holdemd.blueprint.results import Decision, Strategy

BAR_WIDTH = 20
UNTRAINED_NOTE = (
    "this infoset has no strategy sum yet (training has not reached it, or with snapshot "
    "averaging no snapshot of its street was taken yet): the probabilities are uniform"
)


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
    return f"after '{decision.history}'" if decision.history else "at the start of the hand"


def situation(decision: Decision) -> str:
    """``BTN to act on the flop after 'r2 c /': pot 4 bb, nothing to call``."""
    unit = decision.unit
    to_call = decision.to_call
    owed = f"{format_bb(to_call)} {unit} to call" if to_call > 0 else "nothing to call"
    street = decision.street_name
    on = (
        street
        if street == "preflop"
        else f"in {street}"
        if street.startswith("round")
        else f"on the {street}"
    )
    return (
        f"{decision.seat} to act {on} {where(decision)}: "
        f"pot {format_bb(decision.pot)} {unit}, {owed}"
    )


def lookup_lines(blueprint: Blueprint, result: Strategy) -> list[str]:
    decision = result.decision
    board = f", board {result.board}" if result.board else ""
    lines = [
        blueprint.describe(),
        situation(decision),
        f"hand {result.hand}{board}: {result.detail}",
    ]
    lines += [f"note: {note}" for note in decision.notes]
    lines += _action_lines(result)
    if not result.trained:
        lines.append(f"note: {UNTRAINED_NOTE}")
    for other in result.branches[1:]:
        shares = ", ".join(
            f"{act.token} {100 * float(p):.1f}%"
            for act, p in zip(other.actions, other.probabilities, strict=True)
        )
        lines.append(
            f"note: the other branch ({100 * other.decision.weight:.0f}%), "
            f"'{other.decision.history}': {shares}"
        )
    return lines


def _action_lines(result: Strategy) -> list[str]:
    token_width = max(len(act.token) for act in result.actions)
    label_width = max(len(act.label) for act in result.actions)
    lines = []
    for act, p in zip(result.actions, result.probabilities, strict=True):
        pot = f"{act.pot_fraction:.2f}x pot" if act.pot_fraction is not None else ""
        bar = "#" * round(float(p) * BAR_WIDTH)
        lines.append(
            f"  {act.token:<{token_width}}  {act.label:<{label_width}}  {pot:>10}  "
            f"{100 * float(p):5.1f}%  {bar}".rstrip()
        )
    return lines


def lookup_json(blueprint: Blueprint, result: Strategy) -> dict[str, Any]:
    decision = result.decision
    data = result.as_dict()
    return {
        "game": blueprint.name,
        "snapshot": blueprint.snapshot,
        "iteration": blueprint.iteration,
        "blueprint": str(blueprint.source) if blueprint.bits is not None else None,
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
        "trained": result.trained,
        "actions": data["actions"],
        **({"branches": data["branches"]} if "branches" in data else {}),
    }
