"""`strategy show` reads the same probabilities as the tables and the export, for the right bucket."""

from __future__ import annotations

import json

import numpy as np
import pytest

from holdemd.blueprint.api import Blueprint
from holdemd.blueprint.hands import hand_bucket
from holdemd.cli import main
from holdemd.config.schema import GameConfig
from holdemd.errors import UsageError
from holdemd.games.factory import build_game, make_game, nolimit_rules
from holdemd.lookup.show import look_up, lookup_json, lookup_lines
from holdemd.lookup.show_text import show_lines
from holdemd.solver.tables import average_strategy
from holdemd.strategy_export import strategy_to_json
from tests.lookup.games import (
    HU_RULES,
    hu_game,
    random_blueprint,
    sums,
    tiny_config,
    trained,
    write_run,
)


@pytest.fixture(scope="module")
def leduc() -> Blueprint:
    return trained(make_game("leduc"), 3000)


def _table_row(blueprint: Blueprint, node: int, bucket: int) -> np.ndarray:
    game = blueprint.game
    n = int(game.arrays.node_num_actions[node])
    return average_strategy(game, sums(blueprint))[game.row_of(node, bucket), :n]


def test_every_kuhn_infoset_matches_the_average_strategy():
    blueprint = trained(make_game("kuhn"), 2000)
    game = blueprint.game
    for node in game.decision_nodes():
        history = game.histories[int(node)]
        for card in "JQK":
            result = look_up(blueprint, card, history=history)
            assert result.decision.node == node
            expected = _table_row(blueprint, int(node), "JQK".index(card))
            np.testing.assert_allclose(result.probabilities, expected, rtol=1e-12)
    assert look_up(blueprint, "K", history="p").decision.seat == "P1"


def test_leduc_round_two_matches_the_export(leduc):
    result = look_up(leduc, "Kh", board="q", history="r c / r")
    game = leduc.game
    assert game.histories[result.decision.node] == "rc/r"
    assert result.bucket_label == "KQ" and result.bucket == 3 * 2 + 1
    np.testing.assert_allclose(
        result.probabilities, _table_row(leduc, result.decision.node, result.bucket)
    )
    exported = strategy_to_json(game, average_strategy(game, sums(leduc)))["KQ:rc/r"]
    # Export columns are [fold, call, raise]; the look-up lists the legal actions in order.
    by_kind = {act.kind: p for act, p in zip(result.actions, result.probabilities, strict=True)}
    assert exported == pytest.approx([by_kind.get(k, 0.0) for k in ("fold", "call", "raise")])
    assert [a.token for a in result.actions] == ["f", "c", "r"]


def test_text_and_json_output(leduc):
    result = look_up(leduc, "K", board="Q", history="rc/r")
    lines = lookup_lines(leduc, result)
    assert lines[0] == "leduc, snapshot test (3,000 iterations)"
    assert lines[1] == "P1 to act in round 2 after 'rc/r': pot 10 chips, 4 chips to call"
    assert lines[2] == "hand K, board Q: private K, public Q"
    assert [line.split()[:2] for line in lines[3:6]] == [
        ["f", "fold"],
        ["c", "call"],
        ["r", "raise"],
    ]
    data = lookup_json(leduc, result)
    assert data["history"] == data["tree_history"] == "rc/r"
    assert data["seat"] == "P1" and data["bucket_label"] == "KQ" and data["trained"]
    assert sum(a["probability"] for a in data["actions"]) == pytest.approx(1.0)
    # The text is made from the JSON alone (holdemctl prints it from the daemon's reply).
    assert show_lines(json.loads(json.dumps(data))) == lines
    assert data["description"] == lines[0] and data["detail"] == "private K, public Q"


def test_fixed_board_hand_buckets_are_the_deck_pairs():
    blueprint = trained(build_game(tiny_config()), 2000, rules=nolimit_rules(tiny_config()))
    result = look_up(blueprint, "AsKs", history="c k / k")
    assert result.bucket_label == "KsAs" and result.board == "AhKd7c2s2d"
    assert result.decision.history == "c k / k"
    np.testing.assert_allclose(
        result.probabilities, _table_row(blueprint, result.decision.node, result.bucket)
    )
    with pytest.raises(UsageError, match=r"^--hand 2c3c: holdem_fixed_board deals hole cards"):
        look_up(blueprint, "2c3c")
    with pytest.raises(UsageError, match=r"^--board Qs: holdem_fixed_board has a fixed board"):
        look_up(blueprint, "AsKs", board="Qs")


