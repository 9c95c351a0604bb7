"""The table memory in what a run reports: status.json's ``table_memory``, the ``tables/*``
scalars, rows touched for dense tables only, and the regret floor's share of lazy tables."""

from __future__ import annotations

import time
from dataclasses import fields
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from holdemd.config.schema import GameConfig, TrainingConfig
from holdemd.games.factory import build_game
from holdemd.rundir.status import status_to_dict
from holdemd.solver.lazy_tables import REGRET, LazyTables
from holdemd.solver.tables import Tables
from holdemd.training import metrics as tags
from holdemd.training import table_memory
from holdemd.training.reporting import PruningMeter, floor_fraction, run_scalars, run_status
from holdemd.training.table_memory import TableMemory, TableMemoryMeter

GAME = build_game(GameConfig(name="leduc"))
MiB = 1 << 20


def status_of(meter: TableMemoryMeter, state: str = "running") -> dict[str, Any]:
    status = run_status(
        "leduc-1",
        state,  # type: ignore[arg-type]
        None,
        TrainingConfig(iterations=0, time_budget="8h"),
        "leduc",
        iteration=0,
        rate=0.0,
        elapsed=0.0,
        slots=[],
        last_snapshot=None,
        started_at="2026-12-06T12:00:00.000+00:00",
        dropped=0,
        write_failures={},
        table_memory=meter,
    )
    return status_to_dict(status)


def scalars_of(tables: Tables | LazyTables, meter: TableMemoryMeter) -> dict[str, float]:
    # As Merger keeps it: a flag per row for dense tables, none for lazy ones.
    touched = None if isinstance(tables, LazyTables) else np.ones(GAME.num_rows, dtype=bool)
    merger: Any = SimpleNamespace(touched=touched, delta_bytes=0, merge_seconds=0.0, merges=0)
    schedule: Any = SimpleNamespace(
        tables=tables, discounts=0, average_snapshots=0, regret_floor=None
    )
    return run_scalars(0, 0.0, 1.0, merger, [], schedule, PruningMeter(), meter)


@pytest.fixture
def plenty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_memory, "memory_headroom", lambda: (MiB, "available memory"))


@pytest.mark.usefixtures("plenty")
def test_status_holds_every_table_memory_field_for_dense_tables() -> None:
    tables = Tables.zeros(GAME)
    memory = status_of(TableMemoryMeter(GAME, tables))["table_memory"]
    assert list(memory) == [f.name for f in fields(TableMemory)]
    assert memory["kind"] == "dense" and memory["bytes"] == tables.nbytes
    assert memory["growth_bytes_per_h"] == 0.0 and memory["warning"] is None
    assert memory["available_bytes"] == MiB


@pytest.mark.usefixtures("plenty")
def test_status_warns_while_the_run_trains_not_once_it_stops() -> None:
    tables = LazyTables.zeros(GAME, capacity=1 << 24)
    meter = TableMemoryMeter(GAME, tables)
    # Two hours of steady growth, about 1 MiB/h, up to now: status reads the real clock, and
    # shows the last sample (taken less than SAMPLE_SECONDS ago).
    start = time.monotonic() - 2 * 3600
    for step in range(13):
        tables.used[REGRET] += MiB // 6 // 4
        meter.sample(start + 600 * step, MiB)
    running = status_of(meter)["table_memory"]
    assert running["warning"].startswith("table memory grows ")
    assert running["warning"].endswith(" available memory runs out in about 1 h 0 min")
    assert status_of(meter, "stopping")["table_memory"]["warning"] is None


@pytest.mark.usefixtures("plenty")
def test_scalars_of_dense_tables_count_touched_rows_and_a_fixed_size() -> None:
    tables = Tables.zeros(GAME)
    meter = TableMemoryMeter(GAME, tables)
    status_of(meter)
    values = scalars_of(tables, meter)
    assert values[tags.TRAIN_INFOSET_ROWS_TOUCHED] == GAME.num_rows
    assert values[tags.TABLES_BYTES] == tables.nbytes
    assert values[tags.TABLES_ROWS_ALLOCATED] == GAME.num_rows
    assert values[tags.TABLES_REGRET_BLOCKS] == values[tags.TABLES_STRATEGY_BLOCKS] == 36
    assert values[tags.TABLES_GROWTH_BYTES_PER_H] == 0.0
    assert values[tags.TABLES_AVAILABLE_BYTES] == MiB
    assert tags.TABLES_HOURS_LEFT not in values


@pytest.mark.usefixtures("plenty")
def test_scalars_of_lazy_tables_count_allocated_rows_not_touched_ones() -> None:
    tables = LazyTables.zeros(GAME)
    meter = TableMemoryMeter(GAME, tables)
    assert tags.TABLES_BYTES not in scalars_of(tables, meter)  # no status yet: no sample
    status_of(meter)
    values = scalars_of(tables, meter)
    assert tags.TRAIN_INFOSET_ROWS_TOUCHED not in values
    assert values[tags.TABLES_ROWS_ALLOCATED] == 0
    assert values[tags.TABLES_BYTES] == tables.allocated_bytes
    assert tags.TABLES_BYTES_PER_ENTRY not in values  # no entry yet
    assert tags.TABLES_GROWTH_BYTES_PER_H not in values  # measuring


def test_the_floor_share_of_lazy_tables_counts_allocated_entries_only() -> None:
    tables = LazyTables.zeros(GAME)
    tables.used[REGRET] = 10
    tables.regret[:5] = -100.0  # at the floor; the unallocated rest of the arena is zeros
    assert floor_fraction(tables, -100.0) == 0.5
    dense = Tables.zeros(GAME)
    dense.regret[0] = -100.0  # a row: max_actions entries
    assert floor_fraction(dense, -100.0) == pytest.approx(3 / dense.regret.size)
