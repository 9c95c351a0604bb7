"""Head-to-head play: duplicate deals cancel luck, and estimates agree with exact values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from holdemd.config.loader import load_config
from holdemd.evaluation.match import play_match, subtree_ends
from holdemd.evaluation.policies import (
    Policy,
    blueprint_policy,
    call_bot,
    raise_bot,
    random_bot,
    row_probabilities,
)
from holdemd.evaluation.setup import exact_match_value
from holdemd.evaluation.stats import Unit, duplicate_estimate
from holdemd.games.compiled import CHECK_CALL, RAISE, Game
from holdemd.games.factory import build_game, make_game

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.needs_jit(reason="thousands of deals need the compiled kernels")


def _mixed_policy(game: Game, seed: int) -> Policy:
    """A blueprint-like policy: random weights per infoset row, some rows never trained."""
    rng = np.random.default_rng(seed)
    weights = rng.random((game.num_rows, game.max_actions)).astype(np.float32) ** 3
    weights[rng.random(game.num_rows) < 0.1] = 0.0  # all-zero rows read as uniform
    return blueprint_policy(f"mixed{seed}", weights)


@pytest.fixture(scope="module")
def tiny() -> Game:
    return build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)


def test_bots_are_the_policies_they_say(tiny):
    kinds = tiny.arrays.node_action_kind
    decisions = tiny.decision_nodes()
    call = call_bot(tiny).weights[decisions]
    assert (kinds[decisions][call > 0] == CHECK_CALL).all() and (call.sum(axis=1) == 1).all()
    raises = raise_bot(tiny).weights[decisions]
    chosen = raises.argmax(axis=1)
    can_raise = (kinds[decisions] == RAISE).any(axis=1)
    first_raise = (kinds[decisions] == RAISE).argmax(axis=1)
    assert (chosen[can_raise] == first_raise[can_raise]).all()
    assert (kinds[decisions][~can_raise, chosen[~can_raise]] == CHECK_CALL).all()
    uniform = row_probabilities(tiny, random_bot(tiny))
    assert np.allclose(uniform.sum(axis=1), 1.0)


def test_subtree_ends_bound_each_subtree(tiny):
    ends = subtree_ends(tiny)
    a = tiny.arrays
    for node in tiny.decision_nodes()[:50]:
        for i in range(int(a.node_num_actions[node])):
            child = int(a.node_children[node, i])
            assert node < child < ends[node] and ends[child] <= ends[node]


@pytest.mark.parametrize("expected", [True, False])
def test_a_policy_against_itself_scores_zero_per_duplicate_deal(tiny, expected):
    hero = _mixed_policy(tiny, 1)
    values = play_match(tiny, hero, hero, 3000, seed=5, expected=expected)
    estimate = duplicate_estimate(values, Unit.of(tiny))
    assert np.abs(values.sum(axis=1)).max() < 1e-9  # each deal's two plays mirror each other
    assert estimate.mean == pytest.approx(0.0, abs=1e-9)
    # Without the pairing the same hands would give a wide interval.
    assert estimate.half_width < 1e-9 and estimate.half_width_single > 10.0


@pytest.mark.parametrize("game_name", ["kuhn", "leduc"])
@pytest.mark.parametrize("expected", [True, False])
def test_match_estimates_agree_with_exact_values(game_name, expected):
    game = make_game(game_name)
    hero = _mixed_policy(game, 2)
    for opponent in (random_bot(game), call_bot(game), _mixed_policy(game, 3)):
        values = play_match(game, hero, opponent, 40_000, seed=11, expected=expected)
        estimate = duplicate_estimate(values, Unit.of(game))
        exact = exact_match_value(game, hero, opponent)
        # A 95% interval misses 1 time in 20; 1.5x its width makes a flaky failure rare.
        assert abs(estimate.mean - exact) < 1.5 * estimate.half_width, opponent.name


def test_fixed_board_estimate_agrees_with_exact_value(tiny):
    hero, opponent = _mixed_policy(tiny, 4), _mixed_policy(tiny, 5)
    values = play_match(tiny, hero, opponent, 20_000, seed=3)
    estimate = duplicate_estimate(values, Unit.of(tiny))
    exact = exact_match_value(tiny, hero, opponent) * Unit.of(tiny).per_chip
    assert estimate.unit == "mbb/hand"
    assert abs(estimate.mean - exact) < 1.5 * estimate.half_width


def test_deals_do_not_depend_on_the_policies(tiny):
    """Every opponent meets the same deals (common random numbers across opponents)."""
    hero = _mixed_policy(tiny, 6)
    first = play_match(tiny, hero, call_bot(tiny), 200, seed=9, expected=False)
    again = play_match(tiny, hero, call_bot(tiny), 200, seed=9, expected=False)
    assert np.array_equal(first, again)
    # Against a bot that always calls, the hero's payoff is fixed by the cards alone when it
    # also always calls: both plays of a deal see the same showdown.
    calls = play_match(tiny, call_bot(tiny), call_bot(tiny), 200, seed=9)
    other = play_match(tiny, call_bot(tiny), call_bot(tiny), 200, seed=9, expected=False)
    assert np.array_equal(calls, other)


@pytest.fixture(scope="module")
def hunl() -> Game:
    return build_game(load_config(ROOT / "configs" / "hunl_quick.yaml").game, "quick")


class TestHeadsUpHoldem:
    def test_sampled_play_matches_the_full_walk_on_the_same_deals(self, hunl):
        hero, opponent = _mixed_policy(hunl, 7), random_bot(hunl)
        walked = play_match(hunl, hero, opponent, 300, seed=4, expected=True)
        sampled = play_match(hunl, hero, opponent, 300, seed=4, expected=False)
        # Same deals (same seed): only the action sampling differs, so the gap is that noise.
        gap = duplicate_estimate(sampled - walked, Unit("chips", 1.0))
        assert abs(gap.mean) < 1.5 * gap.half_width

    def test_min_raiser_breaks_even_against_a_calling_station(self, hunl):
        """Every hand reaches a showdown whose stake depends on the seats only, so the cards
        decide: zero in expectation, and duplicate deals cancel most of the luck (all-in EV
        scores the all-ins by equity)."""
        values = play_match(hunl, raise_bot(hunl), call_bot(hunl), 4000, seed=1)
        estimate = duplicate_estimate(values, Unit.of(hunl))
        assert abs(estimate.mean) <= 1.5 * estimate.half_width
        assert estimate.half_width < 0.5 * estimate.half_width_single


def test_three_seats_rotate_the_hero_through_every_seat():
    config = load_config(ROOT / "configs" / "holdem_tiny.yaml")
    from dataclasses import replace

    game = build_game(replace(config.game, players=3))
    hero, opponent = _mixed_policy(game, 12), call_bot(game)
    mirrored = play_match(game, hero, hero, 500, seed=1)
    assert mirrored.shape == (500, 3) and np.abs(mirrored.sum(axis=1)).max() < 1e-9
    values = play_match(game, hero, opponent, 4000, seed=2)
    estimate = duplicate_estimate(values, Unit.of(game))
    exact = exact_match_value(game, hero, opponent) * Unit.of(game).per_chip
    assert abs(estimate.mean - exact) < 1.5 * estimate.half_width
