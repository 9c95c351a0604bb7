"""The table memory meter: sizes, growth over a window, time left, the warning; made-up clocks."""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

import numpy as np
import pytest

from holdemd.config.schema import GameConfig
from holdemd.durations import format_about
from holdemd.games.factory import build_game
from holdemd.solver.later_sums import LaterSums
from holdemd.solver.lazy_tables import REGRET, STRATEGY, LazyTables, NodeBlocks, compact_entries
from holdemd.solver.tables import Tables
from holdemd.training import table_memory
from holdemd.training.table_memory import (
    SAMPLE_SECONDS,
    WARMUP_SECONDS,
    WINDOW_SECONDS,
    TableMemoryMeter,
    memory_headroom,
)

MiB = 1 << 20
GAME = build_game(GameConfig(name="leduc"))
# Room for far more than Leduc's blocks, so that growth tests can grow the arenas as they
# please: numpy's zeros cost no memory until written.
CAPACITY = 1 << 24
STEP = 600.0  # seconds between the samples of the growth tests
# 1.5 MiB/h in float32 entries per STEP: 1.5 MiB / 6 / 4 bytes.
ENTRIES_PER_STEP = 65_536


def lazy(capacity: int = CAPACITY) -> LazyTables:
    return LazyTables.zeros(GAME, "float32", capacity=capacity)


def allocate(tables: LazyTables, index: int, which: int) -> None:
    """Give the ``index``-th decision node a block in arena ``which``, as the kernel does."""
    blocks = NodeBlocks.of(GAME)
    at = tables.regret_at if which == REGRET else tables.strategy_at
    at[blocks.decision_nodes[index]] = tables.used[which]
    tables.used[which] += blocks.block_entries[index]


def grow(
    meter: TableMemoryMeter,
    tables: LazyTables,
    until: float,
    available: int,
    entries_per_step: int = ENTRIES_PER_STEP,
    start: float = 0.0,
    **sample: Any,
) -> table_memory.TableMemory:
    """Sample every STEP from ``start`` to ``until``, the regret arena growing in between."""
    now = start
    while True:
        reading = meter.sample(now, available, **sample)
        if now >= until:
            return reading
        tables.used[REGRET] += entries_per_step
        now += STEP


def test_dense_tables_show_their_fixed_size_and_never_warn() -> None:
    tables = Tables.zeros(GAME)
    meter = TableMemoryMeter(GAME, tables)
    for now in (0.0, 3600.0, 7200.0):
        reading = meter.sample(now, available_bytes=0)
    legal = compact_entries(GAME)  # (row, legal action) pairs
    assert reading.kind == "dense"
    assert reading.bytes == reading.capacity_bytes == tables.nbytes == 2 * 288 * 3 * 4
    assert reading.entries == legal == 672
    assert reading.bytes_per_entry == pytest.approx(tables.nbytes / legal)
    assert reading.regret_blocks == reading.strategy_blocks == reading.blocks == 36
    assert reading.rows == reading.total_rows == 288
    assert reading.growth_bytes_per_h == 0.0
    assert reading.runs_out_in_s is None and reading.warning is None


def test_lazy_tables_count_blocks_rows_and_bytes_with_the_offsets() -> None:
    tables = lazy(capacity=compact_entries(GAME))
    meter = TableMemoryMeter(GAME, tables)
    empty = meter.sample(0.0, available_bytes=1 << 30)
    offsets = 2 * 8 * GAME.arrays.node_row_base.shape[0]
    assert (empty.kind, empty.bytes, empty.entries, empty.bytes_per_entry) == (
        "lazy",
        offsets,
        0,
        None,
    )
    assert empty.capacity_bytes == 2 * 4 * compact_entries(GAME) + offsets
    allocate(tables, 0, REGRET)  # 3 buckets x 2 actions
    allocate(tables, 2, REGRET)  # 9 buckets x 2 actions
    allocate(tables, 2, STRATEGY)
    reading = meter.sample(1.0, available_bytes=1 << 30)
    assert (reading.regret_blocks, reading.strategy_blocks, reading.blocks) == (2, 1, 36)
    assert reading.rows == 3 + 9 and reading.total_rows == 288
    assert reading.entries == 6 + 18  # (row, action) pairs with regrets
    assert reading.bytes == tables.allocated_bytes == 42 * 4 + offsets
    assert reading.bytes_per_entry == pytest.approx((42 * 4 + offsets) / 24)
    assert reading.later_sums_bytes == 0


def test_the_later_streets_sums_count_on_disk_not_in_memory(tmp_path) -> None:
    tables = lazy(capacity=compact_entries(GAME))
    allocate(tables, 0, REGRET)
    meter = TableMemoryMeter(GAME, tables)
    before = meter.sample(0.0, available_bytes=1 << 30)
    file = tmp_path / "current.npy"
    np.save(file, np.ones(6, dtype=np.float32))
    tables.later = dataclasses.replace(
        LaterSums.empty("float32", GAME.max_actions), path=file, entries=6, passes=1
    )
    after = meter.sample(SAMPLE_SECONDS, available_bytes=1 << 30)
    assert (after.bytes, after.bytes_per_entry) == (before.bytes, before.bytes_per_entry)
    assert after.later_sums_bytes == file.stat().st_size == 128 + 6 * 4


