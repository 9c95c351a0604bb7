"""The numba tree builder gives the record builder's game: every array, node for node, and every
history; it needs no record per node, so trees past the record builder's limit build."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from holdemd.config.loader import load_config
from holdemd.games import nolimit_tree, tree_size
from holdemd.games.betting import MAX_NODES, build_game_arrays, build_record_arrays
from holdemd.games.compiled import DEAL_HOLDEM, GameArrays
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit import NoLimitRules
from holdemd.games.nolimit_tree import build_nolimit_arrays, tree_bytes
from holdemd.games.packed import PackedStrings
from holdemd.games.tree_size import count_nolimit_tree, counts_of_arrays
from tests.games.test_tree_size import _random_rules

ROOT = Path(__file__).resolve().parents[2]
# The record builder takes about 40 s on 6max_mid's 2.1M nodes: the slow suite compares it.
SLOW_CONFIGS = {"6max_mid.yaml"}
BUCKETS = (3, 5, 7, 11)  # distinct per street, so a row base on the wrong street shows


def _arguments(rules: NoLimitRules) -> tuple:
    return rules, BUCKETS, DEAL_HOLDEM, tuple(range(52)), 2 * rules.num_players + 5


def assert_same_game(rules: NoLimitRules) -> None:
    arrays, histories, rows = build_nolimit_arrays(*_arguments(rules))
    reference, reference_histories, reference_rows = build_record_arrays(*_arguments(rules))
    assert rows == reference_rows
    for field in GameArrays._fields:
        ours, theirs = getattr(arrays, field), getattr(reference, field)
        if isinstance(theirs, np.ndarray):
            assert ours.dtype == theirs.dtype, field
            assert ours.shape == theirs.shape, field
            assert np.array_equal(ours, theirs), field
        elif field != "bucket_tables":  # the card fields are set by build_game_arrays
            assert ours == theirs, field
    assert isinstance(histories, PackedStrings)
    assert len(histories) == len(reference_histories)
    assert list(histories) == list(reference_histories)


def _shipped(slow: bool) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / "configs").glob("*.yaml"))
        if game_kind(load_config(path).game.name).holdem
        and (path.name in SLOW_CONFIGS) == slow
        and _record_builder_takes(path)
    ]


def _record_builder_takes(path: Path) -> bool:
    """Whether the record builder builds this config's tree at all: it refuses trees past
    MAX_NODES (6max_pluribus: 15.3M nodes; test_tree_size checks its count against the
    numba builder instead)."""
    return count_nolimit_tree(nolimit_rules(load_config(path).game)).nodes <= MAX_NODES


@pytest.mark.parametrize("path", _shipped(slow=False), ids=lambda p: p.name)
def test_the_kernel_builds_the_record_builders_game_on_shipped_configs(path: Path) -> None:
    assert_same_game(nolimit_rules(load_config(path).game))


@pytest.mark.slow
@pytest.mark.parametrize("path", _shipped(slow=True), ids=lambda p: p.name)
def test_the_kernel_builds_the_record_builders_game_on_big_shipped_configs(path: Path) -> None:
    assert_same_game(nolimit_rules(load_config(path).game))


@pytest.mark.parametrize("seed", range(40))
def test_the_kernel_builds_the_record_builders_game_on_random_rules(seed: int) -> None:
    # Random stacks (short ones go all-in early), blinds (a small blind of 0 too), antes, menus
    # (some depths empty: all-in only) and raise caps, two to six players.
    rng = random.Random(1000 + seed)
    rules = _random_rules(rng)
    while count_nolimit_tree(rules).nodes > 30_000:  # the record builder: about a second
        rules = _random_rules(rng)
    assert_same_game(rules)


def test_a_tree_too_varied_to_count_is_built_by_growing_the_arrays(monkeypatch) -> None:
    rules = nolimit_rules(load_config(ROOT / "configs" / "hunl_mid.yaml").game)
    # 100 states: the count gives up at a few thousand of the 32,792 nodes, so the arrays
    # double until the tree fits, and their width comes from the menu (one column more than
    # the tree needs) and is trimmed.
    monkeypatch.setattr(tree_size, "MAX_COUNTED_STATES", 100)
    monkeypatch.setattr(nolimit_tree, "FIRST_CAPACITY", 1)
    attempts: list[tuple[int, int]] = []
    expand = nolimit_tree._expand

    def recorded(rules: NoLimitRules, capacity: int, width: int) -> object:
        attempts.append((capacity, width))
        return expand(rules, capacity, width)

    monkeypatch.setattr(nolimit_tree, "_expand", recorded)
    assert_same_game(rules)
    assert len(attempts) >= 2 and attempts[-1][1] == 6


def test_the_entry_point_sends_no_limit_rules_to_the_kernel() -> None:
    rules = nolimit_rules(load_config(ROOT / "configs" / "hunl_quick.yaml").game)
    _, histories, _ = build_game_arrays(*_arguments(rules))
    assert isinstance(histories, PackedStrings)


@pytest.mark.needs_jit(reason="3.4M nodes need the compiled kernel")
def test_a_tree_past_the_record_builders_limit_builds_as_counted() -> None:
    # Six players, one pot-sized bet per street, two raises per street: 3,381,072 nodes, past
    # the 3,000,000 the record builder refuses; about 3 s and 0.5 GB here.
    pot = ((1.0,),)
    rules = NoLimitRules(6, 10_000, 50, 100, 0, (pot,) * 4, (2, 2, 2, 2))
    arrays, histories, rows = build_nolimit_arrays(*_arguments(rules))
    counts = count_nolimit_tree(rules)
    assert counts.nodes == 3_381_072 > MAX_NODES
    assert counts_of_arrays(arrays) == counts
    assert rows == sum(d * b for d, b in zip(counts.decisions, BUCKETS, strict=True))
    # Spot checks against the rules: the root is under the gun's (fold leaving nothing in,
    # call, a pot raise to 100 + (150 + 100) = 350, all-in), and the last node, in pre-order,
    # is everyone calling the all-in.
    assert arrays.node_player[0] == 2 and histories[0] == ""
    assert arrays.node_action_amount[0, : arrays.node_num_actions[0]].tolist() == [
        0.0,
        100.0,
        350.0,
        10_000.0,
    ]
    last = len(histories) - 1
    assert arrays.node_player[last] == -1 and histories[last] == "accccc"
    node_arrays = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    built = node_arrays + histories.data.nbytes + histories.offsets.nbytes
    estimate = tree_bytes(counts.nodes, counts.max_actions, rules.num_players)
    assert built <= estimate <= 1.3 * built  # the memory check's estimate errs high, not far


def test_arrays_that_cannot_fit_are_not_allocated(monkeypatch) -> None:
    from holdemd.errors import GameError
    from holdemd.games import memory_check

    rules = nolimit_rules(load_config(ROOT / "configs" / "hunl_mid.yaml").game)
    monkeypatch.setattr(tree_size, "MAX_COUNTED_STATES", 100)
    monkeypatch.setattr(memory_check, "available_memory", lambda: 1_000_000)
    with pytest.raises(GameError) as error:
        build_nolimit_arrays(*_arguments(rules))
    message = str(error.value)
    assert message.startswith("the betting tree has at least ")
    assert "but only 976.6 KiB of memory is available" in message
