"""``holdemd strategy chart``: what the blueprint plays with every hand at one decision.

At a preflop decision of a game with the 169 lossless classes the hands are laid out as the
usual 13x13 chart: aces first, pairs on the diagonal, suited hands above it and offsuit hands
below. Elsewhere (Kuhn, Leduc, the fixed-board game, postflop buckets) the chart is a list of
buckets. Whole-range frequencies weight each class by its combinations (6 per pair, 4 suited,
12 offsuit: 1,326 in all); buckets without a known size count once each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.results import Action, Decision
from holdemd.cards import RANK_CHARS, preflop_grid_position
from holdemd.lookup.show import situation

GRID = 13
NUM_CLASSES = 169
GROUPS = ("raise", "call", "fold")  # how a chart groups actions: every raise size counts as raise


@dataclass(frozen=True)
class Chart:
    blueprint: Blueprint
    decision: Decision
    actions: tuple[Action, ...]
    labels: tuple[str, ...]  # per bucket
    probabilities: np.ndarray  # float64[buckets, actions]
    trained: np.ndarray  # bool[buckets]
    combos: np.ndarray  # float64[buckets]: weight of each bucket in whole-range frequencies
    grid: bool  # the 169 preflop classes, drawable as 13x13

    def group(self, name: str) -> np.ndarray:
        """float64[buckets]: probability of every action of a group (raise / call / fold)."""
        return self.probabilities[:, _columns(self, name)].sum(axis=1)

    def overall(self) -> np.ndarray:
        """float64[actions]: each action's frequency over the whole range."""
        weights = self.combos / self.combos.sum()
        return np.asarray(weights @ self.probabilities)

    def group_label(self, name: str) -> str:
        if name == "call" and self.decision.to_call <= 0:
            return "check"
        if name == "raise" and not self.decision.facing_bet:
            return "bet"
        return name

    def cell(self, bucket: int) -> tuple[int, int]:
        """(row, column) of a preflop class in the 13x13 grid."""
        return preflop_grid_position(bucket)


def make_chart(blueprint: Blueprint, history: str | None = None, seat: str | None = None) -> Chart:
    decision = blueprint.decision(history, seat)
    street = decision.street
    game = blueprint.tree.game
    count = int(game.arrays.street_buckets[street])
    labels = game.bucket_labels[street]
    grid = street == 0 and labels == _class_names()
    probs, trained = blueprint.probabilities(decision.node, np.arange(count))
    combos = np.array([_combos(name) for name in labels]) if grid else np.ones(count)
    return Chart(blueprint, decision, decision.actions, labels, probs, trained, combos, grid)


def _class_names() -> tuple[str, ...]:
    from holdemd.cards import preflop_class_name

    return tuple(preflop_class_name(i) for i in range(NUM_CLASSES))


def _combos(name: str) -> float:
    return 6.0 if len(name) == 2 else 4.0 if name.endswith("s") else 12.0


def _percent(p: float) -> str:
    return "." if p <= 0.0 else f"{100 * p:.0f}"


def _header(chart: Chart) -> list[str]:
    overall = chart.overall()
    sizes = ", ".join(
        f"{act.token} {100 * overall[i]:.1f}%"
        for i, act in enumerate(chart.actions)
        if act.kind == "raise"
    )
    parts = []
    for name in GROUPS:
        columns = _columns(chart, name)
        if not columns:
            continue
        share = float(overall[columns].sum())
        detail = f" ({sizes})" if name == "raise" and len(columns) > 1 else ""
        parts.append(f"{chart.group_label(name)} {100 * share:.1f}%{detail}")
    what = f"{int(chart.combos.sum()):,} combos" if chart.grid else f"{len(chart.labels)} buckets"
    lines = [
        chart.blueprint.describe(),
        situation(chart.decision),
        "actions: " + ", ".join(f"{act.token} {act.label}" for act in chart.actions),
    ]
    lines += [f"note: {note}" for note in chart.decision.notes]
    lines.append(f"whole range ({what}): " + ", ".join(parts))
    untrained = int((~chart.trained).sum())
    if untrained:
        lines.append(
            f"note: {untrained} of {len(chart.labels)} hands have no strategy sum yet "
            "(not reached in training, or no snapshot averaged in yet): shown uniform"
        )
    return lines


def _columns(chart: Chart, name: str) -> list[int]:
    return [i for i, act in enumerate(chart.actions) if act.kind == name]


def grid_lines(chart: Chart, values: np.ndarray, title: str) -> list[str]:
    """One 13x13 grid of percentages (``.`` for never)."""
    cells = [[""] * GRID for _ in range(GRID)]
    for bucket in range(NUM_CLASSES):
        row, col = chart.cell(bucket)
        cells[row][col] = _percent(float(values[bucket]))
    ranks = RANK_CHARS[::-1]
    lines = [title, "     " + "".join(f"{r:>4}" for r in ranks)]
    for row in range(GRID):
        lines.append(f"  {ranks[row]}  " + "".join(f"{c:>4}" for c in cells[row]))
    return lines


def chart_lines(chart: Chart, by_size: bool = False) -> list[str]:
    lines = _header(chart)
    if not chart.grid:
        return [*lines, "", *_list_lines(chart)]
    panels: list[tuple[np.ndarray, str]] = []
    if by_size:
        panels += [
            (chart.probabilities[:, i], f"{act.token}: {act.label}")
            for i, act in enumerate(chart.actions)
            if act.kind == "raise"
        ]
    elif _columns(chart, "raise"):
        panels.append((chart.group("raise"), "raise (any size)"))
    for name in ("call", "fold"):
        if _columns(chart, name):
            panels.append((chart.group(name), chart.group_label(name)))
    lines.append("% of each hand; pairs on the diagonal, suited above it, offsuit below")
    for values, title in panels:
        lines += ["", *grid_lines(chart, values, title)]
    return lines


def _list_lines(chart: Chart) -> list[str]:
    width = max(4, *(len(label) for label in chart.labels))
    tokens = [act.token for act in chart.actions]
    column = max(7, *(len(t) + 1 for t in tokens))
    lines = [f"{'hand':<{width}}" + "".join(f"{t:>{column}}" for t in tokens)]
    for bucket, label in enumerate(chart.labels):
        row = "".join(f"{100 * p:>{column - 1}.1f}%" for p in chart.probabilities[bucket])
        mark = "" if chart.trained[bucket] else "  (untrained)"
        lines.append(f"{label:<{width}}{row}{mark}")
    return lines


def chart_json(chart: Chart) -> dict[str, Any]:
    blueprint = chart.blueprint
    decision = chart.decision
    overall = chart.overall()
    hands = []
    for bucket, label in enumerate(chart.labels):
        entry: dict[str, Any] = {
            "hand": label,
            "bucket": bucket,
            "combos": float(chart.combos[bucket]),
            "trained": bool(chart.trained[bucket]),
            "probabilities": [float(p) for p in chart.probabilities[bucket]],
        }
        for name in GROUPS:
            entry[name] = float(chart.group(name)[bucket])
        if chart.grid:
            entry["grid"] = list(chart.cell(bucket))
        hands.append(entry)
    return {
        "game": blueprint.name,
        "snapshot": blueprint.snapshot,
        "iteration": blueprint.iteration,
        "history": decision.history,
        "notes": list(decision.notes),
        "street": decision.street_name,
        "seat": decision.seat,
        "grid": chart.grid,
        "actions": [
            {
                "token": act.token,
                "label": act.label,
                "kind": act.kind,
                "frequency": float(overall[i]),
            }
            for i, act in enumerate(chart.actions)
        ],
        "hands": hands,
    }