def test_growth_is_unknown_through_the_warm_up_then_per_hour_over_the_window() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    # Warm-up (the first 5 minutes), then 5 minutes of samples: no rate before that.
    assert meter.sample(0.0, 1 << 30).growth_bytes_per_h is None
    assert meter.sample(WARMUP_SECONDS, 1 << 30).growth_bytes_per_h is None
    assert meter.sample(WARMUP_SECONDS + 299, 1 << 30).growth_bytes_per_h is None
    tables.used[REGRET] += 1000
    assert meter.sample(WARMUP_SECONDS + 300, 1 << 30).growth_bytes_per_h == 4 * 1000 * 12


def test_the_burst_of_the_first_minutes_does_not_count() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    meter.sample(0.0, 1 << 30)
    tables.used[REGRET] += 10_000_000  # every deal reaches new nodes at first
    reading = grow(meter, tables, until=2 * 3600, available=1 << 40)
    assert reading.growth_bytes_per_h == 1.5 * MiB


def test_the_rate_follows_the_last_hour() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    grow(meter, tables, until=3 * 3600, available=1 << 40)
    slower = grow(
        meter,
        tables,
        start=3 * 3600,
        until=3 * 3600 + WINDOW_SECONDS,
        available=1 << 40,
        entries_per_step=ENTRIES_PER_STEP // 2,
    )
    assert slower.growth_bytes_per_h == 0.75 * MiB


def test_time_left_and_the_warning_say_how_fast_and_how_long() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    available = int(4.75 * MiB)  # 3 h 10 min at 1.5 MiB/h
    reading = grow(meter, tables, until=2 * 3600, available=available)
    assert reading.runs_out_in_s == pytest.approx(190 * 60)
    assert reading.warning == (
        "table memory grows 1.5 MiB/h; available memory runs out in about 3 h 10 min"
    )
    assert reading.available_bytes == available


def test_the_warning_comes_within_six_hours_and_clears_with_some_margin() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    hours = int(1.5 * MiB)  # available bytes per hour of growth
    assert grow(meter, tables, until=2 * 3600, available=6 * hours + 1000).warning is None
    at_six = meter.sample(2 * 3600, 6 * hours)
    assert at_six.runs_out_in_s == pytest.approx(6 * 3600)
    assert at_six.warning is not None
    assert meter.sample(2 * 3600, 7 * hours).warning is not None  # within 6 h x 1.25
    assert meter.sample(2 * 3600, 8 * hours).warning is None


def test_a_warning_is_logged_once_and_its_end_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="holdemd")
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    hour = int(1.5 * MiB)
    grow(meter, tables, until=2 * 3600, available=hour)
    meter.sample(2 * 3600, hour)
    meter.sample(2 * 3600, 20 * hour)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "table memory grows 1.5 MiB/h; available memory runs out in about 1 h 0 min"),
        ("INFO", "table memory: available memory no longer expected to run out soon"),
    ]


def test_no_warning_when_the_run_ends_first_or_the_tables_cannot_grow_that_far() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    hour = int(1.5 * MiB)
    assert grow(meter, tables, until=2 * 3600, available=hour, ends_in_s=1800).warning is None
    assert meter.sample(2 * 3600, hour, ends_in_s=7200).warning is not None
    # Arenas with room for less than the available memory: the tables stop growing first.
    small = lazy(capacity=compact_entries(GAME))
    full = TableMemoryMeter(GAME, small)
    reading = grow(full, small, until=2 * 3600, available=hour, entries_per_step=1)
    assert reading.growth_bytes_per_h and reading.growth_bytes_per_h > 0
    assert reading.runs_out_in_s is None and reading.warning is None


def test_the_limit_is_named_in_the_warning() -> None:
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    reading = grow(meter, tables, until=2 * 3600, available=MiB, limit="free space in /dev/shm")
    assert reading.warning is not None
    assert reading.warning.endswith("; free space in /dev/shm runs out in about 40 min")


def test_read_samples_at_most_every_sample_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_memory, "memory_headroom", lambda: (1 << 30, "available memory"))
    tables = lazy()
    meter = TableMemoryMeter(GAME, tables)
    first = meter.read(100.0)
    allocate(tables, 0, REGRET)
    assert meter.read(100.0 + SAMPLE_SECONDS - 0.5) is first
    assert meter.read(100.0 + SAMPLE_SECONDS).regret_blocks == 1


def test_memory_headroom_is_the_lesser_of_memory_and_dev_shm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(table_memory, "available_memory", lambda: 8 << 30)

    class Statvfs:
        f_bavail, f_frsize = 16_384, 4096  # 64 MiB: a container's default /dev/shm

    monkeypatch.setattr(os, "statvfs", lambda path: Statvfs())
    assert memory_headroom() == (64 * MiB, "free space in /dev/shm")
    Statvfs.f_bavail = 4 << 20  # 16 GiB
    assert memory_headroom() == (8 << 30, "available memory")

    def missing(path: str) -> None:
        raise FileNotFoundError(path)

    monkeypatch.setattr(os, "statvfs", missing)
    assert memory_headroom() == (8 << 30, "available memory")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "less than a minute"),
        (29, "less than a minute"),
        (45 * 60, "about 45 min"),
        (3 * 3600 + 10 * 60 + 20, "about 3 h 10 min"),
        (47 * 3600, "about 47 h 0 min"),
        (50 * 3600 + 1, "about 2 d 2 h"),
    ],
)
def test_format_about(seconds: float, text: str) -> None:
    assert format_about(seconds) == text
