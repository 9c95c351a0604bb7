"""Lazily allocated tables across hosts: the head's feed and a node's replica agree, block for
block and value for value, through merges, joins, discounts and the node's own work."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from holdemd.config.schema import GameConfig, SolverConfig
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game
from holdemd.hosts.feed import ReplicaFeed
from holdemd.hosts.remote import RemoteHost
from holdemd.hosts.replica import LazyReplica
from holdemd.solver.kernels.rng import make_rng_state
from holdemd.solver.lazy_tables import REGRET, LazyTables, NodeBlocks, merge_lazy
from holdemd.solver.tables import scale_rows


@pytest.fixture(scope="module")
def game() -> Game:
    return build_game(GameConfig(name="leduc"))


class Head:
    """A head's lazy tables, merged into as the run merges, and its feed to one host."""

    def __init__(self, game: Game, regret_dtype: str | None = None) -> None:
        self.game = game
        self.tables = LazyTables.zeros(game, "float32", regret_dtype)
        self.blocks = NodeBlocks.of(game)
        self.host = RemoteHost(name="n1", index=1)
        self.feed = ReplicaFeed(game, self.tables, [self.host], budget=1 << 20)
        self.rng = make_rng_state(1, stream=1 << 62)

    def merge(self, rows: np.ndarray, regret: np.ndarray) -> None:
        assert merge_lazy(
            self.tables, self.blocks, rows, regret, np.zeros_like(regret), None, self.rng
        )
        self.feed.changed(rows)

    def discount(self, factor: float, send_midway: LazyReplica | None = None) -> None:
        """The run's pass: both arenas in two slices; an update may go out between them."""
        self.feed.discount_started()
        used = int(self.tables.used[REGRET])
        half = used // 2
        scale_rows(self.tables.regret, 0, half, factor)
        if send_midway is not None:
            sync(self, send_midway)
        scale_rows(self.tables.regret, half, used, factor)
        self.feed.discount_done(factor)

    def regret_rows(self) -> np.ndarray:
        return self.tables.rows(self.game, np.arange(self.game.num_rows), "regret")


def sync(head: Head, replica: LazyReplica) -> None:
    """Updates until the host lacks nothing (as the node's exchanges do)."""
    while True:
        rows, values, remaining, discounts = head.feed.update(head.host)
        for factor in discounts:
            replica.scale(float(factor))
        replica.apply(rows, values)
        if remaining == 0:
            return


def replica_rows(replica: LazyReplica) -> np.ndarray:
    return replica.tables.rows(replica.game, np.arange(replica.game.num_rows), "regret")


