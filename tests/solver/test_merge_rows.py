"""The merge's arithmetic (`solver.tables.merge_rows`, one pass per table with an exact undo):
bit for bit numpy's float32 addition and floor when it succeeds, the tables untouched when any
entry anywhere in the delta would not stay finite."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.tables import Tables, merge_rows


def _case(seed: int) -> tuple[Tables, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    regret = rng.normal(0, 100, (500, 4)).astype(np.float32)
    strategy_sum = rng.random((500, 4)).astype(np.float32)
    rows = rng.choice(500, size=120, replace=False).astype(np.int64)
    return (
        Tables(regret, strategy_sum),
        rows,
        rng.normal(0, 50, (120, 4)).astype(np.float32),
        rng.random((120, 4)).astype(np.float32),
    )


@pytest.mark.parametrize("floor", [None, -20.0])
def test_a_merge_is_numpy_s_float32_addition_and_floor_bit_for_bit(floor):
    tables, rows, regret_delta, strategy_delta = _case(1)
    expected_regret = tables.regret.copy()
    merged = expected_regret[rows] + regret_delta
    expected_regret[rows] = merged if floor is None else np.maximum(merged, np.float32(floor))
    expected_sum = tables.strategy_sum.copy()
    expected_sum[rows] += strategy_delta
    assert merge_rows(tables, rows, regret_delta, strategy_delta, floor, make_rng_state(0))
    assert np.array_equal(tables.regret, expected_regret)
    assert np.array_equal(tables.strategy_sum, expected_sum)


@pytest.mark.parametrize("where", ["regret", "strategy"])
@pytest.mark.parametrize("entry", [(0, 0), (60, 2), (119, 3)])
def test_one_bad_entry_anywhere_leaves_both_tables_as_they_were(where, entry):
    tables, rows, regret_delta, strategy_delta = _case(2)
    before = (tables.regret.copy(), tables.strategy_sum.copy())
    bad = regret_delta if where == "regret" else strategy_delta
    bad[entry] = np.nan
    assert not merge_rows(tables, rows, regret_delta, strategy_delta, None, make_rng_state(0))
    assert np.array_equal(tables.regret, before[0])
    assert np.array_equal(tables.strategy_sum, before[1])
