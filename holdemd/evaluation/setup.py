"""What ``holdemd eval --vs …`` (head-to-head) and ``--lbr`` (local best response) measure.

The hero is the average strategy of the run's snapshot (``--snapshot``, default the latest).
Opponents: the bots ``random``, ``call``, ``raise`` (`holdemd.evaluation.policies`) and
``snapshot:NAME``, another snapshot of the same run (``snapshot:first`` is the oldest one kept,
``snapshot:latest`` the newest). Results are per hand in mbb (Hold'em) or chips per game (Kuhn,
Leduc), with a 95% interval over duplicate deals; on games small enough to enumerate, the exact
value is printed beside the estimate.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.errors import HoldemdError, UsageError
from holdemd.evaluation.aivat import aivat_applies, play_match_aivat
from holdemd.evaluation.lbr import (
    DECISION_RUNOUTS,
    default_preflop,
    local_best_response,
    menu_mask,
)
from holdemd.evaluation.match import EXPECTED_NODE_LIMIT, play_match, uses_allin_ev
from holdemd.evaluation.policies import (
    BOTS,
    Policy,
    blueprint_policy,
    combine_by_player,
    row_probabilities,
)
from holdemd.evaluation.stats import Estimate, Unit, aivat_estimate, duplicate_estimate
from holdemd.games.compiled import Game
from holdemd.rundir.load import LoadedSnapshot, load_snapshot
from holdemd.rundir.snapshot_read import read_manifest, read_snapshot
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.rundir.store import list_snapshots
from holdemd.solver.exact import ExactEvaluator, can_enumerate

DEFAULT_MATCH_DEALS = 100_000
DEFAULT_LBR_DEALS = 5_000
SNAPSHOT_PREFIX = "snapshot:"


@dataclass(frozen=True)
class Opponent:
    label: str  # as written after --vs
    policy: Policy


def _opponent_help(run_dir: Path) -> str:
    names = [s.name for s in list_snapshots(run_dir)]
    shown = ", ".join(names[:3] + (["…"] if len(names) > 4 else []) + names[3:][-1:])
    return f"use {', '.join(BOTS)} or snapshot:NAME (snapshots: {shown or 'none'})"


def resolve_snapshot_name(run_dir: Path, name: str | None) -> str | None:
    """``first`` and ``latest`` name the oldest and newest snapshot kept (unless a snapshot is
    really called that); any other name is returned as it is."""
    if name not in ("first", "latest") or not run_dir.is_dir():
        return name
    snapshots = list_snapshots(run_dir)
    if not snapshots or any(s.name == name for s in snapshots):
        return name
    return snapshots[0].name if name == "first" else snapshots[-1].name


def read_strategy_sum(
    info: SnapshotInfo, game: Game, flag: str, hint: str = "pick another snapshot"
) -> tuple[np.ndarray, dict[str, Any]]:
    """(strategy sums, manifest) of a snapshot of the run, checked against the run's ``game``
    (loaded once from another snapshot: building a Hold'em game again would reload buckets);
    lazy tables as dense rows (small games)."""
    try:
        if read_manifest(info.path).get("tables") == "lazy":
            arrays, manifest = _lazy_strategy_sum(info, game, hint)
        else:
            arrays, manifest = read_snapshot(info.path)
    except HoldemdError as exc:
        raise UsageError(f"{flag}: {exc}") from exc
    table = arrays.get("strategy_sum")
    if table is None or table.shape != (game.num_rows, game.max_actions):
        raise UsageError(f"{flag}: its tables do not fit this run's game; {hint}")
    if manifest.get("abstraction_digest") != game.abstraction_digest:
        raise UsageError(f"{flag}: it was trained on other card buckets; {hint}")
    return table, manifest


def _lazy_strategy_sum(
    info: SnapshotInfo, game: Game, hint: str
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A lazy snapshot's strategy sums as dense rows: what `load_snapshot` reads, later
    streets' sums file included."""
    if read_manifest(info.path).get("abstraction_digest") != game.abstraction_digest:
        raise UsageError(f"it was trained on other card buckets; {hint}")
    loaded = load_snapshot(info.path.parent.parent, info.name, built=lambda _: game)
    return {"strategy_sum": loaded.tables.strategy_sum}, loaded.manifest


def _snapshot_opponent(run_dir: Path, name: str, hero: LoadedSnapshot) -> Policy:
    flag = f"--vs {SNAPSHOT_PREFIX}{name}"
    by_name = {s.name: s for s in list_snapshots(run_dir)}
    info = by_name.get(resolve_snapshot_name(run_dir, name) or "")
    if info is None:
        raise UsageError(f"{flag}: no such snapshot in {run_dir}; {_opponent_help(run_dir)}")
    table, _ = read_strategy_sum(info, hero.game, flag)
    return blueprint_policy(info.name, table)


def parse_opponents(text: str, run_dir: Path, hero: LoadedSnapshot) -> list[Opponent]:
    labels = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not label for label in labels):
        raise UsageError(f"--vs '{text}': name opponents, e.g. --vs random,call,raise")
    dtype = hero.tables.strategy_sum.dtype
    opponents = []
    for label in labels:
        if label in BOTS:
            policy = BOTS[label](hero.game, dtype)
        elif label.startswith(SNAPSHOT_PREFIX) and label != SNAPSHOT_PREFIX:
            policy = _snapshot_opponent(run_dir, label[len(SNAPSHOT_PREFIX) :], hero)
        else:
            raise UsageError(f"--vs {label}: unknown opponent; {_opponent_help(run_dir)}")
        opponents.append(Opponent(label, policy))
    return opponents


