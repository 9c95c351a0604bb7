"""Later streets' sums on disk (lazy tables, first-round averaging): the dense pass's numbers.

The schedule runs the same events on dense and on lazy tables trained alike (the in-process
solver gives them bit for bit the same regrets); the lazy tables' sums, read back from the
file, must equal the dense strategy-sum rows entry for entry, through several snapshots and
discounts, whether a pass is one step (small games) or many slices with a writer thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import json
import logging
import os
from pathlib import Path

import numpy as np

from holdemd.config.schema import Config, GameConfig, ScheduleConfig, SolverConfig
from holdemd.games.factory import build_game
from holdemd.rundir import later_sums as sums_file
from holdemd.rundir.load import load_snapshot
from holdemd.solver.lazy_tables import LazyTables, NodeBlocks
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables
from holdemd.training import later_sums_pass
from holdemd.training.schedule_runner import ScheduleRunner

GAME = build_game(GameConfig(name="leduc"))
CONFIG = Config(
    game=GameConfig(name="leduc"),
    solver=SolverConfig(seed=3, regret_dtype="int32"),
    schedule=ScheduleConfig(average="first_round"),
)


def _trained_pair(iterations: int = 300) -> tuple[ExternalSamplingMCCFR, ExternalSamplingMCCFR]:
    solvers = (
        ExternalSamplingMCCFR(GAME, Tables.zeros(GAME, "float32", "int32"), seed=4),
        ExternalSamplingMCCFR(GAME, LazyTables.zeros(GAME, "float32", "int32"), seed=4),
    )
    for solver in solvers:
        solver.average_streets = 1
        solver.run(iterations)
    return solvers


def _runner(tables: Tables | LazyTables, run_dir: Path) -> ScheduleRunner:
    return ScheduleRunner(CONFIG, GAME, tables, 1.0, elapsed=0.0, iteration=0, run_dir=run_dir)


def _events(dense: ScheduleRunner, lazy: ScheduleRunner, solvers, steps: int = 0) -> None:
    """Snapshot, train, discount and snapshot, train, snapshot: on both kinds of tables.
    ``steps``: advance the lazy passes a slice at a time (their merges wait, as in a run)."""
    for event in ("snapshot", "train", "discount", "snapshot", "train", "snapshot"):
        for runner in (dense, lazy):
            if event == "snapshot":
                runner.queue_average_snapshot(0)
            elif event == "discount":
                runner.queue_discount(0.75)
            while steps and runner.sweeps.busy:
                runner.sweeps.step(0.0)
            runner.finish()
        if event == "train":
            for solver in solvers:
                solver.run(200)


def test_lazy_sums_on_disk_equal_the_dense_rows_bit_for_bit(tmp_path) -> None:
    dense_solver, lazy_solver = _trained_pair()
    dense, lazy = dense_solver.tables, lazy_solver.tables
    dense_runner, lazy_runner = _runner(dense, tmp_path / "d"), _runner(lazy, tmp_path / "l")
    _events(dense_runner, lazy_runner, (dense_solver, lazy_solver))
    later = lazy.later
    assert later is not None and later.passes == 3 and later.path is not None
    assert later.path == tmp_path / "l" / "later_sums" / "current.npy"
    np.testing.assert_array_equal(lazy.to_dense(GAME).strategy_sum, dense.strategy_sum)
    # Nothing of the later streets in memory: the strategy arena holds the first round only.
    blocks = NodeBlocks.of(GAME)
    assert (lazy.strategy_at[blocks.decision_nodes[blocks.street > 0]] < 0).all()
    assert not list((tmp_path / "l" / "later_sums").glob(".tmp-*"))


def test_a_pass_in_many_slices_with_its_writer_thread_gives_the_same_sums(
    tmp_path, monkeypatch
) -> None:
    dense_solver, lazy_solver = _trained_pair()
    dense, lazy = dense_solver.tables, lazy_solver.tables
    # A few blocks a slice, a few nodes an index slice: Leduc's pass becomes a big game's.
    monkeypatch.setattr(later_sums_pass, "CHUNK_ENTRIES", 50)
    monkeypatch.setattr(later_sums_pass, "NODES_PER_SLICE", 7)
    monkeypatch.setattr(sums_file, "QUEUED_CHUNKS", 1)
    writers: list[sums_file.SumsWriter] = []

    class Writer(sums_file.SumsWriter):
        def write(self, values: np.ndarray) -> None:
            writers.append(self)
            super().write(values)

    monkeypatch.setattr(later_sums_pass, "SumsWriter", Writer)
    dense_runner, lazy_runner = _runner(dense, tmp_path / "d"), _runner(lazy, tmp_path / "l")
    _events(dense_runner, lazy_runner, (dense_solver, lazy_solver), steps=1)
    np.testing.assert_array_equal(lazy.to_dense(GAME).strategy_sum, dense.strategy_sum)
    assert len(set(map(id, writers))) == 3  # three passes ...
    assert len(writers) > 3 * 10  # ... of many chunks each ...
    assert all(w.threaded for w in writers)  # ... through a thread


def test_blocks_allocated_after_a_pass_read_as_the_uniform_sums(tmp_path) -> None:
    _, solver = _trained_pair(iterations=3)  # a few blocks allocated: most nodes unreached
    lazy = solver.tables
    runner = _runner(lazy, tmp_path)
    for _ in range(2):
        runner.queue_average_snapshot(0)
    runner.queue_discount(0.5)
    runner.finish()
    assert lazy.later is not None and lazy.later.entries == int(lazy.used[0])
    blocks = NodeBlocks.of(GAME)
    unreached = blocks.street > 0
    unreached &= lazy.regret_at[blocks.decision_nodes] < 0
    node = int(np.flatnonzero(unreached)[0])
    n = int(blocks.num_actions[node])
    row = int(blocks.row_base[node])
    third = np.float32(1.0 / n)
    expected = (third + third) * np.float32(0.5)  # two uniform snapshots, then the discount
    sums = lazy.rows(GAME, np.array([row]), "strategy_sum")[0]
    assert sums[:n].tolist() == [float(expected)] * n
    np.testing.assert_allclose(lazy.average_strategy(GAME, np.array([row]))[0, :n], 1.0 / n)


def test_a_pass_that_cannot_write_loses_its_snapshot_only(tmp_path, monkeypatch, caplog) -> None:
    _, solver = _trained_pair()
    lazy = solver.tables
    runner = _runner(lazy, tmp_path)
    runner.queue_average_snapshot(0)
    runner.finish()
    before = lazy.later
    assert before is not None and before.passes == 1

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sums_file.os, "write", full)
    with caplog.at_level(logging.ERROR, logger="holdemd.schedule"):
        runner.queue_average_snapshot(0)
        runner.finish()
    assert lazy.later is before  # the previous file and counters stand
    assert "current-strategy snapshot 2 for later streets' average is lost" in caplog.text
    assert "No space left on device" in caplog.text
    assert [p.name for p in (tmp_path / "later_sums").iterdir()] == ["current.npy"]


def _format_2_snapshot(run_dir: Path, dense: Tables) -> Path:
    """A lazy snapshot as format 2 wrote it: the later streets' sums in the strategy arena."""
    from holdemd.rundir import snapshots
    from holdemd.rundir.manifest import snapshot_manifest
    from holdemd.rundir.snapshot_read import read_manifest
    from holdemd.rundir.snapshot_write import write_snapshot
    from holdemd.training.snapshotter import lazy_snapshot_arrays

    lazy = LazyTables.from_dense(GAME, dense)
    manifest = snapshot_manifest(CONFIG, GAME, iteration=300, elapsed=1.0, rng_state=0, sequence=0)
    manifest["tables"] = "lazy"
    info = write_snapshot(run_dir, "it-300", lazy_snapshot_arrays(lazy), manifest)
    written = read_manifest(info.path)
    written["format_version"] = 2
    del written[snapshots.MANIFEST_CHECKSUM]
    written[snapshots.MANIFEST_CHECKSUM] = snapshots.manifest_checksum(written)
    (info.path / "manifest.json").write_text(json.dumps(written))
    return info.path


