"""Writing a blueprint file from a training snapshot: `export_blueprint`.

What goes in (``docs/blueprint.md`` has the byte layout): the run's config; the compiled betting
tree (node arrays, and per action its ``--history`` token, label and tree letters); the strategy
to play, the snapshot's normalized strategy sums (the average strategy, or with
``average: first_round`` the first-round average plus the snapshot means of later streets),
quantized to 8 or 16 bits per action; which rows were ever trained; and the card abstraction,
referenced by digest when it ships with holdemd and embedded otherwise (``embed``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from holdemd import __version__
from holdemd.blueprint.actions import ActionTexts, describe_tree
from holdemd.blueprint.container import write_container
from holdemd.blueprint.kernels import quantize_strategy
from holdemd.blueprint.tree import BettingTree
from holdemd.config.binder import dataclass_to_dict
from holdemd.config.schema import CHIPS_PER_BB
from holdemd.errors import UsageError
from holdemd.games.compiled import Game
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.rundir.load import LoadedSnapshot

FORMAT = "holdemd-blueprint"
SCALES = {8: 255, 16: 65535}
NODE_ARRAYS = (
    "node_player",
    "node_street",
    "node_num_actions",
    "node_children",
    "node_action_kind",
    "node_action_amount",
    "node_row_base",
    "node_terminal",
    "node_contrib",
    "node_alive",
    "node_depth",
    "street_buckets",
    "deck",
    "fixed_board",
    "card_slot",
)
CHIP_ARRAYS = ("node_action_amount", "node_contrib", "node_street_start")


@dataclass(frozen=True)
class ExportReport:
    path: Path
    bytes: int
    table_bytes: int  # the snapshot's float32 (or float64) regret + strategy-sum tables
    strategy_bytes: int  # the strategy-sum table alone
    bits: int
    max_error: float  # the largest |decoded - exact| probability
    rows: int
    untrained_rows: int
    embedded_abstraction: bool
    seconds: float


@dataclass(frozen=True)
class Quantized:
    probabilities: np.ndarray  # uint8 or uint16[total]
    node_offset: np.ndarray  # int64[N]
    trained: np.ndarray  # uint8[ceil(rows / 8)]
    max_error: float


def quantize(game: Game, strategy_sum: np.ndarray, bits: int) -> Quantized:
    """The normalized strategy of every row, largest-remainder rounded to ``bits`` bits."""
    if bits not in SCALES:
        raise UsageError(f"--bits {bits}: choose 8 or 16")
    a = game.arrays
    decision = a.node_row_base >= 0
    rows = np.where(decision, a.street_buckets[np.maximum(a.node_street, 0)], 0).astype(np.int64)
    sizes = rows * a.node_num_actions.astype(np.int64)
    node_offset = np.where(decision, np.cumsum(sizes) - sizes, -1).astype(np.int64)
    out = np.zeros(int(sizes.sum()), dtype=np.uint8 if bits == 8 else np.uint16)
    trained = np.zeros((game.num_rows + 7) // 8, dtype=np.uint8)
    worst = quantize_strategy(
        strategy_sum,
        a.node_row_base,
        a.node_num_actions,
        rows,
        node_offset,
        SCALES[bits],
        out,
        trained,
    )
    return Quantized(out, node_offset, trained, float(worst))


def default_bits(game_name: str) -> int:
    """16 bits for the games evaluated exactly (Kuhn, Leduc, fixed-board Hold'em), whose files
    are tiny either way and whose exploitability 8 bits would move by a few percent near
    equilibrium; 8 bits for Hold'em, where the file's size matters (docs/blueprint.md)."""
    kind = game_kind(game_name)
    return 16 if kind.fixed_rules or kind.fixed_board else 8


def export_blueprint(
    loaded: LoadedSnapshot, out: Path, *, bits: int | None = None, embed: bool | None = None
) -> ExportReport:
    """Write the blueprint of ``loaded`` to ``out`` (atomically). ``bits``: 8 or 16 (default:
    `default_bits`). ``embed``: put the card abstraction in the file (default: only when it
    does not ship with holdemd)."""
    started = time.monotonic()
    game, config = loaded.game, loaded.config
    kind = game_kind(game.name)
    bits = default_bits(game.name) if bits is None else bits
    rules = None if kind.fixed_rules else nolimit_rules(config.game)
    texts = describe_tree(BettingTree(game, rules))
    quantized = quantize(game, loaded.tables.strategy_sum, bits)
    pool = list(texts.pool)
    label_ids = _intern_all(pool, [label for street in game.bucket_labels for label in street])
    sections: dict[str, np.ndarray] = {}
    for name in NODE_ARRAYS:
        sections[name] = np.asarray(getattr(game.arrays, name))
    sections["node_street_start"] = texts.street_start
    for name in CHIP_ARRAYS:
        sections[name] = _compact_chips(sections[name])
    sections.update(_action_ids(texts, len(pool)))
    sections["bucket_label"] = label_ids.astype(_id_dtype(len(pool)))
    sections.update(_string_pool(pool))
    sections["probabilities"] = quantized.probabilities
    sections["node_prob_offset"] = quantized.node_offset
    sections["trained"] = quantized.trained
    abstraction: dict[str, Any] | None = None
    if kind.needs_buckets:
        from holdemd.blueprint.abstraction import abstraction_entry

        abstraction, bundle = abstraction_entry(game, config.abstraction.buckets, embed)
        if bundle is not None:
            sections["abstraction_bundle"] = bundle
    untrained = game.num_rows - int(np.unpackbits(quantized.trained).sum())
    manifest = _manifest(loaded, bits, quantized.max_error, untrained, abstraction)
    size = write_container(out, manifest, sections)
    strategy = loaded.tables.strategy_sum
    return ExportReport(
        path=out,
        bytes=size,
        table_bytes=int(loaded.tables.regret.nbytes + strategy.nbytes),
        strategy_bytes=int(strategy.nbytes),
        bits=bits,
        max_error=quantized.max_error,
        rows=game.num_rows,
        untrained_rows=untrained,
        embedded_abstraction="abstraction_bundle" in sections,
        seconds=time.monotonic() - started,
    )


def _manifest(
    loaded: LoadedSnapshot,
    bits: int,
    max_error: float,
    untrained: int,
    abstraction: dict[str, Any] | None,
) -> dict[str, Any]:
    game, config = loaded.game, loaded.config
    kind = game_kind(game.name)
    return {
        "format": FORMAT,
        "format_version": 1,
        "holdemd_version": __version__,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": {
            "run": str(loaded.info.path.parent.parent.resolve()),
            "snapshot": loaded.info.name,
            "iteration": loaded.manifest.get("iteration"),
            "elapsed_seconds": loaded.manifest.get("elapsed_seconds"),
            "snapshot_manifest_sha256": loaded.manifest.get("manifest_sha256"),
        },
        "game": {
            "name": game.name,
            "players": game.num_players,
            "streets": game.num_streets,
            "nodes": game.num_nodes,
            "rows": game.num_rows,
            "max_actions": game.max_actions,
            "deal_kind": int(game.arrays.deal_kind),
            "cards_per_deal": int(game.arrays.cards_per_deal),
            "max_depth": int(game.arrays.max_depth),
            "unit": "bb" if kind.holdem else "chips",
            "chips_per_unit": CHIPS_PER_BB if kind.holdem else 1,
        },
        "config": dataclass_to_dict(config),
        "strategy": {
            "what": "average strategy: the snapshot's strategy sums normalized over legal actions "
            f"(schedule.average = {config.schedule.average})",
            "bits": bits,
            "scale": SCALES[bits],
            "max_error": max_error,
            "untrained_rows": untrained,
        },
        "abstraction": abstraction,
    }


def _compact_chips(values: np.ndarray) -> np.ndarray:
    """Chip amounts as int32 when they are whole numbers that fit (every shipped game), else as
    they are: the reader turns either back into float64."""
    if values.size and np.all(values == np.round(values)) and np.abs(values).max() < 2**31:
        return values.astype(np.int32)
    return values.astype(np.float64)


def _id_dtype(pool_size: int) -> type[np.unsignedinteger[Any]]:
    return np.uint16 if pool_size < 0xFFFF else np.uint32


def _action_ids(texts: ActionTexts, pool_size: int) -> dict[str, np.ndarray]:
    """Action string ids; past a node's actions the largest value of the dtype."""
    dtype = _id_dtype(pool_size)
    missing = np.iinfo(dtype).max
    return {
        f"action_{name}": np.where(ids >= 0, ids, missing).astype(dtype)
        for name, ids in (("token", texts.token), ("label", texts.label), ("step", texts.step))
    }


def _intern_all(pool: list[str], texts: list[str]) -> np.ndarray:
    index = {text: i for i, text in enumerate(pool)}
    ids = []
    for text in texts:
        if text not in index:
            index[text] = len(pool)
            pool.append(text)
        ids.append(index[text])
    return np.asarray(ids, dtype=np.int64)


def _string_pool(pool: list[str]) -> dict[str, np.ndarray]:
    encoded = [text.encode("utf-8") for text in pool]
    offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
    offsets[1:] = np.cumsum([len(b) for b in encoded])
    return {
        "strings_offsets": offsets,
        "strings_bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8),
    }