def test_holdem_buckets_per_street():
    game = hu_game(flop_buckets=7)
    preflop = hand_bucket(game, 0, "AsKs")
    assert (preflop.bucket, preflop.label) == (game.bucket_labels[0].index("AKs"), "AKs")
    assert hand_bucket(game, 0, "KsAs").bucket == hand_bucket(game, 0, "AKs").bucket
    assert hand_bucket(game, 0, "72o").label == "72o"
    assert hand_bucket(game, 0, "ak s").hand == "AKs"  # a class is shown as the class
    flop = hand_bucket(game, 1, "AsKs", "AhKd7c")
    # Suit-isomorphic hands share a bucket: swap spades and clubs everywhere.
    assert hand_bucket(game, 1, "AcKc", "AhKd7s").bucket == flop.bucket
    assert flop.detail.startswith("flop bucket ") and "of 7 (hand class" in flop.detail


@pytest.mark.parametrize(
    ("hand", "board", "street", "message"),
    [
        ("AsXs", "", 0, "--hand AsXs: bad card 'Xs'"),
        ("As", "", 0, "--hand As: expected 2 cards in 'As', got 1"),
        ("AKs", "AhKd7c", 1, "--hand AKs: "),
        ("AsKs", "", 1, "--board '': the decision is on the flop, which has 3 board cards, not 0"),
        ("AsKs", "AhKd", 1, "--board 'AhKd': the decision is on the flop, which has 3 board"),
        ("AsKs", "AhKs7c", 1, "--board AhKs7c: Ks is also in --hand AsKs"),
        ("AsKs", "AhKd7c", 0, "--board 'AhKd7c': the decision is on the preflop, which has 0"),
    ],
)
def test_bad_hands_and_boards_get_one_line(hand, board, street, message):
    with pytest.raises(UsageError) as error:
        hand_bucket(hu_game(), street, hand, board)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_small_game_cards():
    leduc = make_game("leduc")
    with pytest.raises(UsageError, match=r"^--hand A: leduc cards are J, Q or K"):
        hand_bucket(leduc, 0, "A")
    with pytest.raises(UsageError, match=r"^--board: the decision is in round 2"):
        hand_bucket(leduc, 1, "K")
    with pytest.raises(UsageError, match=r"^--board Q: the public card comes after round 1"):
        hand_bucket(leduc, 0, "K", "Q")
    assert hand_bucket(leduc, 1, "K", "K").label == "KK"


def test_untrained_rows_say_they_are_uniform():
    blueprint = random_blueprint(hu_game(), HU_RULES)
    sums(blueprint)[:] = 0
    result = look_up(blueprint, "AsKs")
    assert not result.trained
    assert result.probabilities == pytest.approx([1 / 6] * 6)
    assert lookup_lines(blueprint, result)[-1].startswith("note: this infoset has no strategy sum")


def test_cli_show_and_its_errors(tmp_path, capsys):
    run = tmp_path / "run"
    blueprint = write_run(run, GameConfig(name="leduc"), 2000)
    assert main(["strategy", "show", "--run", str(run), "--hand", "Q", "--history", "r"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "leduc, snapshot it-000000002000 (2,000 iterations)"
    assert out[1] == "P1 to act in round 1 after 'r': pot 4 chips, 2 chips to call"
    argv = ["strategy", "show", "--run", str(run), "--hand", "Q", "--history", "rc", "--board"]
    assert main([*argv, "K", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    node = data["tree_history"]
    assert node == "rc/" and data["seat"] == "P0" and data["bucket_label"] == "QK"
    row = blueprint.game.row_of(blueprint.game.histories.index("rc/"), data["bucket"])
    expected = average_strategy(blueprint.game, sums(blueprint))[row, :2]
    assert [a["probability"] for a in data["actions"]] == pytest.approx(expected.tolist())
    # Errors: one line on stderr, exit code 2.
    for args, start in [
        (
            ["--hand", "Q", "--history", "rrr"],
            "holdemd: --history 'rrr': 'r' is illegal after 'rr'",
        ),
        (["--hand", "A"], "holdemd: --hand A: leduc cards are J, Q or K"),
        (["--hand", "Q", "--seat", "P1"], "holdemd: --seat P1: P1 does not act first"),
    ]:
        assert main(["strategy", "show", "--run", str(run), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith(start) and err.count("\n") == 1, err