def test_a_format_2_snapshot_loads_with_its_sums_and_a_pass_moves_them_to_the_file(
    tmp_path,
) -> None:
    dense_solver, _ = _trained_pair()
    dense = dense_solver.tables
    dense_runner = _runner(dense, tmp_path / "dense")
    dense_runner.queue_average_snapshot(0)
    dense_runner.finish()  # later-street sums in the dense rows, as format 2 kept them
    path = _format_2_snapshot(tmp_path / "old", dense)

    loaded = load_snapshot(tmp_path / "old")
    assert loaded.manifest["format_version"] == 2
    old = loaded.stored
    assert isinstance(old, LazyTables) and old.later is None
    blocks = NodeBlocks.of(GAME)
    assert (old.strategy_at[blocks.decision_nodes[blocks.street > 0]] >= 0).any()
    np.testing.assert_array_equal(loaded.tables.strategy_sum, dense.strategy_sum)

    # Resumed (the shared tables are a writable copy): the next pass adds to the arena's sums
    # and writes them to the file, as the dense pass adds to its rows.
    resumed = dataclasses.replace(
        old, regret=np.array(old.regret), strategy_sum=np.array(old.strategy_sum)
    )
    lazy_runner = _runner(resumed, tmp_path / "resumed")
    assert resumed.later is not None and resumed.later.passes == 0
    np.testing.assert_array_equal(resumed.to_dense(GAME).strategy_sum, dense.strategy_sum)
    for runner in (dense_runner, lazy_runner):
        runner.queue_average_snapshot(0)
        runner.finish()
    np.testing.assert_array_equal(resumed.to_dense(GAME).strategy_sum, dense.strategy_sum)
    assert resumed.later.entries == int(resumed.used[0]) and path.is_dir()


