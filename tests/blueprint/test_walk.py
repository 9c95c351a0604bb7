"""Walking a history down the tree: labels, amounts, off-tree sizes, illegal actions, seats."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.blueprint.seats import parse_seat, seat_names
from holdemd.blueprint.tree import BettingTree
from holdemd.blueprint.walk import decision, decision_branches, follow, spot_for
from holdemd.errors import UsageError
from holdemd.games.compiled import RAISE
from holdemd.games.factory import make_game
from tests.lookup.games import HU_RULES, SIX_MAX_RULES, hu_game, six_max_game


@pytest.fixture(scope="module")
def hu():
    return BettingTree(hu_game(), HU_RULES)


@pytest.fixture(scope="module")
def six():
    return BettingTree(six_max_game(), SIX_MAX_RULES)


def _message(tree, text):
    with pytest.raises(UsageError) as error:
        decision(tree, text)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_root_actions_in_big_blinds_and_pot_fractions(hu):
    root = hu.root()
    actions = hu.actions(root)
    # Pot 1.5 bb, 0.5 to call: pot after calling 2 bb, so 0.5/1/2 pot raise to 2/3/5 bb.
    assert [a.token for a in actions] == ["f", "c", "r2", "r3", "r5", "a"]
    assert [a.label for a in actions] == [
        "fold",
        "call 0.5 bb",
        "raise to 2 bb",
        "raise to 3 bb",
        "raise to 5 bb",
        "all-in 100 bb",
    ]
    assert [a.pot_fraction for a in actions if a.kind == RAISE][:3] == [0.5, 1.0, 2.0]
    assert hu.seat(root) == "BTN" and hu.pot(root) == 150 and hu.to_call(root) == 50


def test_postflop_bets_count_the_street_only(hu):
    spot = decision(hu, "r3 c")
    assert hu.history(spot) == "r3 c /" and hu.seat(spot) == "BB"
    assert [a.token for a in hu.actions(spot)] == ["k", "b3", "b6", "b12", "a"]
    spot = decision(hu, "r3 c / k b6")
    assert hu.history(spot) == "r3 c / k b6" and hu.to_call(spot) == 600
    # Facing a 6 bb bet into 6: pot after calling 18, a pot raise is to 6 + 18 = 24 bb.
    assert [a.token for a in hu.actions(spot)] == ["f", "c", "r24", "a"]
    assert hu.actions(spot)[-1].label == "all-in 97 bb"
    assert decision(hu, "r3 c / k b1p").node == spot.node  # the same bet as a pot fraction


def test_off_tree_size_is_translated_pseudo_harmonically_and_says_so(hu):
    # 2.7x pot when the menu has 0.5 / 1 / 2 pot and all-in (97 bb into 6: 16.17x pot).
    a, b, x = 2.0, 97 / 6, 2.7
    p_a = (b - x) * (1 + a) / ((b - a) * (1 + x))
    spots = decision_branches(hu, "r3 c / x b2.7p")
    assert [hu.history(s) for s in spots] == ["r3 c / k b12", "r3 c / k a"]
    assert [s.weight for s in spots] == pytest.approx([p_a, 1 - p_a])
    assert spots[0].notes == (
        "b2.7p (bet 16.2 bb, 2.70x pot) is not on the tree; translated (pseudo-harmonic) to "
        "b12 (bet 12 bb, 2.00x pot) with probability 0.77 and a (all-in 97 bb, 16.17x pot) "
        "with probability 0.23: this branch takes b12",
    )
    (translation,) = spots[1].translations
    assert translation.fraction == pytest.approx(2.7) and translation.chosen.token == "a"
    assert [(act.token, p) for act, p in translation.options] == [
        ("b12", pytest.approx(p_a)),
        ("a", pytest.approx(1 - p_a)),
    ]
    # Without a generator the more likely branch; with one, each branch as often as its weight.
    assert hu.history(decision(hu, "r3 c / x b2.7p")) == "r3 c / k b12"
    rng = np.random.default_rng(3)
    taken = [hu.history(decision(hu, "r3 c / x b2.7p", rng)) for _ in range(2000)]
    assert taken.count("r3 c / k b12") / 2000 == pytest.approx(p_a, abs=0.03)
    # 2.4 bb preflop is 0.7x pot, between 0.5 pot (r2) and pot (r3).
    assert [hu.history(s) for s in decision_branches(hu, "r2.4")] == ["r2", "r3"]
    assert decision(hu, "r2").notes == () and decision(hu, "r2").weight == 1.0  # on the tree
    # Below the smallest tree size: the smallest, with probability 1.
    (small,) = decision_branches(hu, "r3 c / k b0.2p")
    assert hu.history(small) == "r3 c / k b3" and small.weight == 1.0
    assert "smaller than the tree's smallest size: mapped to b3" in small.notes[0]


def test_a_translated_branch_that_cannot_continue_is_dropped(hu):
    # Translated to all-in, the call ends the betting: no flop decision follows on that branch.
    (spot,) = decision_branches(hu, "r3 c / x b2.7p c / k")
    assert hu.history(spot) == "r3 c / k b12 c / k" and spot.weight == 1.0
    assert "other branch (0.23 of the weight) cannot reach this point" in spot.notes[-1]


def test_all_in_when_calling_is_all_in(hu):
    spot = decision(hu, "a")
    assert hu.seat(spot) == "BB" and [a.token for a in hu.actions(spot)] == ["f", "c"]
    end = follow(hu, "a a")  # BB's "all-in" is a call: the hand goes to showdown
    assert hu.is_terminal(end) and hu.history(end) == "a c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "k",
            "'k' is illegal at the start of the hand: BTN faces a bet (0.5 bb to call): use c, f or a raise",
        ),
        ("r3 c / f", "'f' is illegal after 'r3 c /': BB can check (k); there is no bet to fold to"),
        ("r3 r4", "'r4' is illegal after 'r3': the minimum raise is to 5 bb (r5) or all-in (a)"),
        (
            "r3 r3",
            "'r3' is illegal after 'r3': a bet or raise must go above the current bet of 3 bb on this street",
        ),
        (
            "r250",
            "'r250' is illegal at the start of the hand: BTN can put in at most 100 bb on this street (all-in: a); amounts are big blinds, or pot fractions with p (e.g. r0.5p)",
        ),
        ("a c k", "the hand is over after 'a c' (showdown); nothing can follow"),
        (
            "r3 f",
            "no decision is left: the hand is over after 'r3 f' (BTN wins the pot uncontested)",
        ),
        ("r3 / c", "'/' after 'r3' comes before the preflop betting is over (BB to act)"),
        ("r3 c p", "unknown action 'p'; write actions like"),
        (
            "r3 c / k b",
            "'b' needs a size: b2.5 (big blinds on this street) or b0.5p (pot fraction)",
        ),
        ("c2", "'c2': only b and r take an amount"),
    ],
)
def test_illegal_histories_get_one_line(hu, text, expected):
    message = _message(hu, text)
    assert message.startswith(f"--history {text!r}: ")
    assert expected in message


def test_raises_past_the_tree_cap_are_off_the_tree(hu):
    # max_raises turn = 1: after a bet, the abstraction has no raise (the real game does).
    message = _message(hu, "r3 c / k k / b6 r20")
    assert message == (
        "--history 'r3 c / k k / b6 r20': 'r20' after 'r3 c / k k / b6' is off the abstraction "
        "tree: it allows 1 bets and raises on the turn (game.max_raises.turn), so the "
        "blueprint can only call or fold here"
    )


def test_limit_game_letters_and_aliases():
    tree = BettingTree(make_game("leduc"))
    assert tree.history(decision(tree, "rc/r")) == "rc/r"
    assert tree.history(decision(tree, "r c / b")) == "rc/r"  # b bets
    assert tree.history(decision(tree, "x")) == "c"  # x checks
    message = _message(tree, "r k")
    assert message == (
        "--history 'r k': 'k' is illegal after 'r': P1 can play f (fold), c (call), r (raise)"
    )
    assert "fixed bet sizes" in _message(tree, "r2")
    kuhn = BettingTree(make_game("kuhn"))
    assert kuhn.history(decision(kuhn, "b")) == "b"
    assert [a.label for a in kuhn.actions(decision(kuhn, "b"))] == ["fold", "call"]


def test_seat_names_follow_the_nolimit_seat_order():
    assert seat_names("holdem", 2) == ("BTN", "BB")
    assert seat_names("holdem", 6) == ("SB", "BB", "UTG", "HJ", "CO", "BTN")
    assert seat_names("leduc", 2) == ("P0", "P1")
    assert parse_seat("sb", "holdem", 2) == 0 and parse_seat("btn", "holdem", 2) == 0
    assert parse_seat("co", "holdem", 6) == 4 and parse_seat("5", "holdem", 6) == 5
    with pytest.raises(UsageError) as error:
        parse_seat("UTG", "holdem", 2)
    assert str(error.value) == "--seat UTG: no such seat in 2-player holdem; use one of BTN, BB"


def test_six_max_seat_without_history_is_the_fold_to_decision(six):
    root = six.root()
    assert six.seat(root) == "UTG" and six.pot(root) == 150 + 60  # blinds and six antes
    spot = spot_for(six, None, "BTN")
    assert six.history(spot) == "f f f" and six.seat(spot) == "BTN"
    # Preflop bets count the blinds but not the antes: pot 2.1 bb, 1 to call, so a pot raise
    # is to 1 + 3.1 = 4.1 bb.
    assert [a.token for a in six.actions(spot)] == ["f", "c", "r4.1", "a"]
    assert six.seat(spot_for(six, None, "SB")) == "SB"
    with pytest.raises(UsageError) as error:
        spot_for(six, None, "BB")
    assert str(error.value) == (
        "--seat BB: if everyone before BB folds, the hand ends before BB acts; give the "
        "actions before its decision with --history, e.g. --history 'f f f f r3.6'"
    )


def test_seat_with_history_must_be_the_player_to_act(hu):
    assert hu.seat(spot_for(hu, "r3", "BB")) == "BB"
    with pytest.raises(UsageError) as error:
        spot_for(hu, "r3", "BTN")
    assert str(error.value) == (
        "--seat BTN: after 'r3' (--history 'r3') BB acts, not BTN; drop --seat or change --history"
    )
    with pytest.raises(UsageError) as error:
        spot_for(hu, None, "BB")
    assert "--history 'r2'" in str(error.value)
