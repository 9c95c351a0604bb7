"""int32 regret tables (Pluribus's 4-byte regrets): units, rounding, saturation, convergence."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.config.schema import Config, GameConfig, ScheduleConfig, SolverConfig
from holdemd.errors import UsageError
from holdemd.games.factory import make_game
from holdemd.games.report import table_itemsize, table_kinds
from holdemd.rundir.manifest import check_resumable
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.kernels.integer_regrets import INT32_HIGHEST, INT32_LOWEST
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.mccfr import ExternalSamplingMCCFR, apply_delta
from holdemd.solver.tables import (
    INT32_QUANTA_PER_SCALE,
    Tables,
    merge_rows,
    regret_unit,
    scale_rows,
    stored_floor,
)


def add_to_regrets(
    regret: np.ndarray, rows: np.ndarray, delta: np.ndarray, floor: float | None, rng: np.ndarray
) -> None:
    """The supervisor's merge of a regret-only delta (the strategy sums get zeros)."""
    strategy_sum = np.zeros(regret.shape)
    assert merge_rows(Tables(regret, strategy_sum), rows, delta, np.zeros(delta.shape), floor, rng)


def test_integer_tables_count_quanta_of_the_utility_scale() -> None:
    assert regret_unit(np.float32, 13.0) == 1.0
    assert regret_unit(np.float64, 13.0) == 1.0
    assert regret_unit(np.int32, 13.0) == INT32_QUANTA_PER_SCALE / 13.0


def test_merged_changes_round_stochastically_so_small_ones_still_count() -> None:
    regret = np.zeros((1, 2), dtype=np.int32)
    rng = make_rng_state(0)
    for _ in range(10_000):
        add_to_regrets(regret, np.array([0]), np.array([[0.3, -0.7]]), None, rng)
    # Round-to-nearest would leave 0 and -10,000; the expectation is 3,000 and -7,000.
    assert abs(regret[0, 0] - 3_000) < 200
    assert abs(regret[0, 1] + 7_000) < 200


def test_merges_saturate_at_the_int32_range_and_hold_the_floor() -> None:
    rng = make_rng_state(0)
    regret = np.array([[INT32_HIGHEST - 5, INT32_LOWEST + 5, 0]], dtype=np.int32)
    add_to_regrets(regret, np.array([0]), np.array([[100.0, -100.0, -50.0]]), None, rng)
    assert regret.tolist() == [[INT32_HIGHEST, INT32_LOWEST, -50]]
    add_to_regrets(regret, np.array([0]), np.array([[0.0, 0.0, -1e6]]), -1234.5, rng)
    assert regret[0, 2] == stored_floor(regret, -1234.5) == -1234
    floats = np.zeros((1, 1))
    add_to_regrets(floats, np.array([0]), np.array([[-10.0]]), -2.5, rng)
    assert floats[0, 0] == stored_floor(floats, -2.5) == -2.5


def test_discounting_an_integer_table_rounds_to_the_nearest_quantum() -> None:
    table = np.array([[10, -10, 7]], dtype=np.int32)
    scale_rows(table, 0, 1, 0.5)
    assert table.tolist() == [[5, -5, 4]]  # 3.5 rounds to even
    assert table.dtype == np.int32


def _train(regret_dtype: str | None, iterations: int, seed: int) -> float:
    game = make_game("leduc")
    tables = Tables.zeros(game, "float32", regret_dtype)
    solver = ExternalSamplingMCCFR(game, tables, seed=seed)
    solver.run(iterations)
    return ExactEvaluator(game).exploitability(solver.average_policy())


needs_jit = pytest.mark.needs_jit(reason="hundreds of thousands of iterations")


def test_in_place_updates_of_an_integer_table_are_whole_quanta() -> None:
    game = make_game("leduc")
    tables = Tables.zeros(game, "float32", "int32")
    solver = ExternalSamplingMCCFR(game, tables, seed=2)
    solver.run(300)
    assert tables.regret.dtype == np.int32
    # A regret change of a chip or so is thousands of quanta (2**16 per 13 chips).
    assert np.abs(tables.regret).max() > 1_000


@needs_jit
def test_int32_regrets_train_leduc_as_well_as_float32() -> None:
    # Measured (200k iterations in place, seeds 1-8): float32 0.0193-0.0296 (mean 0.0233),
    # int32 0.0227-0.0274 (mean 0.0248). Seed noise is large, so compare means over 4 seeds.
    floats = np.mean([_train(None, 200_000, seed) for seed in range(1, 5)])
    integers = np.mean([_train("int32", 200_000, seed) for seed in range(1, 5)])
    assert integers < 1.3 * floats, f"int32 {integers:.4f}, float32 {floats:.4f}"


@needs_jit
def test_a_worker_on_an_integer_table_sends_float_changes_in_quanta() -> None:
    game = make_game("leduc")
    tables = Tables.zeros(game, "float32", "int32")
    solver = ExternalSamplingMCCFR(game, tables, seed=4)
    delta = solver.new_delta_buffer()
    assert delta.regret.dtype == np.float32
    for _ in range(50):
        solver.run_into(delta, 2_000)
        apply_delta(tables, delta)
    assert tables.regret.dtype == np.int32
    # Changes are in quanta: the largest regrets are many utility scales' worth of quanta.
    assert np.abs(tables.regret).max() > 10 * INT32_QUANTA_PER_SCALE
    exploitability = ExactEvaluator(game).exploitability(solver.average_policy())
    assert exploitability < 0.1


def test_memory_report_and_config_checks() -> None:
    def config(**solver: object) -> Config:
        return Config(game=GameConfig(name="leduc"), solver=SolverConfig(**solver))  # type: ignore[arg-type]

    assert table_itemsize(config()) == 4
    assert table_itemsize(config(table_dtype="float64")) == 8
    assert table_itemsize(config(table_dtype="float64", regret_dtype="int32")) == 6
    assert table_kinds(config()) == "float32"
    both = config(table_dtype="float64", regret_dtype="int32")
    assert table_kinds(both) == "int32 regrets, float64 strategy sums"
    with pytest.raises(ValueError, match="linear_weighting"):
        config(regret_dtype="int32", linear_weighting=True)
    with pytest.raises(ValueError, match="below what int32 regrets hold"):
        Config(
            game=GameConfig(name="leduc"),
            solver=SolverConfig(regret_dtype="int32"),
            schedule=ScheduleConfig(regret_floor=-40_000.0, prune_threshold=-300.0),
        )
    with pytest.raises(UsageError, match="regret_dtype is int32, the snapshot's is null"):
        check_resumable(config(), config(regret_dtype="int32"), "runs/x")
