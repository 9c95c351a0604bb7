"""The schedule: when each event is due, and what the kernel does with pruning and averaging."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.config.schema import ScheduleConfig
from holdemd.games.factory import make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.mccfr import ExternalSamplingMCCFR, clear_delta
from holdemd.solver.schedule import Clock, Schedule, parse_clock
from holdemd.solver.tables import Tables
from holdemd.training.schedule_runner import row_streets


def _schedule(**overrides: object) -> Schedule:
    settings: dict[str, object] = {
        "discount_interval": None,
        "discount_stop": None,
        "prune_start": None,
        "prune_probability": 0.95,
        "prune_threshold": -300.0,
        "regret_floor": None,
        "average": "all",
        "average_interval": Clock("seconds", 600.0),
        "utility_scale": 10.0,
        "num_streets": 2,
    }
    settings.update(overrides)
    return Schedule(**settings)  # type: ignore[arg-type]


def test_clock_forms() -> None:
    assert parse_clock("10m") == Clock("seconds", 600.0)
    assert parse_clock(90) == Clock("seconds", 90.0)
    assert parse_clock("5000000it") == Clock("iterations", 5_000_000)
    assert parse_clock("5M it") == Clock("iterations", 5_000_000)
    assert parse_clock("20k iterations") == Clock("iterations", 20_000)
    with pytest.raises(ValueError, match="neither a duration"):
        parse_clock("soon")


def test_discounts_are_k_over_k_plus_1_at_each_point_until_the_stop() -> None:
    schedule = _schedule(
        discount_interval=Clock("seconds", 600.0), discount_stop=Clock("seconds", 2400.0)
    )
    assert schedule.discount_due(599.0, 10) is None
    assert schedule.discount_due(600.0, 10) == pytest.approx(1 / 2)
    assert schedule.discount_due(700.0, 10) is None  # once per point
    assert schedule.discount_due(1900.0, 10) == pytest.approx((2 / 3) * (3 / 4))  # two points
    assert schedule.discount_due(2400.0, 10) == pytest.approx(4 / 5)
    assert schedule.discount_due(99_999.0, 10) is None  # past the stop
    assert schedule.discounts_done == 4


def test_a_resumed_schedule_does_not_apply_past_discounts_again() -> None:
    schedule = _schedule(discount_interval=Clock("iterations", 1000), elapsed=0.0, iteration=3500)
    assert schedule.discount_due(0.0, 3999) is None
    assert schedule.discount_due(0.0, 4000) == pytest.approx(4 / 5)


def test_nothing_fires_unless_configured() -> None:
    schedule = _schedule()
    for t in (0.0, 1e6):
        assert schedule.discount_due(t, 10**9) is None
        assert not schedule.average_snapshot_due(t, 10**9)
        settings = schedule.worker_settings(t, 10**9)
        assert settings.prune_probability == 0.0 and settings.average_streets > 4
    assert schedule.regret_floor is None


def test_the_supervisor_checks_on_every_merge_only_for_iteration_points() -> None:
    assert not _schedule().counts_iterations
    assert not _schedule(discount_interval=Clock("seconds", 600.0)).counts_iterations
    assert _schedule(discount_interval=Clock("iterations", 1000)).counts_iterations
    assert _schedule(prune_start=Clock("iterations", 1000)).counts_iterations
    # An averaging interval counts only when snapshot averaging is on.
    assert not _schedule(average_interval=Clock("iterations", 1000)).counts_iterations
    assert _schedule(
        average="first_round", average_interval=Clock("iterations", 1000)
    ).counts_iterations


def test_pruning_switches_on_at_its_start_with_the_threshold_in_table_units() -> None:
    schedule = _schedule(prune_start=Clock("iterations", 1000), prune_threshold=-300.0)
    assert schedule.worker_settings(1e9, 999).prune_probability == 0.0
    on = schedule.worker_settings(0.0, 1000)
    assert on.prune_probability == 0.95 and on.prune_threshold == -3000.0  # x utility scale 10


def test_first_round_averaging_takes_snapshots_at_its_interval() -> None:
    schedule = _schedule(average="first_round", average_interval=Clock("iterations", 100))
    assert schedule.worker_settings(0.0, 0).average_streets == 1
    assert not schedule.average_snapshot_due(0.0, 99)
    assert schedule.average_snapshot_due(0.0, 100)
    assert not schedule.average_snapshot_due(0.0, 150)
    one_street = _schedule(average="first_round", num_streets=1)
    assert not one_street.snapshot_averaging  # Kuhn: the first round is the whole game


def test_config_checks() -> None:
    with pytest.raises(ValueError, match="same unit"):
        ScheduleConfig(discount_interval="10m", discount_stop="1000it")
    with pytest.raises(ValueError, match="could never fire"):
        ScheduleConfig(prune_threshold=-400.0, regret_floor=-310.0)


# --------------------------------------------------------------------------------------------
# The kernel's side


def _solver(seed: int = 3) -> tuple[ExternalSamplingMCCFR, Tables]:
    game = make_game("leduc")
    tables = Tables.zeros(game, "float64")
    return ExternalSamplingMCCFR(game, tables, seed=seed), tables


def test_pruning_skips_only_below_threshold_and_never_on_the_last_street() -> None:
    solver, tables = _solver()
    solver.run(20_000)
    game = solver.game
    streets = row_streets(game)
    solver.prune_probability = 1.0
    solver.prune_threshold = -5.0 * game.utility_scale
    before = tables.regret.copy()
    solver.run(2_000)
    pruned, prunable = solver.pruned_actions
    assert 0 < pruned < prunable
    # A pruned action's regret never changes while it stays below the threshold... and on
    # the last street nothing is pruned: those rows keep updating every action.
    last = streets == streets.max()
    assert np.any(tables.regret[last] != before[last])
    first = ~last
    assert np.any(
        (before[first] < solver.prune_threshold) & (tables.regret[first] == before[first])
    )


def test_no_pruning_without_probability_and_the_same_numbers_as_before() -> None:
    a, ta = _solver(seed=5)
    b, tb = _solver(seed=5)
    b.prune_threshold = -1.0  # ignored: probability 0 draws nothing and prunes nothing
    a.run(3_000)
    b.run(3_000)
    assert b.pruned_actions == (0, 0)
    np.testing.assert_array_equal(ta.regret, tb.regret)


def test_first_round_averaging_leaves_later_streets_strategy_sums_to_the_supervisor() -> None:
    solver, tables = _solver()
    solver.average_streets = 1
    solver.run(5_000)
    later = row_streets(solver.game) > 0
    assert not tables.strategy_sum[later].any() and tables.strategy_sum[~later].any()


@pytest.mark.slow
def test_early_fine_discounting_helps_leduc_on_average() -> None:
    """Pluribus discounts 40 times over the first few percent of training. On Leduc, every 1k
    iterations up to 40k (bench/study_linear_cfr.py, 24 seeds): 0.0508 vs 0.0537 at 50k and
    0.0333 vs 0.0352 at 100k (ratios 0.946; standard errors ~0.001)."""
    from bench.study_linear_cfr import exploitability_curve

    checkpoints = [50_000, 100_000]
    plain = np.mean(
        [exploitability_curve("plain", s, checkpoints, 1000, 0) for s in range(1, 25)], axis=0
    )
    discounted = np.mean(
        [exploitability_curve("discount", s, checkpoints, 1000, 40_000) for s in range(1, 25)],
        axis=0,
    )
    assert (discounted < plain).all(), f"discounted {discounted}, plain {plain}"


needs_jit = pytest.mark.needs_jit(reason="millions of iterations")


def _two_interleaved_workers(seed: int, prune_probability: float) -> float:
    """Leduc, 1M iterations by two in-process "workers" sharing one table as the daemon's do:
    batches of 2,000 staggered by half a batch, each merged when complete and then kept as
    the worker's in-flight prediction (worker.py). Pruning below -1000 x the utility scale
    from 300k iterations. Returns the average strategy's exploitability."""
    game = make_game("leduc")
    tables = Tables.zeros(game, "float32")
    workers = [
        ExternalSamplingMCCFR(game, tables, seed=seed, stream=(i + 1) << 40) for i in range(2)
    ]
    active = [w.new_delta_buffer() for w in workers]
    inflight = [w.new_delta_buffer() for w in workers]
    batch, chunk = 2_000, 1_000
    in_batch = [0, chunk]  # the second worker is half a batch ahead
    total = 0
    while total < 1_000_000:
        for i, worker in enumerate(workers):
            pruning = total >= 300_000
            worker.prune_probability = prune_probability if pruning else 0.0
            worker.prune_threshold = -1000.0 * game.utility_scale
            in_batch[i] += worker.run_into(active[i], min(chunk, batch - in_batch[i]), inflight[i])
            if in_batch[i] >= batch:
                total += in_batch[i]
                in_batch[i] = 0
                clear_delta(inflight[i])
                sent = active[i]
                rows = sent.rows[: int(sent.used[0])]
                tables.regret[rows] += sent.regret[: rows.size]  # merged at once, then kept
                tables.strategy_sum[rows] += sent.strategy[: rows.size]
                active[i], inflight[i] = inflight[i], active[i]
    return ExactEvaluator(game).exploitability(workers[0].average_policy())


@needs_jit
@pytest.mark.parametrize("seed", [6, 9])
def test_pruning_with_two_asynchronous_workers_stays_close_to_no_pruning(seed: int) -> None:
    """With two workers, first-round regrets swing twice as far as with one, so actions still
    in play dip below the threshold. Plain pruning then freezes them and their subtrees (they
    learn 20x slower) and the damage feeds on itself: seeds 6 and 9 reached 0.086 and 0.082
    against 0.017 without pruning. The iterations that do not prune now explore what pruning
    skips with weight 1/(1 - p), so pruning only adds variance: 0.017-0.020 (seeds 1-10)."""
    plain = _two_interleaved_workers(seed, 0.0)
    pruned = _two_interleaved_workers(seed, 0.95)
    assert pruned < 1.3 * plain, f"pruning {pruned:.4f}, without {plain:.4f}"
