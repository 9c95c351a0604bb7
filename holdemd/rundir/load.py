"""A run directory and the snapshots in it, read back as a game, a config and tables.

Layout of a run directory (``--logdir``)::

    snapshots/<name>/   regret.npy, strategy_sum.npy, manifest.json (atomic directories)
    logs/train.log      the log lines also printed on stderr

A snapshot of lazily allocated tables (manifest ``"tables": "lazy"``, format version 2) holds
the arenas' allocated entries as 1-D ``regret.npy`` and ``strategy_sum.npy`` and each node's
block offsets as ``regret_at.npy`` and ``strategy_at.npy``; its arrays are memory-mapped when
read, so a resume holds them once, in the shared tables, and not a second time in between.
From format version 3, first-round averaging keeps the later streets' sums in
``later_sums.npy`` (laid out like ``regret.npy``) with their counters in the manifest's
``"later_sums"`` (``solver.later_sums``); format 2 kept them in the strategy arena, which is
still read as it was.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.config.binder import build_dataclass
from holdemd.config.schema import Config
from holdemd.errors import SnapshotError, UsageError
from holdemd.games.cache import load_or_build
from holdemd.games.compiled import Game
from holdemd.rundir.manifest import KIND
from holdemd.rundir.snapshot_read import read_manifest, read_snapshot
from holdemd.rundir.snapshots import SnapshotInfo
from holdemd.rundir.store import find_snapshot, list_snapshots
from holdemd.solver.later_sums import LaterSums
from holdemd.solver.lazy_tables import (
    LazyTables,
    LazyTablesTooLarge,
    NodeBlocks,
    dense_strategy_sum,
)
from holdemd.solver.schedule import ScheduleProgress
from holdemd.solver.tables import Tables

log = logging.getLogger("holdemd.rundir")

TABLE_ARRAYS = ("regret", "strategy_sum")
LAZY_ARRAYS = ("regret", "strategy_sum", "regret_at", "strategy_at")
FINITE_CHECK_ROWS = 1 << 16  # rows per slice of the finiteness check: bounded temporaries


@dataclass(frozen=True)
class LoadedSnapshot:
    info: SnapshotInfo
    manifest: dict[str, Any]
    config: Config
    game: Game
    stored: Tables | LazyTables  # as written: lazy tables stay lazy (a resume needs them so)
    skipped: tuple[str, ...] = ()  # newer snapshots passed over, each "name: why"
    schedule: ScheduleProgress | None = None  # how far the schedule got (None: not recorded)

    @property
    def tables(self) -> Tables:
        """The tables as dense rows, what evaluation and export read (lazy tables converted:
        refused in one line for games too large for that)."""
        if isinstance(self.stored, Tables):
            return self.stored
        try:
            dense_strategy_sum(self.game, self.stored, f"reading {self.info.path}")
        except LazyTablesTooLarge as exc:
            raise UsageError(str(exc)) from exc
        return self.stored.to_dense(self.game)


BuiltGame = Callable[[Config], Game | None]


def load_snapshot(
    run_dir: Path,
    name: str | None = None,
    *,
    fallback: bool = False,
    built: BuiltGame | None = None,
) -> LoadedSnapshot:
    """The snapshot ``name`` (default: the latest) of ``run_dir``, checked against its game.

    With ``fallback`` and no ``name``, a newest snapshot that does not verify (a bad checksum,
    non-finite tables, a damaged manifest) is passed over with a warning for the newest one
    that does; ``skipped`` says which were passed over and why. A named snapshot never falls
    back: the caller asked for that one.

    ``built`` may return a game the caller has already built for the snapshot's config (a
    daemon's active run): it is used instead of building the game again (a Hold'em game loads
    its bucket tables, seconds and hundreds of MB); its abstraction digest must match.
    """
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run directory; pass the --logdir of a training run")
    if name is not None or not fallback:
        return _load_checked(find_snapshot(run_dir, name), built)
    candidates = list_snapshots(run_dir)
    if not candidates:
        find_snapshot(run_dir, None)  # raises the usual "no snapshots" error
    skipped: list[str] = []
    for info in reversed(candidates):
        try:
            loaded = _load_checked(info, built)
        except SnapshotError as exc:
            log.warning("skipping snapshot %s: %s", info.path, exc)
            skipped.append(f"{info.name}: {exc}")
            continue
        if skipped:
            log.warning(
                "using snapshot %s: the %d newer one(s) did not verify", info.name, len(skipped)
            )
        return dataclasses.replace(loaded, skipped=tuple(skipped))
    raise SnapshotError(
        f"no snapshot in {run_dir / 'snapshots'} verifies ({len(skipped)} tried; newest: "
        f"{skipped[0]})"
    )


def _load_checked(info: SnapshotInfo, built: BuiltGame | None = None) -> LoadedSnapshot:
    arrays, manifest = read_snapshot(
        info.path, mmap=read_manifest(info.path).get("tables") == "lazy"
    )
    if manifest.get("kind") != KIND or "config" not in manifest:
        raise SnapshotError(f"{info.path}: not a holdemd training snapshot (manifest kind)")
    _check_counters(info.path, manifest)
    schedule = _schedule_progress(info.path, manifest)
    config = build_dataclass(Config, manifest["config"], source=f"{info.path}/manifest.json")
    game = built(config) if built is not None else None
    if game is None:
        game = load_or_build(config.game, config.abstraction.buckets)[0]
    elif game.abstraction_digest != manifest.get("abstraction_digest"):
        raise SnapshotError(
            f"{info.path}: the card abstraction differs from the snapshot's (digest "
            f"{str(manifest.get('abstraction_digest'))[:12]})"
        )
    lazy = manifest.get("tables") == "lazy"
    missing = [key for key in (LAZY_ARRAYS if lazy else TABLE_ARRAYS) if key not in arrays]
    if missing:
        raise SnapshotError(f"{info.path}: missing arrays {', '.join(missing)}")
    if lazy:
        stored = _lazy_tables(info.path, game, arrays)
        stored.later = _later_sums(info.path, game, manifest, arrays, stored)
        return LoadedSnapshot(info, manifest, config, game, stored, schedule=schedule)
    tables = Tables(regret=arrays["regret"], strategy_sum=arrays["strategy_sum"])
    expected = (game.num_rows, game.max_actions)
    if tables.regret.shape != expected or tables.strategy_sum.shape != expected:
        raise SnapshotError(
            f"{info.path}: tables have shape {tables.regret.shape}, game '{game.name}' needs "
            f"{expected}; the snapshot was written by an incompatible version"
        )
    for key in TABLE_ARRAYS:
        _check_finite(info.path, key, getattr(tables, key))
    return LoadedSnapshot(info, manifest, config, game, tables, schedule=schedule)


def _lazy_tables(path: Path, game: Game, arrays: dict[str, np.ndarray]) -> LazyTables:
    """Lazy tables from a snapshot's arrays, checked against the game: every allocated block
    inside its arena, the arenas finite."""
    nodes = game.arrays.node_row_base.shape[0]
    blocks = NodeBlocks.of(game)
    size = np.zeros(nodes, dtype=np.int64)
    size[blocks.decision_nodes] = blocks.block_entries
    used = []
    for arena, offsets in (("regret", "regret_at"), ("strategy_sum", "strategy_at")):
        at = arrays[offsets]
        if at.shape != (nodes,) or arrays[arena].ndim != 1:
            raise SnapshotError(
                f"{path}: lazy tables of shape {at.shape} do not fit game '{game.name}' "
                f"({nodes:,} nodes); the snapshot was written by an incompatible version"
            )
        allocated = at >= 0
        if (at[allocated] + size[allocated] > arrays[arena].shape[0]).any():
            raise SnapshotError(f"{path}: {offsets}.npy points past the end of {arena}.npy")
        _check_finite(path, arena, arrays[arena])
        used.append(arrays[arena].shape[0])
    return LazyTables(
        regret=arrays["regret"],
        strategy_sum=arrays["strategy_sum"],
        regret_at=np.array(arrays["regret_at"]),
        strategy_at=np.array(arrays["strategy_at"]),
        used=np.array(used, dtype=np.int64),
    )


def _later_sums(
    path: Path,
    game: Game,
    manifest: dict[str, Any],
    arrays: dict[str, np.ndarray],
    tables: LazyTables,
) -> LaterSums | None:
    """The later streets' sums a snapshot holds; None for one without (format 2, or no
    first-round averaging), whose strategy arena holds every sum."""
    if "later_sums" not in manifest:
        return None
    values = arrays.get("later_sums")
    entry = manifest["files"].get("later_sums", {})
    file = path / entry["file"] if values is not None else None
    try:
        later = LaterSums.from_manifest(
            manifest["later_sums"], file, entry.get("sha256"), game.max_actions
        )
    except ValueError as exc:
        raise SnapshotError(f"{path}: manifest.json {exc}") from exc
    if values is not None:
        if values.ndim != 1 or values.shape[0] != later.entries or values.dtype != later.dtype:
            raise SnapshotError(
                f"{path}: later_sums.npy holds {values.dtype}{list(values.shape)}, the manifest "
                f"says {later.dtype}[{later.entries}]"
            )
        if later.entries > tables.regret.shape[0]:
            raise SnapshotError(f"{path}: later_sums.npy is longer than regret.npy")
        _check_finite(path, "later_sums", values)
    return later


def _check_counters(path: Path, manifest: dict[str, Any]) -> None:
    """The counters a resume carries on from must be plausible (a checksum can be absent in
    snapshots older than it)."""
    iteration = manifest.get("iteration")
    elapsed = manifest.get("elapsed_seconds", 0.0)
    sequence = manifest.get("sequence", 0)
    if not (isinstance(iteration, int) and not isinstance(iteration, bool) and iteration >= 0):
        raise SnapshotError(f"{path}: manifest iteration {iteration!r} is not a count")
    if not (isinstance(elapsed, (int, float)) and math.isfinite(elapsed) and elapsed >= 0):
        raise SnapshotError(f"{path}: manifest elapsed_seconds {elapsed!r} is not a duration")
    if not (isinstance(sequence, int) and sequence >= 0):
        raise SnapshotError(f"{path}: manifest sequence {sequence!r} is not a count")


def _schedule_progress(path: Path, manifest: dict[str, Any]) -> ScheduleProgress | None:
    """Where the snapshot's schedule was last checked; None for a snapshot from before the
    record (its resume counts every point before its position as done, as it then did)."""
    if "schedule" not in manifest:
        return None
    try:
        return ScheduleProgress.from_manifest(manifest["schedule"])
    except ValueError as exc:
        raise SnapshotError(f"{path}: manifest.json {exc}") from exc


def _check_finite(path: Path, key: str, table: np.ndarray) -> None:
    """Refuse a table holding NaN or infinity: a checksum only proves the file is what was
    written, and a resumed run would train on garbage without a word."""
    if not np.issubdtype(table.dtype, np.floating):
        return  # integer regrets are finite by construction
    for lo in range(0, table.shape[0], FINITE_CHECK_ROWS):
        if not np.isfinite(table[lo : lo + FINITE_CHECK_ROWS]).all():
            raise SnapshotError(
                f"snapshot {path} is corrupt: {key} holds NaN or infinite values; "
                f"use another snapshot in {path.parent}"
            )


def find_resume_snapshot(path: Path) -> tuple[Path, str | None]:
    """(run directory, snapshot name) for ``--resume PATH``: a snapshot or a run directory."""
    if (path / "manifest.json").is_file():
        return path.parent.parent, path.name
    if path.is_dir():
        return path, None
    raise UsageError(f"--resume {path}: no such run directory or snapshot")
