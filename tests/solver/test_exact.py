"""Exact evaluation against game-theoretic oracles."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.games.factory import make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.full_width import CFRPlusSolver
from holdemd.solver.tables import uniform_strategy


@pytest.mark.parametrize(("name", "expected"), [("kuhn", 0.458333), ("leduc", 2.373611)])
def test_uniform_policy_exploitability(name, expected):
    g = make_game(name)
    assert ExactEvaluator(g).exploitability(uniform_strategy(g)) == pytest.approx(
        expected, abs=1e-6
    )


def _kuhn_equilibrium(alpha: float) -> np.ndarray:
    """Kuhn's analytic equilibrium family (Kuhn 1950), rows as (node, card) -> [pass, bet]."""
    g = make_game("kuhn")
    bet = {  # probability of the second action ("bet"/"call") at each infoset
        "J:": alpha,
        "Q:": 0.0,
        "K:": 3 * alpha,
        "J:p": 1 / 3,
        "Q:p": 0.0,
        "K:p": 1.0,
        "J:b": 0.0,
        "Q:b": 1 / 3,
        "K:b": 1.0,
        "J:pb": 0.0,
        "Q:pb": alpha + 1 / 3,
        "K:pb": 1.0,
    }
    policy = np.zeros((g.num_rows, 2))
    for node in g.decision_nodes():
        for card in range(3):
            p = bet[g.infoset_key(int(node), card)]
            policy[g.row_of(int(node), card)] = [1 - p, p]
    return policy


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1 / 3])
def test_kuhn_analytic_equilibria_have_value_minus_one_eighteenth_and_no_exploit(alpha):
    ev = ExactEvaluator(make_game("kuhn"))
    policy = _kuhn_equilibrium(alpha)
    assert ev.game_value(policy) == pytest.approx(-1 / 18, abs=1e-12)
    assert ev.exploitability(policy) == pytest.approx(0.0, abs=1e-12)


def test_best_response_beats_any_fixed_kuhn_strategy_by_its_exploitability():
    ev = ExactEvaluator(make_game("kuhn"))
    policy = _kuhn_equilibrium(0.2)
    policy[:, :] = policy[::-1]  # scramble: a clearly exploitable profile
    br0 = ev.best_response_value(policy, 0)
    br1 = ev.best_response_value(policy, 1)
    values = ev.expected_values(policy)
    assert br0 >= values[0] - 1e-12 and br1 >= values[1] - 1e-12
    assert ev.exploitability(policy) == pytest.approx((br0 + br1) / 2)


def test_full_width_cfr_plus_solves_kuhn():
    solver = CFRPlusSolver(make_game("kuhn"))
    solver.iterate(300)
    policy = solver.average_policy()
    assert solver.evaluator.game_value(policy) == pytest.approx(-1 / 18, abs=1e-3)
    assert solver.evaluator.exploitability(policy) < 1e-3


def test_full_width_cfr_plus_solves_leduc():
    solver = CFRPlusSolver(make_game("leduc"))
    solver.iterate(300)
    policy = solver.average_policy()
    assert solver.evaluator.game_value(policy) == pytest.approx(-0.085606424078, abs=2e-3)
    assert solver.evaluator.exploitability(policy) < 5e-3
