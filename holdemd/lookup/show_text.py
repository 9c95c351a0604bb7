"""The text ``strategy show`` prints, made from its JSON (``show.lookup_json``) alone.

``holdemd strategy show`` and ``holdemctl strategy show`` (whose daemon sends that JSON over the
control socket) both print ``show_lines(data)``, so the two cannot drift apart. Only the
standard library and ``format_bb`` are imported: the thin client imports this module.
"""

from __future__ import annotations

from typing import Any, Final

from holdemd.blueprint.history import format_bb

BAR_WIDTH: Final = 20
UNTRAINED_NOTE: Final = (
    "this infoset has no strategy sum yet (training has not reached it, or with snapshot "
    "averaging no snapshot of its street was taken yet): the probabilities are uniform"
)


def where_text(history: str) -> str:
    """``after 'r2 c /'``, or ``at the start of the hand``."""
    return f"after '{history}'" if history else "at the start of the hand"


def situation_text(
    seat: str, street: str, history: str, unit: str, pot: float, to_call: float
) -> str:
    """``BTN to act on the flop after 'r2 c /': pot 4 bb, nothing to call``."""
    owed = f"{format_bb(to_call)} {unit} to call" if to_call > 0 else "nothing to call"
    on = (
        street
        if street == "preflop"
        else f"in {street}"
        if street.startswith("round")
        else f"on the {street}"
    )
    return f"{seat} to act {on} {where_text(history)}: pot {format_bb(pot)} {unit}, {owed}"


def show_lines(data: dict[str, Any]) -> list[str]:
    """The lines of ``strategy show`` for a look-up's JSON: what it is read from, the
    situation, the hand and its bucket, notes, one line per action, and the other branch of
    a translated size."""
    board = f", board {data['board']}" if data["board"] else ""
    lines = [
        str(data["description"]),
        situation_text(
            data["seat"],
            data["street"],
            data["history"],
            data["unit"],
            data["pot"],
            data["to_call"],
        ),
        f"hand {data['hand']}{board}: {data['detail']}",
    ]
    lines += [f"note: {note}" for note in data["notes"]]
    lines += action_lines(data["actions"])
    if not data["trained"]:
        lines.append(f"note: {UNTRAINED_NOTE}")
    for other in data.get("branches", [])[1:]:
        shares = ", ".join(
            f"{act['token']} {100 * float(act['probability']):.1f}%" for act in other["actions"]
        )
        lines.append(
            f"note: the other branch ({100 * float(other['weight']):.0f}%), "
            f"'{other['history']}': {shares}"
        )
    return lines


def action_lines(actions: list[dict[str, Any]]) -> list[str]:
    """``  r3  raise to 3 bb   0.50x pot   42.0%  ########`` for each action."""
    token_width = max(len(act["token"]) for act in actions)
    label_width = max(len(act["label"]) for act in actions)
    lines = []
    for act in actions:
        p = float(act["probability"])
        fraction = act["pot_fraction"]
        pot = f"{fraction:.2f}x pot" if fraction is not None else ""
        bar = "#" * round(p * BAR_WIDTH)
        lines.append(
            f"  {act['token']:<{token_width}}  {act['label']:<{label_width}}  {pot:>10}  "
            f"{100 * p:5.1f}%  {bar}".rstrip()
        )
    return lines


def range_lines(data: dict[str, Any]) -> list[str]:
    """The lines of ``holdemctl strategy range``: what it is read from, the situation, then
    each player's range (its hand combinations, and the range string)."""
    board = f"; board {data['board']}" if data["board"] else ""
    situation = situation_text(
        data["seat"], data["street"], data["history"], data["unit"], data["pot"], data["to_call"]
    )
    lines = [str(data["description"]), situation + board]
    lines += [f"note: {note}" for note in data["notes"]]
    for entry in data["ranges"]:
        lines.append(
            f"{entry['seat']} ({float(entry['combos']):,.1f} combos): {entry['range'] or '-'}"
        )
    return lines