def random_delta(game: Game, rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.sort(rng.choice(game.num_rows, size=k, replace=False)).astype(np.int64)
    regret = rng.normal(size=(k, game.max_actions)).astype(np.float32)
    regret[: k // 4] = 0  # rows only passed through: no regret block
    blocks = NodeBlocks.of(game)
    legal = (
        np.arange(game.max_actions)[None, :] < blocks.num_actions[blocks.node_index(rows)][:, None]
    )
    return rows, np.where(legal, regret, 0).astype(np.float32)  # as a worker's: 0 past n


@pytest.fixture
def replica(game: Game) -> Iterator[LazyReplica]:
    node = LazyReplica(game, SolverConfig())
    yield node
    node.close()


def test_a_joining_node_gets_the_heads_blocks_and_only_those(
    game: Game, replica: LazyReplica
) -> None:
    head = Head(game)
    rng = np.random.default_rng(3)
    for _ in range(3):
        head.merge(*random_delta(game, rng, 60))
    head.feed.join(head.host)
    sync(head, replica)
    assert np.array_equal(replica_rows(replica), head.regret_rows())
    assert np.array_equal(replica.tables.regret_at >= 0, head.tables.regret_at >= 0)
    assert replica.tables.used[REGRET] == head.tables.used[REGRET]


def test_merges_and_discounts_keep_the_replica_equal_to_the_head(
    game: Game, replica: LazyReplica
) -> None:
    head = Head(game)
    head.feed.join(head.host)
    sync(head, replica)
    rng = np.random.default_rng(5)
    for step in range(6):
        head.merge(*random_delta(game, rng, 50))
        if step % 2:
            # Rows sent while the pass is half done are discounted there already: they must
            # come again, not be scaled twice.
            head.discount(0.5 + 0.1 * step, send_midway=replica)
        sync(head, replica)
        assert np.array_equal(replica_rows(replica), head.regret_rows()), step
    assert len(head.feed.discounts) == 3


def test_the_nodes_work_stays_on_top_of_the_heads_values(game: Game, replica: LazyReplica) -> None:
    head = Head(game)
    head.feed.join(head.host)
    sync(head, replica)
    rng = np.random.default_rng(11)
    rows, regret = random_delta(game, rng, 40)
    replica.add(rows, regret, np.zeros_like(regret), iterations=100)  # a worker's batch
    sent_rows, sent_regret, _, iterations, exact = replica.take()
    assert exact and iterations == 100
    more_rows, more = random_delta(game, rng, 30)
    replica.add(more_rows, more, np.zeros_like(more), iterations=50)  # not sent yet
    head.merge(sent_rows.astype(np.int64), sent_regret)  # the head merges what was sent
    head.merge(*random_delta(game, rng, 30))  # and another host's work
    sync(head, replica)
    expected = head.regret_rows()
    np.add.at(expected, more_rows, more.astype(np.float64))
    np.testing.assert_allclose(replica_rows(replica), expected, rtol=1e-6, atol=1e-6)
    # Sent, merged and answered, the replica is the head's again, bit for bit.
    rows2, regret2, _, _, _ = replica.take()
    head.merge(rows2.astype(np.int64), regret2)
    sync(head, replica)
    assert np.array_equal(replica_rows(replica), head.regret_rows())


def test_several_batches_go_out_as_one_row_each(game: Game, replica: LazyReplica) -> None:
    actions = game.max_actions
    ones = np.ones((2, actions), dtype=np.float32)
    replica.add(np.array([9, 4]), ones, ones * 2, iterations=3)
    replica.add(np.array([4, 1]), ones * 3, ones, iterations=4)
    rows, regret, strategy, iterations, exact = replica.take()
    assert rows.tolist() == [1, 4, 9] and iterations == 7 and not exact
    assert regret[:, 0].tolist() == [3.0, 4.0, 1.0]
    assert strategy[:, 0].tolist() == [1.0, 3.0, 2.0]
    assert replica.take()[0].size == 0


def test_integer_regrets_are_rounded_and_floored_on_top_of_the_heads(game: Game) -> None:
    node = LazyReplica(game, SolverConfig(regret_dtype="int32"))
    try:
        node.floor = -5.0
        row = np.array([2])
        node.add(row, np.full((1, game.max_actions), -2.4, dtype=np.float32), None, 1)  # type: ignore[arg-type]
        blocks = NodeBlocks.of(game)
        n = int(blocks.num_actions[blocks.node_index(row)][0])
        node.apply(row, np.full(n, -4, dtype=np.int32))
        got = node.tables.rows(game, row, "regret")[0, :n]
        assert got.tolist() == [-5.0] * n  # -4 - 2.4 rounds to -6, floored at -5
    finally:
        node.close()


def test_values_that_do_not_fit_the_game_are_refused(replica: LazyReplica) -> None:
    with pytest.raises(ValueError, match="legal actions"):
        replica.apply(np.array([0, 1]), np.zeros(1, dtype=np.float32))
    with pytest.raises(ValueError, match="beyond"):
        replica.apply(np.array([replica.game.num_rows]), np.zeros(3, dtype=np.float32))
    assert replica.tables.used[REGRET] == 0  # nothing written
