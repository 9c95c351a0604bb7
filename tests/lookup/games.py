"""Small games and trained blueprints for the look-up tests (no snapshots, no workers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.store import TableStore
from holdemd.cards import num_indices
from holdemd.config.loader import load_config
from holdemd.config.schema import Config, GameConfig, TrainingConfig
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game, nolimit_rules
from holdemd.games.holdem import holdem_game
from holdemd.games.nolimit import NoLimitRules
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

ROOT = Path(__file__).resolve().parents[2]

# Heads-up, 100 bb, the menu of the example: half pot, pot and two pots.
HU_RULES = NoLimitRules(
    num_players=2,
    stack_chips=10_000,
    small_blind=50,
    big_blind=100,
    ante=0,
    bet_menu=(((0.5, 1.0, 2.0), (1.0,)), ((0.5, 1.0, 2.0), (1.0,)), ((1.0,),), ((1.0,),)),
    max_raises=(3, 2, 1, 1),
)
# Six seats with antes; one raise preflop and none after keep the tree small (8,563 nodes).
SIX_MAX_RULES = NoLimitRules(
    num_players=6,
    stack_chips=10_000,
    small_blind=50,
    big_blind=100,
    ante=10,
    bet_menu=(((1.0,),), ((1.0,),), ((1.0,),), ((1.0,),)),
    max_raises=(1, 0, 0, 0),
)


def fake_bucket_tables(flop_buckets: int = 1) -> tuple[np.ndarray, ...]:
    """Lossless preflop classes; postflop, every hand in bucket ``index % flop_buckets``.

    ``np.zeros``-backed, so the 123M-entry river table costs no memory until touched.
    """
    tables = [np.arange(169, dtype=np.uint8)]
    for street in (1, 2, 3):
        table = np.zeros(num_indices(street), dtype=np.uint8)
        if street == 1 and flop_buckets > 1:
            table[:] = np.arange(table.size) % flop_buckets
        tables.append(table)
    return tuple(tables)


def hu_game(flop_buckets: int = 1) -> Game:
    counts = (169, flop_buckets, 1, 1)
    return holdem_game(HU_RULES, counts, fake_bucket_tables(flop_buckets))


def six_max_game() -> Game:
    return holdem_game(SIX_MAX_RULES, (169, 1, 1, 1), fake_bucket_tables())


def trained(game: Game, iterations: int, rules: NoLimitRules | None = None) -> Blueprint:
    tables = Tables.zeros(game)
    ExternalSamplingMCCFR(game, tables, seed=5).run(iterations)
    return Blueprint.from_tables(
        game, tables.strategy_sum, rules=rules, snapshot="test", iteration=iterations
    )


def random_blueprint(game: Game, rules: NoLimitRules | None, seed: int = 0) -> Blueprint:
    """A blueprint with random positive strategy sums: every row trained, no solver needed."""
    rng = np.random.default_rng(seed)
    strategy_sum = rng.random((game.num_rows, game.max_actions)).astype(np.float32)
    return Blueprint.from_tables(game, strategy_sum, rules=rules, snapshot="random", iteration=0)


def tiny_config() -> GameConfig:
    return load_config(ROOT / "configs" / "holdem_tiny.yaml").game


def write_run(run_dir: Path, game_config: GameConfig, iterations: int) -> Blueprint:
    """Train a game in-process and save it as a run directory with one snapshot."""
    config = Config(game=game_config, training=TrainingConfig(iterations=iterations))
    game = build_game(game_config)
    rules = nolimit_rules(game_config) if game_config.name.startswith("holdem") else None
    tables = Tables.zeros(game)
    ExternalSamplingMCCFR(game, tables, seed=5).run(iterations)
    manifest = snapshot_manifest(
        config, game, iteration=iterations, elapsed=1.0, rng_state=0, sequence=0
    )
    arrays = {"regret": tables.regret, "strategy_sum": tables.strategy_sum}
    info = write_snapshot(run_dir, f"it-{iterations:012d}", arrays, manifest)
    return Blueprint.from_tables(
        game, tables.strategy_sum, rules=rules, snapshot=info.name, iteration=iterations
    )


def sums(blueprint: Blueprint) -> np.ndarray:
    """The strategy-sum table under a blueprint made from tables (writable: tests edit it)."""
    store = blueprint.store
    assert isinstance(store, TableStore)
    return store.strategy_sum
