"""Kuhn and Leduc compile to the trees OpenSpiel plays."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.errors import GameError
from holdemd.games.compiled import CHECK_CALL, FOLD, FOLDED, RAISE, SHOWDOWN
from holdemd.games.factory import make_game


def _node(game, history: str) -> int:
    return game.histories.index(history)


def test_kuhn_has_12_infosets_and_its_five_terminal_histories():
    g = make_game("kuhn")
    assert g.num_rows == 12
    terminals = {
        g.histories[n]: int(g.arrays.node_terminal[n])
        for n in range(g.num_nodes)
        if g.arrays.node_player[n] < 0
    }
    assert terminals == {
        "pp": SHOWDOWN,
        "pbp": FOLDED,
        "pbb": SHOWDOWN,
        "bp": FOLDED,
        "bb": SHOWDOWN,
    }
    assert g.arrays.node_contrib[_node(g, "pbb")].tolist() == [2.0, 2.0]
    assert g.arrays.node_alive[_node(g, "pbp")].tolist() == [0, 1]


def test_leduc_has_288_rank_only_infosets():
    g = make_game("leduc")
    assert g.num_rows == 288
    # 6 decision nodes in round 1 (3 private ranks) and 5 x 6 in round 2 (9 rank pairs).
    streets = g.arrays.node_street[g.decision_nodes()]
    assert (streets == 0).sum() == 6 and (streets == 1).sum() == 30


def test_leduc_betting_rules():
    g = make_game("leduc")
    a = g.arrays
    root = _node(g, "")
    # No fold when not facing a bet; check and raise of 2.
    assert a.node_action_kind[root, :2].tolist() == [CHECK_CALL, RAISE]
    assert a.node_num_actions[root] == 2
    # Facing the second raise of the round: fold or call only (the first bet counts).
    capped = _node(g, "rr")
    assert a.node_action_kind[capped, : a.node_num_actions[capped]].tolist() == [FOLD, CHECK_CALL]
    assert a.node_contrib[capped].tolist() == [3.0, 5.0]
    # Round 2 raises are 4 and player 0 acts first again.
    r2 = _node(g, "rc/r")
    assert a.node_player[r2] == 1 and a.node_contrib[r2].tolist() == [7.0, 3.0]
    assert a.node_player[_node(g, "rc/")] == 0
    # The largest pot: both raise twice in both rounds.
    assert a.node_contrib[_node(g, "rrc/rrc")].tolist() == [13.0, 13.0]
    assert g.utility_scale == 13.0


def test_infoset_keys_follow_the_export_format():
    g = make_game("leduc")
    assert g.infoset_key(_node(g, "rc/r"), 3 * 0 + 2) == "JK:rc/r"
    assert g.infoset_key(_node(g, "r"), 1) == "Q:r"
    k = make_game("kuhn")
    assert k.infoset_key(_node(k, "pb"), 0) == "J:pb"


def test_unknown_game_is_a_game_error():
    with pytest.raises(GameError, match="unknown game 'poker'; known games: kuhn, leduc"):
        make_game("poker")


def test_children_point_forward_in_preorder():
    for name in ("kuhn", "leduc"):
        a = make_game(name).arrays
        for n in np.flatnonzero(a.node_player >= 0):
            kids = a.node_children[n, : a.node_num_actions[n]]
            assert (kids > n).all()
            assert (a.node_depth[kids] == a.node_depth[n] + 1).all()
