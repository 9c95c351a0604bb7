"""Kernels against the pure-Python reference and on hand-made edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.games.factory import make_game
from holdemd.solver.kernels.payoff import payoff
from holdemd.solver.kernels.regret_rows import regret_matching
from holdemd.solver.kernels.rng import below, make_rng_state, uniform
from holdemd.solver.kernels.table_access import DeltaBuffer, LiveTables, make_delta_buffer
from holdemd.solver.mccfr import ExternalSamplingMCCFR, apply_delta
from holdemd.solver.tables import Tables
from tests.naive.reference_mccfr import ReferenceMCCFR, Settings


@pytest.mark.parametrize("name", ["kuhn", "leduc"])
@pytest.mark.parametrize("linear", [False, True])
def test_kernel_matches_pure_python_reference(name, linear):
    game = make_game(name)
    kernel = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=3, linear=linear)
    reference = ReferenceMCCFR(game, make_rng_state(3), Settings(linear=linear))
    kernel.run(300)
    reference.iterate(300)
    regret, strategy_sum = reference.as_tables()
    np.testing.assert_allclose(kernel.tables.regret, regret, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(kernel.tables.strategy_sum, strategy_sum, rtol=1e-12, atol=1e-9)
    assert np.abs(regret).sum() > 0  # the comparison is not between two empty tables


def test_same_seed_same_tables_different_seed_different_tables():
    game = make_game("leduc")
    runs = []
    for seed in (5, 5, 6):
        solver = ExternalSamplingMCCFR(game, Tables.zeros(game), seed=seed)
        solver.run(2_000)
        runs.append(solver.tables.regret.copy())
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_delta_mode_with_merges_equals_in_place_mode():
    game = make_game("leduc")
    in_place = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=11)
    in_place.run(3_000)
    via_delta = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=11)
    delta = via_delta.new_delta_buffer()
    assert isinstance(delta, DeltaBuffer)
    for _ in range(30):
        assert via_delta.run_into(delta, 100) == 100
        assert delta.used[0] > 0
        apply_delta(via_delta.tables, delta)
        assert delta.used[0] == 0 and (delta.slot_of_row == -1).all()
    np.testing.assert_allclose(via_delta.tables.regret, in_place.tables.regret, atol=1e-9)
    np.testing.assert_allclose(
        via_delta.tables.strategy_sum, in_place.tables.strategy_sum, atol=1e-9
    )


def test_pipelined_buffers_equal_in_place_mode():
    # The worker's scheme: batch k+1 fills one buffer while batch k, sent, is in the other.
    game = make_game("leduc")
    in_place = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=13)
    in_place.run(2_000)
    piped = ExternalSamplingMCCFR(game, Tables.zeros(game, "float64"), seed=13)
    active, inflight = piped.new_delta_buffer(), piped.new_delta_buffer()
    for _ in range(20):
        piped.run_into(active, 100, inflight)
        apply_delta(piped.tables, inflight)  # the previous batch is merged only now
        active, inflight = inflight, active
    apply_delta(piped.tables, inflight)
    np.testing.assert_allclose(piped.tables.regret, in_place.tables.regret, atol=1e-9)
    np.testing.assert_allclose(piped.tables.strategy_sum, in_place.tables.strategy_sum, atol=1e-9)


def test_delta_mode_leaves_the_tables_untouched():
    game = make_game("kuhn")
    tables = Tables.zeros(game, "float64")
    solver = ExternalSamplingMCCFR(game, tables, seed=1)
    delta = solver.new_delta_buffer()
    solver.run_into(delta, 50)
    assert not tables.regret.any() and not tables.strategy_sum.any()
    assert np.abs(delta.regret[: delta.used[0]]).sum() > 0


def test_full_delta_buffer_stops_the_batch_early_without_dropping_updates():
    game = make_game("leduc")
    solver = ExternalSamplingMCCFR(game, Tables.zeros(game), seed=2)
    delta = make_delta_buffer(game.num_rows, game.max_actions, capacity=40, dtype=np.float32)
    done = solver.run_into(delta, 10_000)
    assert 0 < done < 10_000
    assert delta.used[0] <= 40
    assert solver.dropped_updates == 0
    assert solver.iteration == done


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_a_full_buffer_cuts_the_batch_at_the_same_iteration_however_it_is_chunked(chunk):
    """A worker runs its batch in chunks sized by the clock; the cut must not depend on them
    (repeatable runs), so the rule reads the buffer, not the call."""
    game = make_game("leduc")

    def batch(step: int) -> tuple[int, np.ndarray]:
        solver = ExternalSamplingMCCFR(game, Tables.zeros(game), seed=2)
        delta = make_delta_buffer(game.num_rows, game.max_actions, capacity=40, dtype=np.float32)
        done = 0
        while True:
            ran = solver.run_into(delta, step)
            done += ran
            if ran < step:
                return done, delta.regret[: delta.used[0]].copy()

    whole, regrets = batch(10_000)
    chunked, chunked_regrets = batch(chunk)
    assert 0 < whole < 10_000
    assert chunked == whole
    np.testing.assert_array_equal(chunked_regrets, regrets)


def _strategy(regrets, pending=None, inflight=None):
    n = len(regrets)
    regret = np.array([regrets], dtype=np.float64)
    delta = make_delta_buffer(1, n, 1, np.float64)
    sent = make_delta_buffer(1, n, 1, np.float64)
    if pending is not None:
        delta.regret[0] = pending
    if inflight is not None:
        sent.regret[0] = inflight
    at = np.zeros(1, dtype=np.int64)
    used = np.zeros(2, dtype=np.int64)
    flat = regret.reshape(-1)
    tables = LiveTables(flat, np.zeros_like(flat), at, at, n, used, delta, sent, False)
    out = np.zeros((2, n))
    regret_matching(
        tables,
        0,
        0 if pending is not None else -1,
        0 if inflight is not None else -1,
        n,
        out,
        1,
    )
    assert not out[0].any()  # only the requested row of `out` is written
    return out[1].tolist()


def test_regret_matching_edge_cases():
    assert _strategy([-1.0, -5.0, -0.1]) == pytest.approx([1 / 3] * 3)  # all negative: uniform
    assert _strategy([0.0, 0.0]) == pytest.approx([0.5, 0.5])
    assert _strategy([-3.0]) == [1.0]  # a single legal action
    assert _strategy([2.0, -1.0, 6.0]) == pytest.approx([0.25, 0.0, 0.75])
    # Pending deltas are part of the regret: table -1 with +3 pending is +2.
    assert _strategy([-1.0, 1.0], pending=[3.0, 0.0]) == pytest.approx([2 / 3, 1 / 3])
    # So are changes sent but not yet merged: table -1, pending +1, in flight +2 is +2.
    assert _strategy([-1.0, 1.0], pending=[1.0, 0.0], inflight=[2.0, 0.0]) == pytest.approx(
        [2 / 3, 1 / 3]
    )


def test_zero_probability_actions_are_never_sampled_nor_averaged():
    game = make_game("kuhn")
    tables = Tables.zeros(game, "float64")
    # Player 1's rows: "bet" has probability zero, by a margin 500 iterations of updates (each
    # at most 2 in Kuhn) cannot close.
    for node in game.decision_nodes():
        if game.arrays.node_player[node] == 1:
            for card in range(3):
                tables.regret[game.row_of(int(node), card)] = [1e9, -1e9]
    solver = ExternalSamplingMCCFR(game, tables, seed=4)
    delta = solver.new_delta_buffer()
    assert isinstance(delta, DeltaBuffer)
    solver.run_into(delta, 500)
    for slot in range(int(delta.used[0])):
        row = int(delta.rows[slot])
        node = next(
            n
            for n in game.decision_nodes()
            if game.arrays.node_row_base[n] <= row < game.arrays.node_row_base[n] + 3
        )
        if game.arrays.node_player[node] == 1:
            assert delta.strategy[slot, 1] == 0.0  # zero probability adds nothing
    # "pb" is only reachable if player 1 bets after "p": with zero probability, never visited,
    # so player 0's rows at "pb" have no regret change.
    pb = game.histories.index("pb")
    for card in range(3):
        row = game.row_of(pb, card)
        slot = delta.slot_of_row[row]
        assert slot == -1 or not delta.regret[slot].any()


@pytest.mark.parametrize(
    ("contrib", "alive", "ranks", "expected"),
    [
        # Heads-up fold: the folder loses what they put in.
        ([1, 2], [0, 1], [9, 0], [-1, 1]),
        # Heads-up showdown, split pot.
        ([5, 5], [1, 1], [3, 3], [0, 0]),
        # Three-way, player 2 all-in short for 10 with the best hand; 0 beats 1 for the side pot.
        ([50, 50, 10], [1, 1, 1], [5, 1, 9], [30, -50, 20]),
        # Three-way, player 1 folded after putting in 20; 0 and 2 split everything.
        ([40, 20, 40], [1, 0, 1], [7, 9, 7], [10, -20, 10]),
        # Six-way: 5 folded 1, 4 folded 2; 0 (short, 30) has the nuts, 1 and 2 split the side pot,
        # 3 put in 100 and loses; uncalled excess of 3 over 80 is returned.
        (
            [30, 80, 80, 100, 2, 1],
            [1, 1, 1, 1, 0, 0],
            [9, 5, 5, 2, 0, 0],
            [30 * 4 + 3 - 30, (50 * 3) / 2 - 80, (50 * 3) / 2 - 80, 20 - 100, -2, -1],
        ),
    ],
)
def test_payoff_side_pots_and_splits(contrib, alive, ranks, expected):
    # The terminal is node 1 of two, to check the kernel reads the node's row, not row 0.
    c = np.array([[0.0] * len(contrib), contrib], dtype=np.float64)
    a = np.array([[1] * len(alive), alive], dtype=np.int8)
    r = np.array(ranks, dtype=np.int64)
    got = [payoff(c, a, 1, r, p) for p in range(len(contrib))]
    assert got == pytest.approx(expected)
    assert sum(got) == pytest.approx(0.0)  # chips are conserved


def test_rng_is_reproducible_and_uniform_enough():
    a, b = make_rng_state(42), make_rng_state(42)
    xs = [uniform(a) for _ in range(20_000)]
    assert xs == [uniform(b) for _ in range(20_000)]
    assert abs(np.mean(xs) - 0.5) < 0.01 and min(xs) >= 0.0 and max(xs) < 1.0
    counts = np.bincount([below(a, 6) for _ in range(60_000)], minlength=6)
    assert counts.min() > 9_500 and counts.max() < 10_500
    assert make_rng_state(1)[0] != make_rng_state(1, stream=1)[0]


def test_neighbouring_streams_are_not_shifted_copies_of_each_other():
    # SplitMix64 seeded with states a golden-constant apart gives one stream shifted by a step.
    for seed, (s1, s2) in [(0, (0, 1)), (7, (5, 6)), (1, (0, 2**20))]:
        a, b = make_rng_state(seed, s1), make_rng_state(seed, s2)
        xs = [int(uniform(a) * 2**40) for _ in range(2_000)]
        ys = [int(uniform(b) * 2**40) for _ in range(2_000)]
        assert not set(xs[:1_000]) & set(ys), "stream b repeats stream a"
        assert not set(ys[:1_000]) & set(xs), "stream a repeats stream b"
