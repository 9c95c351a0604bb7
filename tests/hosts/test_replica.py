"""A node's replica: local merges, what a send takes, and the head's values on top of pending work."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from holdemd.config.schema import GameConfig, SolverConfig
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game
from holdemd.hosts.replica import DenseReplica


def leduc() -> Game:
    return build_game(GameConfig(name="leduc"))


@pytest.fixture
def leduc_replica() -> Iterator[DenseReplica]:
    replica = DenseReplica(leduc(), SolverConfig())
    yield replica
    replica.close()


def _delta(
    rows: list[int], value: float, actions: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.array(rows, dtype=np.int32)
    regret = np.full((len(rows), actions), value, dtype=np.float32)
    strategy = np.full((len(rows), actions), value / 2, dtype=np.float32)
    return r, regret, strategy


def test_a_worker_delta_reaches_the_replica_and_the_pending_sums(
    leduc_replica: DenseReplica,
) -> None:
    replica = leduc_replica
    actions = replica.game.max_actions
    replica.add(*_delta([3, 5], 1.0, actions), iterations=10)
    replica.add(*_delta([5, 7], 2.0, actions), iterations=5)
    assert replica.tables.regret[5, 0] == 3.0 and replica.tables.regret[3, 0] == 1.0
    rows, regret, strategy, iterations, exact = replica.take()
    assert rows.tolist() == [3, 5, 7] and iterations == 15
    assert not exact  # two batches summed: the head's sum rounds otherwise than the replica
    assert regret[:, 0].tolist() == [1.0, 3.0, 2.0]
    assert strategy[:, 0].tolist() == [0.5, 1.5, 1.0]
    # Taken means gone: the next send carries only what comes after.
    rows, regret, _, iterations, _ = replica.take()
    assert rows.size == 0 and iterations == 0
    assert replica.pending_bytes == 0


def test_the_heads_values_replace_the_replicas_with_unsent_work_on_top(
    leduc_replica: DenseReplica,
) -> None:
    replica = leduc_replica
    actions = replica.game.max_actions
    replica.add(*_delta([3], 1.0, actions), iterations=1)
    replica.take()  # sent; the head merged it (and others' work): 10 in row 3
    replica.add(*_delta([3, 4], 0.5, actions), iterations=1)  # not sent yet
    head = np.full((3, actions), 10.0, dtype=np.float32)
    replica.apply(np.array([2, 3, 4]), head)
    assert replica.tables.regret[2, 0] == 10.0  # no pending work there: the head's value
    assert replica.tables.regret[3, 0] == 10.5  # the head's value plus what is still pending
    assert replica.tables.regret[4, 0] == 10.5


def test_integer_regrets_round_the_pending_work_and_keep_the_floor() -> None:
    game = leduc()
    replica = DenseReplica(game, SolverConfig(regret_dtype="int32"))
    try:
        replica.floor = -5.0
        actions = game.max_actions
        replica.add(*_delta([1], -2.4, actions), iterations=1)
        head = np.full((1, actions), -4, dtype=np.int32)
        replica.apply(np.array([1]), head)
        assert replica.tables.regret.dtype == np.int32
        assert replica.tables.regret[1, 0] == -5  # -4 - 2.4 rounds to -6, floored at -5
    finally:
        replica.close()


def test_clear_drops_the_pending_work_of_a_lost_session(leduc_replica: DenseReplica) -> None:
    replica = leduc_replica
    replica.add(*_delta([3], 1.0, replica.game.max_actions), iterations=4)
    replica.clear()
    rows, _, _, iterations, _ = replica.take()
    assert rows.size == 0 and iterations == 0


def test_a_lone_batch_goes_out_as_it_came(leduc_replica: DenseReplica) -> None:
    replica = leduc_replica
    rows, regret, strategy = _delta([7, 3], 1.5, replica.game.max_actions)
    replica.add(rows, regret, strategy, iterations=9)
    assert replica.pending_bytes > 0
    sent_rows, sent_regret, sent_strategy, iterations, exact = replica.take()
    assert sent_rows.tolist() == [7, 3] and iterations == 9  # no pass over the sums
    assert exact  # the head's merge of it gives what the replica holds
    assert np.array_equal(sent_regret, regret) and np.array_equal(sent_strategy, strategy)
    assert replica.take()[0].size == 0 and replica.pending_bytes == 0


def test_a_dense_replica_follows_merges_and_discounts_through_the_heads_feed(
    leduc_replica: DenseReplica,
) -> None:
    from holdemd.hosts.feed import ReplicaFeed
    from holdemd.hosts.remote import RemoteHost
    from holdemd.solver.tables import Tables, scale_rows

    replica = leduc_replica
    game = replica.game
    head = Tables.zeros(game, "float32")
    host = RemoteHost(name="n1", index=1)
    feed = ReplicaFeed(game, head, [host], budget=4096)  # a few rows per update

    def sync() -> None:
        while True:
            rows, values, remaining, discounts = feed.update(host)
            for factor in discounts:
                replica.scale(float(factor))
            replica.apply(rows, values)
            if remaining == 0:
                return

    rng = np.random.default_rng(2)
    feed.join(host)
    for step in range(4):
        rows = np.sort(rng.choice(game.num_rows, size=40, replace=False))
        head.regret[rows] += rng.normal(size=(40, game.max_actions)).astype(np.float32)
        feed.changed(rows)
        feed.discount_started()  # a discount in two slices, an update between them
        scale_rows(head.regret, 0, game.num_rows // 2, 0.5)
        feed.update(host)  # what it sends now comes again after the pass
        rows_sent, values, _, discounts = feed.update(host)
        assert discounts.size == 0
        replica.apply(rows_sent, values)
        scale_rows(head.regret, game.num_rows // 2, game.num_rows, 0.5)
        feed.discount_done(0.5)
        sync()
        assert np.array_equal(replica.tables.regret, head.regret), step
