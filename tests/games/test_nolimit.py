"""No-limit betting rules, and hand-worked payoffs read off real Hold'em trees."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.games.betting import BettingState, build_game_arrays
from holdemd.games.compiled import CHECK_CALL, DEAL_HOLDEM, FOLD, RAISE, SHOWDOWN
from holdemd.games.nolimit import NoLimitRules
from holdemd.solver.kernels.payoff import payoff

POT = (((1.0,),),) * 4


def rules(players: int, stack_bb: int = 10, menu=POT, caps=(2, 1, 1, 1)) -> NoLimitRules:
    return NoLimitRules(
        num_players=players,
        stack_chips=stack_bb * 100,
        small_blind=50,
        big_blind=100,
        ante=0,
        bet_menu=menu,
        max_raises=caps,
    )


def tree(r: NoLimitRules):
    arrays, histories, _ = build_game_arrays(
        r, (1, 1, 1, 1), DEAL_HOLDEM, tuple(range(52)), 2 * r.num_players + 5
    )
    return arrays, list(histories)


def payoffs(arrays, histories, history, ranks):
    node = histories.index(history)
    assert arrays.node_player[node] < 0, f"{history} is not terminal"
    r = np.array(ranks, dtype=np.int64)
    return [payoff(arrays.node_contrib, arrays.node_alive, node, r, p) for p in range(len(ranks))]


def test_heads_up_small_blind_acts_first_preflop_and_last_after():
    arrays, histories = tree(rules(2))
    root = histories.index("")
    assert arrays.node_player[root] == 0
    n = arrays.node_num_actions[root]
    # fold, call 100, pot raise to 300 (100 + 1.0 x (150 + 50)), all-in 1000.
    assert arrays.node_action_kind[root, :n].tolist() == [FOLD, CHECK_CALL, RAISE, RAISE]
    assert arrays.node_action_amount[root, :n].tolist() == [50, 100, 300, 1000]
    assert arrays.node_player[histories.index("r300c/")] == 1  # big blind first on the flop


def test_three_and_six_player_acting_order():
    arrays, histories = tree(rules(3))
    assert arrays.node_player[histories.index("")] == 2  # under the gun
    assert arrays.node_player[histories.index("c")] == 0  # then the small blind
    assert arrays.node_player[histories.index("cc")] == 1  # the big blind's option
    assert arrays.node_player[histories.index("cck/")] == 0  # small blind first after the flop


def test_min_raise_lifts_small_sizes_and_all_in_is_always_offered():
    r = rules(2, stack_bb=100, menu=(((0.1,), (0.1,)), ((0.1,),), ((0.1,),), ((0.1,),)))
    state = r.initial_state()
    # Opening: 0.1 pot would be a raise to 120; the minimum raise is to 200.
    assert r.raise_amounts(state) == [200.0, 10000.0]
    faced = BettingState(
        street=0,
        contrib=(500.0, 100.0),
        stacks=(10000.0,) * 2,
        alive=(True, True),
        to_act=(1,),
        raises=1,
        history=("r500",),
    )
    # Facing a raise to 500 (an increment of 400): at least a raise to 900.
    assert r.raise_amounts(faced) == [900.0, 10000.0]


def test_raise_cap_leaves_fold_and_call():
    arrays, histories = tree(rules(2, menu=(((1.0,), (1.0,)),) * 4, caps=(2, 1, 1, 1)))
    capped = histories.index("r300r900")  # the second raise preflop hits the cap of 2
    n = arrays.node_num_actions[capped]
    assert arrays.node_action_kind[capped, :n].tolist() == [FOLD, CHECK_CALL]


def test_heads_up_payoffs():
    arrays, histories = tree(rules(2))
    assert payoffs(arrays, histories, "r300f", [0, 9]) == [100, -100]  # BB folds to a raise
    assert payoffs(arrays, histories, "r300c/kk/kk/kk", [5, 3]) == [300, -300]
    assert payoffs(arrays, histories, "r300c/kk/kk/kk", [4, 4]) == [0, 0]  # split pot
    # All-in and call preflop: the board runs out, no more decisions.
    node = histories.index("ac")
    assert arrays.node_terminal[node] == SHOWDOWN
    assert payoffs(arrays, histories, "ac", [1, 2]) == [-1000, 1000]


def test_three_player_all_in_with_dead_money():
    arrays, histories = tree(rules(3))
    # UTG all-in for 1000, the small blind folds (50 dead), the big blind calls.
    assert arrays.node_contrib[histories.index("afc")].tolist() == [50, 1000, 1000]
    assert payoffs(arrays, histories, "afc", [9, 7, 3]) == [-50, 1050, -1000]
    assert payoffs(arrays, histories, "afc", [9, 5, 5]) == [-50, 25, 25]  # split: 2050 / 2


def test_six_player_three_way_all_in():
    arrays, histories = tree(rules(6, caps=(1, 1, 1, 1)))
    # UTG (2) all-in, 3 folds, 4 calls, 5 (button) folds, SB folds, BB calls.
    history = "afcffc"
    node = histories.index(history)
    assert arrays.node_contrib[node].tolist() == [50, 1000, 1000, 0, 1000, 0]
    assert payoffs(arrays, histories, history, [0, 1, 9, 0, 2, 0]) == [
        -50,
        -1000,
        2050,
        0,
        -1000,
        0,
    ]
    # Seats 2 and 4 tie for best: 3050 split two ways.
    assert payoffs(arrays, histories, history, [0, 1, 8, 0, 8, 0]) == [-50, -1000, 525, 0, 525, 0]


def test_rules_reject_bad_settings():
    with pytest.raises(ValueError, match=r"num_players must be 2\.\.6"):
        rules(7)
    with pytest.raises(ValueError, match="stack must be larger"):
        NoLimitRules(
            num_players=2,
            stack_chips=100,
            small_blind=50,
            big_blind=100,
            ante=0,
            bet_menu=POT,
            max_raises=(1, 1, 1, 1),
        )