def exact_match_value(game: Game, hero: Policy, opponent: Policy) -> float:
    """The hero's exact expected payoff (chips), averaged over its seats, on a small game."""
    evaluator = ExactEvaluator(game)
    hero_rows = row_probabilities(game, hero)
    opponent_rows = row_probabilities(game, opponent)
    total = 0.0
    for seat in range(game.num_players):
        tables = [hero_rows if p == seat else opponent_rows for p in range(game.num_players)]
        total += float(evaluator.expected_values(combine_by_player(game, tables))[seat])
    return total / game.num_players


def progress(label: str, total: int) -> Any:
    if not sys.stderr.isatty():
        return None

    def report(done: int) -> None:
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r  {label}: {done:,}/{total:,} deals{end}")
        sys.stderr.flush()

    return report


def check_hands(hands: int | None, default: int, flag: str = "--hands") -> int:
    if hands is None:
        return default
    if hands < 2:
        raise UsageError(f"{flag} {hands}: play at least 2 deals (an interval needs two)")
    return hands


def expected_actions(game: Game, actions: str | None) -> bool:
    """``--actions``: walk every action weighted by its probability (True) or sample them."""
    return game.num_nodes <= EXPECTED_NODE_LIMIT if actions is None else actions == "expected"


def match_estimate(
    game: Game,
    hero: Policy,
    opponent: Opponent,
    deals: int,
    seed: int,
    *,
    expected: bool,
    label: str | None = None,
    aivat: bool = False,
) -> Estimate:
    """The hero's result against one opponent over ``deals`` duplicate deals, in the game's
    unit; ``label`` names the match in the progress line. With ``aivat`` (heads-up Hold'em) the
    estimate also carries AIVAT's, from the same deals."""
    report = progress(label or f"vs {opponent.label}", deals)
    if aivat:
        both = play_match_aivat(
            game, hero, opponent.policy, deals, seed, expected=expected, progress=report
        )
        return aivat_estimate(both.plain, both.aivat, Unit.of(game))
    values = play_match(
        game,
        hero,
        opponent.policy,
        deals,
        seed,
        expected=expected,
        allin_ev=uses_allin_ev(game),
        progress=report,
    )
    return duplicate_estimate(values, Unit.of(game))


def check_aivat(game: Game, aivat: bool) -> bool:
    """``--aivat``: refused where it does not apply (it needs both hands' equity)."""
    if aivat and not aivat_applies(game):
        raise UsageError(
            f"--aivat: {game.name} is not heads-up Hold'em with a dealt board; AIVAT's value "
            "function needs both hands' showdown equity (drop --aivat)"
        )
    return aivat


def match_description(
    game: Game, deals: int, seed: int, expected: bool, aivat: bool = False
) -> str:
    """How the head-to-head deals are played, as one line."""
    actions = (
        "every action weighted by its probability"
        if expected
        else "actions sampled, hand-ending ones scored exactly"
    )
    return (
        f"head-to-head: {deals:,} deals x {game.num_players} seats (duplicate), "
        f"{actions}{', all-in EV' if uses_allin_ev(game) else ''}"
        f"{', and with AIVAT' if aivat else ''}, seed {seed}"
    )


def parse_menu(text: str | None) -> tuple[list[float] | None, bool]:
    """``--lbr-bets``: pot fractions and/or ``allin``; None = the tree's own menu."""
    if text is None:
        return None, True
    fractions: list[float] = []
    allin = False
    for token in (part.strip().lower() for part in text.split(",")):
        if token in ("allin", "all-in"):
            allin = True
            continue
        try:
            value = float(token)
        except ValueError:
            value = -1.0
        if not 0 < value <= 20:
            raise UsageError(
                f"--lbr-bets {text}: '{token}' is neither a pot fraction in (0, 20] nor 'allin'"
            )
        fractions.append(value)
    return fractions, allin


@dataclass(frozen=True)
class LbrSetup:
    """LBR's options as ``--lbr-bets`` and ``--lbr-preflop`` set them."""

    menu: np.ndarray  # bool[N, A], `menu_mask`
    menu_text: str  # "the tree's", or --lbr-bets as written
    preflop: str


def lbr_setup(game: Game, lbr_bets: str | None, lbr_preflop: str | None) -> LbrSetup:
    fractions, allin = parse_menu(lbr_bets)
    return LbrSetup(
        menu=menu_mask(game, fractions, allin),
        menu_text="the tree's" if fractions is None else str(lbr_bets),
        preflop=lbr_preflop or default_preflop(game),
    )


def lbr_estimate(
    game: Game, hero: Policy, setup: LbrSetup, deals: int, seed: int, label: str = "LBR"
) -> tuple[Estimate, np.ndarray]:
    """(LBR's value against ``hero`` in the game's unit, its action counts)."""
    values, counts = local_best_response(
        game,
        hero,
        deals,
        seed,
        menu=setup.menu,
        preflop=setup.preflop,
        progress=progress(label, deals),
    )
    return duplicate_estimate(values, Unit.of(game)), counts


def lbr_description(game: Game, setup: LbrSetup, deals: int, seed: int) -> str:
    """How LBR plays, as one line."""
    runouts = "" if can_enumerate(game) else f", equity over {DECISION_RUNOUTS} run-outs pre-turn"
    return (
        f"local best response: {deals:,} deals x 2 seats, bets: {setup.menu_text} menu, preflop "
        f"{setup.preflop}{runouts}, seed {seed}"
    )
