"""The Blueprint API: look-ups by history and by node, the fast walk against the full walk,
translation branches, sampling, batch look-ups."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd import Blueprint
from holdemd.blueprint.walk import decisions_for
from holdemd.errors import UsageError
from holdemd.games.factory import build_game, make_game, nolimit_rules
from tests.lookup.games import (
    HU_RULES,
    SIX_MAX_RULES,
    hu_game,
    random_blueprint,
    six_max_game,
    tiny_config,
)


@pytest.fixture(scope="module")
def hu() -> Blueprint:
    return random_blueprint(hu_game(flop_buckets=5), HU_RULES, seed=3)


@pytest.fixture(scope="module")
def blueprints(hu) -> dict[str, Blueprint]:
    tiny = tiny_config()
    return {
        "hu": hu,
        "six_max": random_blueprint(six_max_game(), SIX_MAX_RULES, seed=4),
        "tiny": random_blueprint(build_game(tiny), nolimit_rules(tiny), seed=5),
        "kuhn": random_blueprint(make_game("kuhn"), None, seed=6),
        "leduc": random_blueprint(make_game("leduc"), None, seed=7),
    }


def _slow(blueprint: Blueprint, history: str) -> list[tuple[int, float]] | str:
    try:
        spots = decisions_for(blueprint.tree, history, None)
    except UsageError as exc:
        return str(exc)
    return sorted(((s.node, s.weight) for s in spots), key=lambda x: -x[1])


def _fast(blueprint: Blueprint, history: str) -> list[tuple[int, float]] | str:
    try:
        return [(d.node, d.weight) for d in blueprint.decisions(history)]
    except UsageError as exc:
        return str(exc)


def _spellings(blueprint: Blueprint, history: str, rng: np.random.Generator) -> list[str]:
    """The canonical history and other ways people write it."""
    out = [history, history.replace("r", "b"), history.replace(" / ", " ").replace("/", "")]
    out.append(
        " ".join(t + "bb" if t[:1] in "br" and t[1:2].isdigit() else t for t in history.split())
    )
    out.append(history.replace("k", "x") + " c")
    tokens = history.split()
    if tokens:
        k = int(rng.integers(len(tokens)))
        out.append(" ".join([*tokens[:k], "r1.3p", *tokens[k + 1 :]]))
    return out


@pytest.mark.parametrize("name", ["hu", "six_max", "tiny", "kuhn", "leduc"])
def test_fast_walk_agrees_with_the_full_walk(blueprints, name):
    blueprint = blueprints[name]
    game = blueprint.tree.game
    rng = np.random.default_rng(11)
    nodes = game.decision_nodes()
    for node in rng.choice(nodes, size=min(len(nodes), 300), replace=False):
        decision = blueprint.decision_at(int(node))
        for text in _spellings(blueprint, decision.history, rng):
            assert _fast(blueprint, text) == _slow(blueprint, text), text
        assert blueprint.decision(decision.history).node == node
    junk = ["", "f", "k k k", "a a", "r2 r2", "c / c / c", "b0.5p b0.5p", "r3 c / k b6 c k k", "zz"]
    for text in junk:
        assert _fast(blueprint, text) == _slow(blueprint, text), text


def test_strategy_by_history_is_the_row_by_node_and_bucket(hu):
    s = hu.strategy("AsKs", board="AhKd7c", history="r3 c")
    assert s.decision.history == "r3 c /" and s.decision.seat == "BB"
    by_node = hu.strategy_at(s.decision.node, s.bucket)
    np.testing.assert_array_equal(by_node.probabilities, s.probabilities)
    probs, trained = hu.probabilities(s.decision.node, [s.bucket])
    np.testing.assert_allclose(probs[0], s.probabilities)
    assert trained[0]
    assert [a.token for a in s.actions] == ["k", "b3", "b6", "b12", "a"]
    assert s.probabilities.sum() == pytest.approx(1.0)
    bet = s.actions[1]
    assert (bet.kind, bet.amount_bb, bet.pot_fraction, bet.label) == ("raise", 3.0, 0.5, "bet 3 bb")
    assert s.as_dict()["actions"][1]["amount_bb"] == 3.0
    assert s.probability("b3") == pytest.approx(float(s.probabilities[1]))


def test_by_node_errors(hu):
    with pytest.raises(UsageError, match="not a decision node"):
        hu.decision_at(10**9)
    with pytest.raises(UsageError, match="the preflop has 169 buckets"):
        hu.strategy_at(0, 169)


def test_sampling_follows_the_probabilities(hu):
    rng = np.random.default_rng(0)
    s = hu.strategy("7h2c")
    draws = [s.sample(rng).index for _ in range(20_000)]
    freq = np.bincount(draws, minlength=len(s.actions)) / len(draws)
    np.testing.assert_allclose(freq, s.probabilities, atol=0.015)
    action, strategy = hu.sample(np.random.default_rng(1), "7h2c")
    assert action in strategy.actions


def test_translated_sizes_give_weighted_branches(hu):
    text = "r3 c / x b2.7p"
    s = hu.strategy("QsQd", board="AhKd7c", history=text)
    assert [b.decision.history for b in s.branches] == ["r3 c / k b12", "r3 c / k a"]
    assert sum(b.decision.weight for b in s.branches) == pytest.approx(1.0)
    assert s.decision.translations[0].chosen == "b12" and s.decision.weight > 0.5
    assert "translated (pseudo-harmonic)" in s.decision.notes[0]
    rng = np.random.default_rng(2)
    nodes = [hu.strategy("QsQd", "AhKd7c", text, rng=rng).decision.node for _ in range(3000)]
    share = nodes.count(s.decision.node) / len(nodes)
    assert share == pytest.approx(s.decision.weight, abs=0.03)
    assert hu.strategy("QsQd", board="AhKd7c", history=text, rng=rng).branches == ()


def test_batch_equals_one_hand_at_a_time(hu):
    table = hu.strategies("r3 c", board="AhKd7c")
    assert len(table.hands) == 1326 - 3 * 51 + 3  # pairs without a board card
    rng = np.random.default_rng(4)
    for k in rng.choice(len(table.hands), size=40, replace=False):
        one = hu.strategy(table.hands[k], board="AhKd7c", history="r3 c")
        assert one.bucket == table.buckets[k]
        np.testing.assert_array_equal(one.probabilities, table.probabilities[k])
    listed = hu.strategies("r3 c", board="AhKd7c", hands=["AsAc", "7h7d"])
    assert listed.hands == ("AsAc", "7h7d") and listed.probabilities.shape == (2, 5)


def test_one_line_errors(hu):
    for call, fragment in [
        (lambda: hu.strategy("AsKs", board="AhKd", history="r3 c"), "--board 'AhKd'"),
        (lambda: hu.strategy("AsAs"), "duplicate card"),
        (lambda: hu.strategy("AsKs", history="r3 r3"), "must go above the current bet"),
        (lambda: hu.strategy("AsKs", seat="BB"), "--seat BB"),
        (lambda: hu.strategies("r3 c", board="Ah"), "--board 'Ah'"),
    ]:
        with pytest.raises(UsageError) as error:
            call()
        assert fragment in str(error.value) and "\n" not in str(error.value)
