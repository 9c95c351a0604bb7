"""Where a `Blueprint` comes from: a blueprint file, a run directory or snapshot, or tables in
memory (a test's, or a running training's). Each becomes the same `Parts`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.blueprint.actions import ActionTexts, describe_tree, tree_histories
from holdemd.blueprint.container import EXPORT_AGAIN, Container
from holdemd.blueprint.export import FORMAT, NODE_ARRAYS, SCALES
from holdemd.blueprint.store import QuantizedStore, StrategyStore, TableStore
from holdemd.blueprint.tree import BettingTree
from holdemd.config.binder import build_dataclass, dataclass_to_dict
from holdemd.config.schema import CHIPS_PER_BB, Config
from holdemd.errors import BlueprintError, ConfigError
from holdemd.games.compiled import Game, GameArrays, no_bucket_tables
from holdemd.games.factory import make_game, nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit import NoLimitRules
from holdemd.rundir.load import LoadedSnapshot

SUPPORTED_VERSION = 1


@dataclass(frozen=True)
class Parts:
    game: Game  # Hold'em from a file: bucket tables are loaded on first use (`tables`)
    rules: NoLimitRules | None
    texts: ActionTexts
    store: StrategyStore
    config: Config | None
    manifest: dict[str, Any]
    source: Path | None  # the file, or the snapshot directory
    snapshot: str
    iteration: int | None
    bits: int | None  # None: exact probabilities from strategy sums
    max_error: float
    chips_per_unit: float
    embedded_bundle: Callable[[], bytes] | None = None


def from_tables(
    game: Game,
    strategy_sum: np.ndarray,
    *,
    config: Config | None = None,
    rules: NoLimitRules | None = None,
    snapshot: str = "",
    iteration: int | None = None,
    source: Path | None = None,
    manifest: dict[str, Any] | None = None,
) -> Parts:
    """Parts over a strategy-sum table, read row by row (it may be a live training table)."""
    kind = game_kind(game.name)
    if rules is None and config is not None and not kind.fixed_rules:
        rules = nolimit_rules(config.game)
    texts = describe_tree(BettingTree(game, rules))
    a = game.arrays
    store = TableStore(strategy_sum, a.node_num_actions, a.node_row_base)
    return Parts(
        game=game,
        rules=rules,
        texts=texts,
        store=store,
        config=config,
        manifest=manifest or {"game": {"name": game.name}},
        source=source,
        snapshot=snapshot,
        iteration=iteration,
        bits=None,
        max_error=0.0,
        chips_per_unit=float(CHIPS_PER_BB) if rules is not None else 1.0,
    )


def from_snapshot(loaded: LoadedSnapshot) -> Parts:
    iteration = loaded.manifest.get("iteration")
    return from_tables(
        loaded.game,
        loaded.tables.strategy_sum,
        config=loaded.config,
        snapshot=loaded.info.name,
        iteration=iteration if isinstance(iteration, int) else None,
        source=loaded.info.path,
        manifest={
            "game": {"name": loaded.game.name},
            "config": dataclass_to_dict(loaded.config),
            "source": {
                "run": str(loaded.info.path.parent.parent),
                "snapshot": loaded.info.name,
                "iteration": iteration,
            },
            "abstraction": {"digest": loaded.game.abstraction_digest},
        },
    )


def from_path(path: Path, snapshot: str | None, verify: bool) -> Parts:
    """A blueprint file, a snapshot directory or a run directory."""
    from holdemd.rundir.load import load_snapshot

    if path.is_dir():
        if (path / "manifest.json").is_file():
            if snapshot is not None:
                raise BlueprintError(f"{path}: a snapshot directory; drop the snapshot name")
            return from_snapshot(load_snapshot(path.parent.parent, path.name))
        return from_snapshot(load_snapshot(path, snapshot))
    if snapshot is not None:
        raise BlueprintError(f"{path}: a blueprint file holds one snapshot; drop the name")
    return from_file(path, verify)


def from_file(path: Path, verify: bool = True) -> Parts:
    container = Container.open(path, verify=verify)
    manifest = container.manifest
    if manifest.get("format") != FORMAT:
        raise _damaged(path, "the manifest is not a holdemd blueprint's")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > SUPPORTED_VERSION:
        raise BlueprintError(
            f"blueprint {path}: written by a newer holdemd (format {version}); upgrade holdemd"
        )
    try:
        return _parts_of(path, container, manifest)
    except (KeyError, TypeError, ValueError, IndexError, ConfigError) as exc:
        raise _damaged(path, f"inconsistent contents ({exc})") from exc


def _damaged(path: Path, problem: str) -> BlueprintError:
    return BlueprintError(f"blueprint {path} is damaged: {problem}; {EXPORT_AGAIN}")


def _parts_of(path: Path, container: Container, manifest: dict[str, Any]) -> Parts:
    info = manifest["game"]
    config = build_dataclass(Config, manifest["config"], source=f"blueprint {path}")
    pool = _strings(container)
    arrays = _game_arrays(container, info)
    texts = ActionTexts(
        pool=pool,
        token=_ids(container.array("action_token")),
        label=_ids(container.array("action_label")),
        step=_ids(container.array("action_step")),
        street_start=container.array("node_street_start").astype(np.float64),
    )
    game = _game(info["name"], arrays, texts, pool, container, manifest)
    kind = game_kind(game.name)
    strategy = manifest["strategy"]
    bits = int(strategy["bits"])
    store = QuantizedStore(
        container.array("probabilities"),
        container.array("node_prob_offset"),
        arrays.node_num_actions,
        arrays.node_row_base,
        container.array("trained"),
        SCALES[bits],
    )
    if container.array("probabilities").dtype.itemsize * 8 != bits:
        raise ValueError("the probabilities' dtype does not match strategy.bits")
    source = manifest.get("source") or {}
    iteration = source.get("iteration")
    bundle = None
    if container.has("abstraction_bundle"):

        def bundle() -> bytes:
            return container.raw("abstraction_bundle")

    return Parts(
        game=game,
        rules=None if kind.fixed_rules else nolimit_rules(config.game),
        texts=texts,
        store=store,
        config=config,
        manifest=manifest,
        source=path,
        snapshot=str(source.get("snapshot", "")),
        iteration=iteration if isinstance(iteration, int) else None,
        bits=bits,
        max_error=float(strategy["max_error"]),
        chips_per_unit=float(info["chips_per_unit"]),
        embedded_bundle=bundle,
    )


def _strings(container: Container) -> tuple[str, ...]:
    offsets = container.array("strings_offsets").astype(np.int64)
    data = container.array("strings_bytes").tobytes()
    return tuple(data[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1))


def _ids(stored: np.ndarray) -> np.ndarray:
    missing = np.iinfo(stored.dtype).max
    return np.where(stored == missing, -1, stored).astype(np.int32)


def _game_arrays(container: Container, info: dict[str, Any]) -> GameArrays:
    fields: dict[str, Any] = {name: container.array(name) for name in NODE_ARRAYS}
    for name in ("node_action_amount", "node_contrib"):
        fields[name] = fields[name].astype(np.float64)
    return GameArrays(
        **fields,
        deal_kind=int(info["deal_kind"]),
        cards_per_deal=int(info["cards_per_deal"]),
        bucket_tables=no_bucket_tables(),
        num_players=int(info["players"]),
        max_depth=int(info["max_depth"]),
    )


def _game(
    name: str,
    arrays: GameArrays,
    texts: ActionTexts,
    pool: tuple[str, ...],
    container: Container,
    manifest: dict[str, Any],
) -> Game:
    if game_kind(name).fixed_rules:
        game = make_game(name)  # a few dozen nodes: the rules are the game's own
        if not np.array_equal(game.arrays.node_children, arrays.node_children):
            raise ValueError(f"the tree is not this holdemd's {name}")
        return game
    labels = [pool[int(i)] for i in container.array("bucket_label")]
    counts = [int(c) for c in arrays.street_buckets]
    starts = np.cumsum([0, *counts])
    width = int(arrays.node_children.shape[1])
    terminal = arrays.node_player < 0
    digest = (manifest.get("abstraction") or {}).get("digest")
    return Game(
        name=name,
        arrays=arrays,
        histories=tree_histories(arrays, texts),
        num_rows=int(manifest["game"]["rows"]),
        max_actions=width,
        utility_scale=float(arrays.node_contrib[terminal].max()),
        bucket_labels=tuple(tuple(labels[starts[s] : starts[s + 1]]) for s in range(len(counts))),
        export_actions=tuple(f"action{i}" for i in range(width)),
        export_slot=np.where(arrays.node_action_kind >= 0, np.arange(width), -1).astype(np.int8),
        abstraction_digest=digest if isinstance(digest, str) else None,
    )


def with_bucket_tables(game: Game, tables: tuple[np.ndarray, ...]) -> Game:
    return dataclasses.replace(game, arrays=game.arrays._replace(bucket_tables=tables))
