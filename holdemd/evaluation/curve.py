"""``holdemd eval --run DIR --curve``: every snapshot of a run measured alike, oldest first.

Each snapshot's average strategy gets the same measures: the exact exploitability on games
small enough to enumerate (Kuhn, Leduc, fixed-board Hold'em), head-to-head against each
``--vs`` opponent (default on other games: ``random,call,snapshot:first``) and, with ``--lbr``,
local best response and with ``--rgbr`` the real-game best response (same boards for every
snapshot). They are computed by the functions ``holdemd eval --snapshot NAME`` uses
(`holdemd.evaluation.command`), with the same seed for every snapshot, so a row equals that
command's result for its snapshot and the differences between rows are not deal luck. The
opponents are fixed for the whole curve: ``snapshot:first`` is the run's oldest snapshot in
every row (where the first row, playing itself, scores exactly 0).

Values are in the game's unit (`holdemd.evaluation.stats.Unit`), the exact exploitability
included: chips per game for Kuhn and Leduc, mbb/hand for Hold'em (also the fixed-board game,
whose plain ``holdemd eval`` prints chips).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd.durations import format_duration
from holdemd.errors import UsageError
from holdemd.evaluation.policies import blueprint_policy
from holdemd.evaluation.rgbr import rgbr_description, rgbr_estimate
from holdemd.evaluation.setup import (
    LbrSetup,
    Opponent,
    lbr_description,
    lbr_estimate,
    match_description,
    match_estimate,
    read_strategy_sum,
)
from holdemd.evaluation.stats import Estimate, Unit
from holdemd.games.compiled import Game
from holdemd.rundir.load import LoadedSnapshot
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.tables import average_strategy

DEFAULT_CURVE_OPPONENTS = "random,call,snapshot:first"
EXACT = "exploitability"
LBR = "LBR"
RGBR = "RGBR"

Value = Estimate | float  # a float is an exact value (no interval)


@dataclass(frozen=True)
class Plan:
    """What is measured on every snapshot, and how."""

    exact: bool
    opponents: list[Opponent]
    deals: int
    expected: bool  # head-to-head walks every action (else samples them)
    lbr: LbrSetup | None
    lbr_deals: int
    seed: int
    aivat: bool = False  # head-to-head cells show the AIVAT estimate (JSON: both)
    rgbr_boards: int = 0  # 0: no real-game best response
    rgbr_street: int = 1

    def measures(self) -> list[str]:
        """The column headings (and JSON keys), in order."""
        names = [EXACT] if self.exact else []
        names += [f"vs {o.label}" for o in self.opponents]
        names += [LBR] if self.lbr is not None else []
        return names + ([RGBR] if self.rgbr_boards > 0 else [])


@dataclass(frozen=True)
class Row:
    snapshot: str
    iteration: int | None
    elapsed_seconds: float | None  # training time when the snapshot was written
    values: list[Value]  # one per measure


@dataclass(frozen=True)
class Curve:
    run: Path
    game: Game
    plan: Plan
    rows: list[Row]

    @property
    def unit(self) -> Unit:
        return Unit.of(self.game)


def _note(text: str) -> None:
    # Like the deal counters of `command.progress`: only for a person watching a terminal.
    if sys.stderr.isatty():
        sys.stderr.write(f"{text}\n")
        sys.stderr.flush()


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def measure_curve(
    run: Path,
    game: Game,
    snapshots: list[SnapshotInfo],
    plan: Plan,
    loaded: LoadedSnapshot | None = None,
) -> Curve:
    """Every snapshot in ``snapshots`` (oldest first) measured by ``plan``; ``loaded`` is one of
    them already read (the one the game came from), so its tables are not read twice."""
    unit = Unit.of(game)
    evaluator = ExactEvaluator(game) if plan.exact else None
    rows = []
    for i, info in enumerate(snapshots, 1):
        flag = f"--run {run}: snapshot {info.name}"
        if loaded is not None and loaded.info.name == info.name:
            table, manifest = loaded.tables.strategy_sum, loaded.manifest
        else:
            table, manifest = read_strategy_sum(
                info, game, flag, hint="move it out of the run's snapshots to draw the curve"
            )
        where = f"{info.name} ({i}/{len(snapshots)})"
        hero = blueprint_policy(info.name, table)
        values: list[Value] = []
        if evaluator is not None:
            _note(f"  {where}: exact exploitability")
            exact = evaluator.exploitability(average_strategy(game, table))
            values.append(exact * unit.per_chip)
        for opponent in plan.opponents:
            label = f"{where} vs {opponent.label}"
            values.append(
                match_estimate(
                    game,
                    hero,
                    opponent,
                    plan.deals,
                    plan.seed,
                    expected=plan.expected,
                    label=label,
                    aivat=plan.aivat,
                )
            )
        if plan.lbr is not None:
            estimate, _ = lbr_estimate(
                game, hero, plan.lbr, plan.lbr_deals, plan.seed, label=f"{where} LBR"
            )
            values.append(estimate)
        if plan.rgbr_boards > 0:
            _note(f"  {where}: real-game best response")
            result = rgbr_estimate(game, table, plan.rgbr_boards, plan.seed, plan.rgbr_street)
            values.append(result.estimates(unit)["overall"])
        iteration = manifest.get("iteration")
        rows.append(
            Row(
                snapshot=info.name,
                iteration=iteration if isinstance(iteration, int) else None,
                elapsed_seconds=_number(manifest.get("elapsed_seconds")),
                values=values,
            )
        )
    return Curve(run=run, game=game, plan=plan, rows=rows)


# --------------------------------------------------------------------------------------------
# The command


def describe(curve: Curve) -> list[str]:
    """How each measure is made, one line each (as the single-snapshot commands print it)."""
    plan, game = curve.plan, curve.game
    lines = []
    if plan.exact:
        lines.append("exploitability: exact best responses over every deal, (BR0 + BR1) / 2")
    if plan.opponents:
        lines.append(match_description(game, plan.deals, plan.seed, plan.expected, plan.aivat))
    if plan.lbr is not None:
        lines.append(lbr_description(game, plan.lbr, plan.lbr_deals, plan.seed))
    if plan.rgbr_boards > 0:
        lines.append(rgbr_description(game, plan.rgbr_boards, plan.rgbr_street, plan.seed))
    return lines


def _digits(unit: Unit, exact: bool) -> int:
    # As `holdemd eval` prints them: exact chip values with 6 decimals, estimates with 4.
    if unit.name == "mbb/hand":
        return 1
    return 6 if exact else 4


def shown(value: Value) -> Value:
    """What a table cell and the plot show: the AIVAT estimate where there is one."""
    if isinstance(value, Estimate) and value.aivat is not None:
        return value.aivat
    return value


def cell(value: Value, unit: Unit) -> str:
    value = shown(value)
    if isinstance(value, Estimate):
        digits = _digits(unit, exact=False)
        return f"{value.mean:+.{digits}f} ± {value.half_width:.{digits}f}"
    return f"{value:.{_digits(unit, exact=True)}f}"


def curve_lines(curve: Curve) -> list[str]:
    """The table: one row per snapshot, one column per measure."""
    unit = curve.unit
    count = len(curve.rows)
    lines = [f"{curve.game.name}, run {curve.run}: {count} snapshot{'s' * (count != 1)}"]
    lines += describe(curve)
    aivat = " (head-to-head: with AIVAT; --json has both)" if curve.plan.aivat else ""
    lines.append(f"values in {unit.name}; ± is the 95% interval over deals{aivat}")
    header = ["snapshot", "iterations", "training", *curve.plan.measures()]
    table = [header]
    for row in curve.rows:
        iterations = "-" if row.iteration is None else f"{row.iteration:,}"
        elapsed = "-" if row.elapsed_seconds is None else format_duration(row.elapsed_seconds)
        table.append([row.snapshot, iterations, elapsed, *(cell(v, unit) for v in row.values)])
    widths = [max(len(line[c]) for line in table) for c in range(len(header))]
    lines.append("")
    for line in table:
        first = line[0].ljust(widths[0])
        rest = (text.rjust(width) for text, width in zip(line[1:], widths[1:], strict=True))
        lines.append("  ".join([first, *rest]).rstrip())
    return lines


def value_json(value: Value) -> dict[str, Any]:
    """``mean`` and ``ci95`` (the 95% half-width; 0 for an exact value), ``low``, ``high``."""
    if isinstance(value, Estimate):
        return {**value.as_dict(), "exact": False}
    return {"mean": value, "ci95": 0.0, "low": value, "high": value, "exact": True}


def curve_json(curve: Curve, plot: Path | None = None) -> dict[str, Any]:
    plan = curve.plan
    measures = plan.measures()
    return {
        "run": str(curve.run),
        "game": curve.game.name,
        "evaluation": "curve",
        "unit": curve.unit.name,
        "seed": plan.seed,
        "measures": measures,
        "deals": plan.deals if plan.opponents else None,
        "actions": ("expected" if plan.expected else "sampled") if plan.opponents else None,
        "aivat": plan.aivat,
        "lbr_deals": plan.lbr_deals if plan.lbr is not None else None,
        "lbr_menu": plan.lbr.menu_text if plan.lbr is not None else None,
        "lbr_preflop": plan.lbr.preflop if plan.lbr is not None else None,
        "rgbr_boards": plan.rgbr_boards or None,
        "rows": [
            {
                "snapshot": row.snapshot,
                "iteration": row.iteration,
                "elapsed_seconds": row.elapsed_seconds,
                "results": {
                    name: value_json(value)
                    for name, value in zip(measures, row.values, strict=True)
                },
            }
            for row in curve.rows
        ],
        "plot": None if plot is None else str(plot),
    }


def x_axis(rows: list[Row]) -> tuple[str, list[float]]:
    """The plot's x values: iterations, else training minutes, else the snapshot's number."""
    if all(row.iteration is not None for row in rows):
        return "iterations", [float(row.iteration or 0) for row in rows]
    if all(row.elapsed_seconds is not None for row in rows):
        return "training minutes", [(row.elapsed_seconds or 0.0) / 60 for row in rows]
    return "snapshot", [float(i) for i in range(1, len(rows) + 1)]


def plot_curve(curve: Curve, path: Path) -> None:
    """Draw the curve into the PNG file ``path``: a line per measure, 95% error bars."""
    from holdemd.evaluation.curve_png import Series, write_curve_png

    x_label, xs = x_axis(curve.rows)
    series = []
    for k, name in enumerate(curve.plan.measures()):
        values = [shown(row.values[k]) for row in curve.rows]
        means = [v.mean if isinstance(v, Estimate) else v for v in values]
        half_widths = [v.half_width if isinstance(v, Estimate) else 0.0 for v in values]
        series.append(Series(name, xs, means, half_widths))
    count = len(curve.rows)
    try:
        write_curve_png(
            path,
            series,
            title=f"{curve.run.name}: quality curve",
            subtitle=f"{curve.game.name}, {count} snapshot{'s' * (count != 1)}, "
            "mean and 95% interval",
            x_label=x_label,
            y_label=curve.unit.name,
        )
    except OSError as exc:
        raise UsageError(f"--plot {path}: cannot write: {exc.strerror or exc}") from exc
