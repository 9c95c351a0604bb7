"""The hunl_quick blueprint the look-up tests share (random strategy sums, 3% of the rows
untrained, the shipped quick buckets) and random decisions to ask it about."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from holdemd import Blueprint
from holdemd.blueprint.export import export_blueprint
from holdemd.cards import BOARD_SIZES, format_cards
from holdemd.config.loader import load_config
from holdemd.config.schema import Config
from holdemd.games.factory import build_game
from holdemd.rundir.load import load_snapshot
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_write import write_snapshot

ROOT = Path(__file__).resolve().parents[2]


def write_hunl(root: Path) -> tuple[Path, Path]:
    """(run directory, blueprint file) of hunl_quick under ``root``."""
    config = load_config(ROOT / "configs" / "hunl_quick.yaml")
    config = Config(game=config.game, abstraction=config.abstraction)
    game = build_game(config.game, config.abstraction.buckets)
    rng = np.random.default_rng(5)
    sums = (rng.random((game.num_rows, game.max_actions)) ** 3).astype(np.float32)
    sums[rng.random(game.num_rows) < 0.03] = 0.0
    regret = np.zeros_like(sums)
    manifest = snapshot_manifest(config, game, iteration=7, elapsed=1.0, rng_state=0, sequence=0)
    run = root / "run"
    write_snapshot(run, "it-000000000007", {"regret": regret, "strategy_sum": sums}, manifest)
    path = root / "hunl.bp"
    report = export_blueprint(load_snapshot(run), path)
    assert report.bits == 8 and not report.embedded_abstraction
    assert report.bytes < report.table_bytes / 4
    return run, path


def random_decision(blueprint: Blueprint, rng: np.random.Generator) -> tuple[str, str, str]:
    """(hand, board, history): a random walk down the tree, sometimes with an off-tree size."""
    game = blueprint.tree.game
    a = game.arrays
    node, depth = 0, int(rng.integers(0, 8))
    tokens: list[tuple[int, str]] = []
    while True:
        decision = blueprint.decision_at(node)
        live = [act for act in decision.actions if a.node_player[act.child] >= 0]
        if not live or len(tokens) >= depth:
            break
        act = live[int(rng.integers(len(live)))]
        token = act.token
        if act.pot_fraction is not None and act.token != "a" and rng.random() < 0.2:
            token = f"{'r' if decision.facing_bet else 'b'}{act.pot_fraction * 1.3:.2f}p"
        tokens.append((decision.street, token))
        node = act.child
    street = decision.street
    streets: list[list[str]] = [[] for _ in range(street + 1)]
    for s, token in tokens:
        streets[s].append(token)
    history = " / ".join(" ".join(s) for s in streets)
    cards = rng.permutation(52)[: 2 + BOARD_SIZES[street]]
    return format_cards(cards[:2]), format_cards(cards[2:]), history
