"""``holdemd eval --vs …`` (head-to-head) and ``holdemd eval --lbr`` (local best response).

The hero is the average strategy of the run's snapshot (``--snapshot``, default the latest).
Opponents: the bots ``random``, ``call``, ``raise`` (`holdemd.evaluation.policies`) and
``snapshot:NAME``, another snapshot of the same run (``snapshot:first`` is the oldest one kept,
``snapshot:latest`` the newest). Results are per hand in mbb (Hold'em) or chips per game (Kuhn,
Leduc), with a 95% interval over duplicate deals; on games small enough to enumerate, the exact
value is printed beside the estimate.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holdemd.daemon.snapshot_store import list_snapshots
from holdemd.daemon.snapshots import read_snapshot
from holdemd.errors import ExitCode, HoldemdError, UsageError
from holdemd.evaluation.lbr import (
    DECISION_RUNOUTS,
    check_lbr_game,
    default_preflop,
    local_best_response,
    menu_mask,
)
from holdemd.evaluation.lbr_kernel import COUNT_CALLS, COUNT_DECISIONS, COUNT_FOLDS, COUNT_RAISES
from holdemd.evaluation.match import EXPECTED_NODE_LIMIT, play_match, uses_allin_ev
from holdemd.evaluation.policies import (
    BOTS,
    Policy,
    blueprint_policy,
    combine_by_player,
    row_probabilities,
)
from holdemd.evaluation.stats import Estimate, Unit, duplicate_estimate
from holdemd.games.compiled import Game
from holdemd.runs import LoadedSnapshot, load_snapshot
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


def _snapshot_opponent(run_dir: Path, name: str, hero: LoadedSnapshot) -> Policy:
    flag = f"--vs {SNAPSHOT_PREFIX}{name}"
    by_name = {s.name: s for s in list_snapshots(run_dir)}
    info = by_name.get(resolve_snapshot_name(run_dir, name) or "")
    if info is None:
        raise UsageError(f"{flag}: no such snapshot in {run_dir}; {_opponent_help(run_dir)}")
    try:
        arrays, manifest = read_snapshot(info.path)
    except HoldemdError as exc:
        raise UsageError(f"{flag}: {exc}") from exc
    table = arrays.get("strategy_sum")
    game = hero.game
    if table is None or table.shape != (game.num_rows, game.max_actions):
        raise UsageError(f"{flag}: its tables do not fit this run's game; pick another snapshot")
    if manifest.get("abstraction_digest") != game.abstraction_digest:
        raise UsageError(f"{flag}: it was trained on other card buckets; pick another snapshot")
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


def _progress(label: str, total: int) -> Any:
    if not sys.stderr.isatty():
        return None

    def report(done: int) -> None:
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r  {label}: {done:,}/{total:,} deals{end}")
        sys.stderr.flush()

    return report


def _check_hands(hands: int | None, default: int) -> int:
    if hands is None:
        return default
    if hands < 2:
        raise UsageError(f"--hands {hands}: play at least 2 deals (an interval needs two)")
    return hands


def _header(loaded: LoadedSnapshot) -> str:
    iteration = loaded.manifest.get("iteration")
    done = f" ({iteration:,} iterations)" if isinstance(iteration, int) else ""
    return f"{loaded.game.name}, snapshot {loaded.info.name}{done}"


def _interval(estimate: Estimate, digits: int) -> str:
    return f"[{estimate.low:+.{digits}f}, {estimate.high:+.{digits}f}]"


def run_head_to_head(args: argparse.Namespace) -> int:
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    game = loaded.game
    deals = _check_hands(args.hands, DEFAULT_MATCH_DEALS)
    opponents = parse_opponents(args.vs, args.run, loaded)
    hero = blueprint_policy(loaded.info.name, loaded.tables.strategy_sum)
    expected = (
        game.num_nodes <= EXPECTED_NODE_LIMIT
        if args.actions is None
        else args.actions == "expected"
    )
    allin_ev = uses_allin_ev(game)
    unit = Unit.of(game)
    exact = can_enumerate(game)
    digits = 1 if unit.name == "mbb/hand" else 4
    rows: list[tuple[Opponent, Estimate, float | None]] = []
    for opponent in opponents:
        values = play_match(
            game,
            hero,
            opponent.policy,
            deals,
            args.seed,
            expected=expected,
            allin_ev=allin_ev,
            progress=_progress(f"vs {opponent.label}", deals),
        )
        value = exact_match_value(game, hero, opponent.policy) * unit.per_chip if exact else None
        rows.append((opponent, duplicate_estimate(values, unit), value))
    actions = (
        "every action weighted by its probability"
        if expected
        else "actions sampled, hand-ending ones scored exactly"
    )
    if args.json:
        print(
            json.dumps(
                {
                    **_json_header(args, loaded, "head-to-head"),
                    "deals": deals,
                    "seats": game.num_players,
                    "seed": args.seed,
                    "actions": "expected" if expected else "sampled",
                    "allin_ev": allin_ev,
                    "unit": unit.name,
                    "results": [
                        {"opponent": o.label, **e.as_dict(), "exact": value} for o, e, value in rows
                    ],
                }
            )
        )
        return ExitCode.OK
    print(_header(loaded))
    print(
        f"head-to-head: {deals:,} deals x {game.num_players} seats (duplicate), "
        f"{actions}{', all-in EV' if allin_ev else ''}, seed {args.seed}"
    )
    width = max(len(o.label) for o in opponents) + 3
    for opponent, estimate, value in rows:
        line = (
            f"vs {opponent.label:<{width}}{estimate.text(digits)}  {_interval(estimate, digits)}"
            f"  (±{estimate.half_width_single:.{digits}f} without duplicate)"
        )
        if value is not None:
            line += f"  exact {value:+.{digits}f}"
        print(line)
    return ExitCode.OK


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


def run_lbr(args: argparse.Namespace) -> int:
    loaded = load_snapshot(args.run, resolve_snapshot_name(args.run, args.snapshot))
    game = loaded.game
    check_lbr_game(game)
    deals = _check_hands(args.hands, DEFAULT_LBR_DEALS)
    fractions, allin = parse_menu(args.lbr_bets)
    hero = blueprint_policy(loaded.info.name, loaded.tables.strategy_sum)
    preflop = args.lbr_preflop or default_preflop(game)
    values, counts = local_best_response(
        game,
        hero,
        deals,
        args.seed,
        menu=menu_mask(game, fractions, allin),
        preflop=preflop,
        progress=_progress("LBR", deals),
    )
    unit = Unit.of(game)
    estimate = duplicate_estimate(values, unit)
    exact = None
    if can_enumerate(game):
        evaluator = ExactEvaluator(game)
        exact = evaluator.exploitability(row_probabilities(game, hero)) * unit.per_chip
    decisions = max(int(counts[COUNT_DECISIONS]), 1)
    shares = {
        "fold": counts[COUNT_FOLDS] / decisions,
        "check_call": counts[COUNT_CALLS] / decisions,
        "bet_raise": counts[COUNT_RAISES] / decisions,
    }
    menu = "the tree's" if fractions is None else args.lbr_bets
    runouts = "" if exact is not None else f", equity over {DECISION_RUNOUTS} run-outs pre-turn"
    if args.json:
        print(
            json.dumps(
                {
                    **_json_header(args, loaded, "lbr"),
                    "seed": args.seed,
                    "lbr": estimate.as_dict(),
                    "exact_exploitability": exact,
                    "lbr_menu": menu,
                    "lbr_preflop": preflop,
                    "lbr_decisions": int(counts[COUNT_DECISIONS]),
                    "lbr_action_shares": {k: float(v) for k, v in shares.items()},
                }
            )
        )
        return ExitCode.OK
    print(_header(loaded))
    print(
        f"local best response: {deals:,} deals x 2 seats, bets: {menu} menu, preflop "
        f"{preflop}{runouts}, seed {args.seed}"
    )
    print(
        f"LBR value (a lower bound on exploitability): {estimate.text()}  {_interval(estimate, 1)}"
    )
    if exact is not None:
        print(f"exact exploitability: {exact:.1f} {unit.name}")
    print(
        f"LBR's {int(counts[COUNT_DECISIONS]):,} decisions: {shares['fold']:.0%} fold, "
        f"{shares['check_call']:.0%} check/call, {shares['bet_raise']:.0%} bet/raise"
    )
    return ExitCode.OK


def run_eval_command(args: argparse.Namespace) -> int:
    """``holdemd eval`` with ``--vs`` or ``--lbr``."""
    if args.vs is not None and args.lbr:
        raise UsageError("--vs and --lbr are separate evaluations; run one at a time")
    if args.lbr:
        if args.actions is not None:
            raise UsageError("--actions applies to --vs; LBR samples the blueprint's actions")
        return run_lbr(args)
    for flag, value in (("--lbr-bets", args.lbr_bets), ("--lbr-preflop", args.lbr_preflop)):
        if value is not None:
            raise UsageError(f"{flag} applies to --lbr")
    return run_head_to_head(args)


def check_exact_flags(args: argparse.Namespace, game: Game) -> None:
    """The exact evaluation (no --vs, no --lbr): refuse flags that only matter for play."""
    for flag, value in (
        ("--hands", args.hands),
        ("--actions", args.actions),
        ("--lbr-bets", args.lbr_bets),
        ("--lbr-preflop", args.lbr_preflop),
    ):
        if value is not None:
            raise UsageError(
                f"{flag} applies to --vs or --lbr; the exact evaluation uses every deal"
            )
    if not can_enumerate(game):
        hint = "--vs random,call or --lbr" if game.num_players == 2 else "--vs random,call"
        raise UsageError(
            f"--run {args.run}: {game.name} has too many deals for an exact evaluation; "
            f"measure it with {hint}"
        )


def _json_header(
    args: argparse.Namespace, loaded: LoadedSnapshot, evaluation: str
) -> dict[str, Any]:
    """The keys every ``eval --json`` object starts with: what was measured, and how."""
    return {
        "run": str(args.run),
        "snapshot": loaded.info.name,
        "game": loaded.game.name,
        "iteration": loaded.manifest.get("iteration"),
        "evaluation": evaluation,
    }
