"""Ranges by Bayes from the blueprint's own actions, checked against brute force over every
deal, and the range strings and CSV made from them."""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import pytest

from holdemd import Blueprint
from holdemd.blueprint.ranges import range_string, range_strings, strategy_csv
from holdemd.cards import parse_cards
from holdemd.games.factory import make_game
from tests.lookup.games import HU_RULES, hu_game, random_blueprint


def _brute_force_leduc(blueprint: Blueprint, history: str, public: int | None) -> np.ndarray:
    """P(player 0's private rank | history, public card), enumerating all 6 x 5 x 4 deals
    (``public`` None: a round-1 decision, any public card)."""
    decision = blueprint.decision(history)
    nodes = blueprint.nodes
    path = []
    at = decision.node
    while nodes.parent[at] >= 0:
        path.append((int(nodes.parent[at]), int(nodes.parent_action[at])))
        at = int(nodes.parent[at])
    a = blueprint.tree.game.arrays
    posterior = np.zeros(3)
    for c0, c1, board in itertools.permutations(range(6), 3):  # card code = 2 * rank + suit
        if public is not None and board // 2 != public:
            continue
        probability = 1.0
        for node, column in path:
            player, street = int(a.node_player[node]), int(a.node_street[node])
            private = (c0, c1)[player] // 2
            bucket = private if street == 0 else 3 * private + board // 2
            probability *= float(blueprint.probabilities(node, bucket)[0][0, column])
        posterior[c0 // 2] += probability
    return posterior / posterior.sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_leduc_posterior_matches_brute_force_bayes(seed):
    blueprint = random_blueprint(make_game("leduc"), None, seed=seed)
    for history, board in [("rc/r", "K"), ("crr", ""), ("rc/cr", "J")]:
        public = "JQK".index(board) if board else None
        ranges = blueprint.range(history, board=board)
        expected = _brute_force_leduc(blueprint, history, public)
        np.testing.assert_allclose(ranges.posterior(0), expected, atol=1e-12)
        assert ranges.hands == ("J", "Q", "K")
        assert ranges.combos.tolist() == (
            [2.0, 2.0, 2.0] if public is None else [1.0 if r == public else 2.0 for r in range(3)]
        )


def test_reach_is_the_product_of_each_players_own_action_probabilities():
    blueprint = random_blueprint(make_game("kuhn"), None, seed=3)
    ranges = blueprint.range("pb")  # P0 passes, P1 bets: P0 to act
    pass_probs = blueprint.probabilities(0, np.arange(3))[0][:, 0]
    after_pass = blueprint.decision("p").node
    bet_probs = blueprint.probabilities(after_pass, np.arange(3))[0][:, 1]
    np.testing.assert_allclose(ranges.reach, [pass_probs, bet_probs])
    np.testing.assert_allclose(ranges.normalized(1), bet_probs / bet_probs.sum())
    # Kuhn's posterior: the other player's card cannot be the same one.
    other = bet_probs
    expected = pass_probs * (other.sum() - other)
    np.testing.assert_allclose(ranges.posterior(0), expected / expected.sum())


def _expand(text: str) -> dict[frozenset[int], float]:
    """A range string as weights per combo (a set of two card codes): a small reader written
    from the syntax, independent of the writer."""
    out: dict[frozenset[int], float] = {}
    suits = "cdhs"
    for part in filter(None, text.split(",")):
        name, _, weight = part.partition(":")
        w = float(weight) if weight else 1.0
        if len(name) == 4:  # one combo
            out[_combo(name)] = w
            continue
        hi, lo = name[0], name[1]
        for s1, s2 in itertools.product(suits, repeat=2):
            if hi == lo and s1 >= s2:
                continue
            if len(name) == 3 and (name[2] == "s") != (s1 == s2):
                continue
            out[_combo(hi + s1 + lo + s2)] = w
    return out


def _combo(label: str) -> frozenset[int]:
    return frozenset(parse_cards(label).tolist())


def test_range_strings_add_up_to_the_range_and_read_back():
    blueprint = random_blueprint(hu_game(flop_buckets=4), HU_RULES, seed=8)
    for history, board in [("", ""), ("r3", ""), ("r3 c / k", "AhKd7c")]:
        table = blueprint.strategies(history, board=board)
        ranges = blueprint.range(history, board=board)
        reach = ranges.reach[table.decision.player]
        strings = range_strings(blueprint, table, reach)
        hands = blueprint.hands(table.decision.street, board)
        row = {label: k for k, label in enumerate(table.hands)}
        total = np.zeros(len(hands.labels))
        blocked = set(parse_cards(board).tolist()) if board else set()
        for column, action in enumerate(table.actions):
            read = _expand(strings[action.token])
            assert not any(combo & blocked for combo in read if read[combo] > 0)
            for k, label in enumerate(hands.labels):
                if hands.combos[k] == 0:
                    continue
                got = read.get(_combo(label), 0.0)
                expected = reach[k] * table.probabilities[row[label], column]
                assert got == pytest.approx(expected, abs=6e-4), (action.token, label)
                total[k] += got
        live = hands.combos > 0
        np.testing.assert_allclose(total[live], reach[live], atol=6e-4 * len(table.actions))


def test_range_string_syntax():
    blueprint = random_blueprint(hu_game(), HU_RULES, seed=1)
    hands = blueprint.hands(0)
    weights = np.zeros(1326)
    position = {label: k for k, label in enumerate(hands.labels)}
    for combo in ("AsAh", "AdAc", "AsAd", "AhAc", "AsAc", "AhAd"):
        weights[position[combo] if combo in position else position[combo[2:] + combo[:2]]] = 1.0
    for combo in ("AsKs", "AhKh", "AdKd", "AcKc"):
        weights[position[combo]] = 0.75
    weights[position["KsQh"]] = 0.4
    assert range_string(hands, weights) == "AA,AKs:0.75,KsQh:0.4"
    assert parse_cards("KsQh").tolist() == [47, 42]


def test_strategy_csv():
    blueprint = random_blueprint(hu_game(flop_buckets=4), HU_RULES, seed=2)
    table = blueprint.strategies("r3 c", board="AhKd7c")
    text = strategy_csv(table, blueprint.tree.game.bucket_labels[1])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["hand", "bucket", "bucket_label", "action", "label", "probability"]
    assert len(rows) == len(table.hands) * len(table.actions)
    first = [r for r in rows if r["hand"] == table.hands[0]]
    assert sum(float(r["probability"]) for r in first) == pytest.approx(1.0, abs=1e-5)