def test_a_snapshot_links_the_sums_file_and_every_reader_gets_the_dense_sums(tmp_path) -> None:
    from holdemd.evaluation.setup import read_strategy_sum
    from holdemd.training.snapshotter import Snapshotter

    dense_solver, lazy_solver = _trained_pair()
    dense, lazy = dense_solver.tables, lazy_solver.tables
    lazy_runner = _runner(lazy, tmp_path)
    _events(_runner(dense, tmp_path / "d"), lazy_runner, (dense_solver, lazy_solver))
    snapshotter = Snapshotter(
        tmp_path,
        CONFIG,
        GAME,
        lazy,
        sequence=0,
        last=None,
        on_problem=lambda reason: None,
        on_event=lambda kind, data: None,
        progress=lazy_runner.progress,
    )
    info = asyncio.run(snapshotter.write(700, 1.0, 1, lambda: None))
    assert info is not None
    assert (info.path / "later_sums.npy").samefile(tmp_path / "later_sums" / "current.npy")
    loaded = load_snapshot(tmp_path)
    assert loaded.manifest["later_sums"]["passes"] == 3
    assert loaded.schedule is not None and loaded.schedule.average_snapshots == 3
    stored = loaded.stored
    assert isinstance(stored, LazyTables) and stored.later is not None
    assert lazy.later is not None and stored.later.sha256 == lazy.later.sha256
    np.testing.assert_array_equal(loaded.tables.strategy_sum, dense.strategy_sum)
    table, _ = read_strategy_sum(info, GAME, "--vs snapshot:it-700")
    np.testing.assert_array_equal(table, dense.strategy_sum)


def test_sums_read_the_file_they_were_written_with_after_the_next_pass_replaced_it(
    tmp_path,
) -> None:
    _, solver = _trained_pair()
    lazy = solver.tables
    runner = _runner(lazy, tmp_path)
    runner.queue_average_snapshot(0)
    runner.finish()
    first = lazy.later
    assert first is not None and first.path is not None
    values = np.array(first.values)
    runner.queue_average_snapshot(0)
    runner.finish()
    assert lazy.later is not None and lazy.later.path == first.path  # renamed over it
    np.testing.assert_array_equal(first.values, values)
    assert not np.array_equal(lazy.later.values, values)


def test_a_writer_thread_that_fails_mid_file_loses_the_snapshot_and_no_more(
    tmp_path, monkeypatch, caplog
) -> None:
    _, solver = _trained_pair()
    lazy = solver.tables
    runner = _runner(lazy, tmp_path)
    runner.queue_average_snapshot(0)
    runner.finish()
    before = lazy.later
    monkeypatch.setattr(later_sums_pass, "CHUNK_ENTRIES", 50)  # many chunks, a writer thread
    writes = 0
    write = os.write

    def fills_up(fd: int, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if writes > 4:  # the header and a few chunks go through
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(fd, data)

    monkeypatch.setattr(sums_file.os, "write", fills_up)
    with caplog.at_level(logging.ERROR, logger="holdemd.schedule"):
        runner.queue_average_snapshot(0)
        while runner.sweeps.busy:
            runner.sweeps.step(0.0)
    assert writes > 4 and lazy.later is before
    assert "current-strategy snapshot 2 for later streets' average is lost" in caplog.text
    assert [p.name for p in (tmp_path / "later_sums").iterdir()] == ["current.npy"]
