"""The tree counter agrees with the tree builder, node for node, on every street."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from holdemd.config.loader import load_config
from holdemd.games import tree_size
from holdemd.games.betting import build_game_arrays
from holdemd.games.compiled import DEAL_HOLDEM
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit import NoLimitRules
from holdemd.games.tree_size import (
    TreeCounts,
    TreeTooLargeToCount,
    count_nolimit_tree,
    counts_of_arrays,
)

ROOT = Path(__file__).resolve().parents[2]


def built(rules: NoLimitRules) -> TreeCounts:
    arrays, _, _ = build_game_arrays(
        rules, (1,) * rules.num_streets, DEAL_HOLDEM, tuple(range(52)), 2 * rules.num_players + 5
    )
    return counts_of_arrays(arrays)


# Past this many nodes building takes more than a few seconds: 6max_pluribus's 15.3M nodes take
# about 10 s and 2.7 GB, so its build is in the slow suite.
BUILT_IN_SECONDS = 5_000_000


def _shipped() -> list[object]:
    paths = (ROOT / "configs").glob("*.yaml")
    params: list[object] = []
    for path in sorted(paths):
        game = load_config(path).game
        if not game_kind(game.name).holdem:
            continue
        big = count_nolimit_tree(nolimit_rules(game)).nodes > BUILT_IN_SECONDS
        params.append(pytest.param(path, marks=pytest.mark.slow) if big else path)
    return params


# 6max_mid included: the numba builder builds its 2.1M nodes in about 1.5 s (the record
# builder it is checked against in test_nolimit_tree took 40 s: that check is in the slow suite).
@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.name)
def test_the_count_is_the_built_tree_on_shipped_configs(path: Path) -> None:
    if path.name == "6max_mid.yaml" and os.environ.get("NUMBA_DISABLE_JIT") == "1":
        pytest.skip("NUMBA_DISABLE_JIT=1: 2.1M nodes need the compiled kernel")
    rules = nolimit_rules(load_config(path).game)
    assert count_nolimit_tree(rules) == built(rules)


def _random_rules(rng: random.Random) -> NoLimitRules:
    players = rng.choice([2, 2, 2, 3, 3, 4, 6])
    big_blind, small_blind = 100, rng.choice([0, 25, 50, 100])
    ante = rng.choice([0, 0, 10, 100])
    fractions = [0.25, 0.33, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0]

    def street_menu() -> tuple[tuple[float, ...], ...]:
        return tuple(
            tuple(rng.sample(fractions, rng.randint(0, 3))) for _ in range(rng.randint(0, 3))
        )

    caps = [rng.randint(0, 3) for _ in range(4)]
    if players > 2:  # keep multiway trees small enough to build in a test
        caps = [min(cap, 2) for cap in caps]
    return NoLimitRules(
        num_players=players,
        stack_chips=rng.choice([150, 250, 400, 1_000, 2_000, 10_000, 30_000]) + big_blind + ante,
        small_blind=small_blind,
        big_blind=big_blind,
        ante=ante,
        bet_menu=tuple(street_menu() for _ in range(4)),
        max_raises=tuple(caps),
    )


@pytest.mark.parametrize("seed", range(40))
def test_the_count_is_the_built_tree_on_random_rules(seed: int) -> None:
    # Random stacks (short ones go all-in early), blinds, antes, menus (some depths empty: all-in
    # only) and raise caps, two to six players.
    rng = random.Random(seed)
    rules = _random_rules(rng)
    while count_nolimit_tree(rules).nodes > 30_000:  # a tree a test builds in about a second
        rules = _random_rules(rng)
    assert count_nolimit_tree(rules) == built(rules)


def test_a_count_that_gives_up_reports_a_true_lower_bound() -> None:
    rules = nolimit_rules(load_config(ROOT / "configs" / "hunl_mid.yaml").game)
    nodes = count_nolimit_tree(rules).nodes  # 32,792
    with pytest.raises(TreeTooLargeToCount) as stop:
        count_nolimit_tree(rules, max_states=100)
    assert 100 <= stop.value.nodes_at_least <= nodes
    assert stop.value.nodes_at_least > 1_000  # the subtrees counted before the stop add up


def test_a_street_count_too_large_for_its_field_is_not_reported_wrong(monkeypatch) -> None:
    rules = nolimit_rules(load_config(ROOT / "configs" / "hunl_quick.yaml").game)
    assert max(count_nolimit_tree(rules).terminals) > 255
    monkeypatch.setattr(tree_size, "FIELD_BITS", 8)  # 255 nodes per street at most
    with pytest.raises(TreeTooLargeToCount) as stop:
        count_nolimit_tree(rules)
    assert stop.value.nodes_at_least == 256


def test_six_players_with_the_quick_menu_are_counted_without_building() -> None:
    # hunl_quick's menu for six players: the tree the node cap refused only after 70 s and 2 GB
    # of building. The numbers were checked once by memoising over the builder's own states
    # (apply_action / next_street, four minutes), which this test cannot afford.
    rules = NoLimitRules(
        num_players=6,
        stack_chips=10_000,
        small_blind=50,
        big_blind=100,
        ante=0,
        bet_menu=(((0.5, 1.0), (1.0,)), ((0.5, 1.0), (1.0,)), ((0.5, 1.0),), ((0.5, 1.0),)),
        max_raises=(3, 3, 2, 2),
    )
    counts = count_nolimit_tree(rules)
    assert counts.nodes == 115_334_632
    assert counts.decisions == (87_800, 2_576_118, 12_518_672, 38_614_648)
    # Every node but the root is one legal action of one decision.
    assert sum(counts.actions) == counts.nodes - 1


def test_legal_actions_are_counted_per_street_as_built() -> None:
    # hunl_quick: what lazily allocated tables hold per bucket, street by street (the built
    # tree's node_num_actions summed over its decisions; the shipped-config test compares all
    # fields, this one names the numbers).
    rules = nolimit_rules(load_config(ROOT / "configs" / "hunl_quick.yaml").game)
    counts = count_nolimit_tree(rules)
    assert counts.actions == built(rules).actions
    assert sum(counts.actions) == counts.nodes - 1
    widths = zip(counts.decisions, counts.actions, strict=True)
    assert all(2 * d <= a <= counts.max_actions * d for d, a in widths)  # 2 to 5 actions each
