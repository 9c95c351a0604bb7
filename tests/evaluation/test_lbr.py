"""Local best response: against a pure-Python reference, and below the exact best response."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from holdemd.cards import parse_cards, rank7
from holdemd.config.loader import load_config
from holdemd.errors import UsageError
from holdemd.evaluation.lbr import check_lbr_game, local_best_response, menu_mask
from holdemd.evaluation.policies import Policy, blueprint_policy, call_bot, row_probabilities
from holdemd.evaluation.stats import Unit, duplicate_estimate
from holdemd.games.compiled import CHECK_CALL, FOLD, RAISE, Game
from holdemd.games.factory import build_game, make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.kernels.deal import deal_outcome, hole_pair_bucket
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.needs_jit(reason="thousands of LBR hands need the compiled kernels")


@pytest.fixture(scope="module")
def tiny() -> Game:
    return build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)


@pytest.fixture(scope="module")
def trained(tiny) -> Policy:
    tables = Tables.zeros(tiny)
    ExternalSamplingMCCFR(tiny, tables, seed=1).run(20_000)
    return blueprint_policy("trained", tables.strategy_sum)


def _mixed_policy(game: Game, seed: int) -> Policy:
    rng = np.random.default_rng(seed)
    weights = rng.random((game.num_rows, game.max_actions)).astype(np.float32) ** 3
    return blueprint_policy(f"mixed{seed}", weights)


# -- a pure-Python LBR on the fixed-board game, exact over cards and the blueprint's actions --


def _probabilities(policy: Policy, game: Game, node: int, bucket: int) -> list[float]:
    """`policies.action_probabilities`, in the same order of operations."""
    n = int(game.arrays.node_num_actions[node])
    index = node if policy.by_node else int(game.arrays.node_row_base[node]) + bucket
    weights = [max(float(w), 0.0) for w in policy.weights[index, :n]]
    total = 0.0
    for w in weights:
        total += w
    return [w * (1.0 / total) for w in weights] if total > 0 else [1.0 / n] * n


def _normalized(weight: list[float]) -> list[float]:
    total = 0.0
    for w in weight:
        total += w
    return [w / total for w in weight] if total > 0 else weight


def reference_lbr(game: Game, policy: Policy, preflop: str = "greedy") -> float:
    """LBR's exact value (chips, mean over its two seats) on a fixed-board game."""
    a = game.arrays
    board = a.fixed_board.tolist()
    pairs = list(combinations(a.deck.tolist(), 2))
    slot = a.card_slot

    def bucket(pair: tuple[int, int]) -> int:
        hi, lo = max(slot[pair[0]], slot[pair[1]]), min(slot[pair[0]], slot[pair[1]])
        return int(hi * (hi - 1) // 2 + lo)

    rank = {p: int(rank7(np.array([[*p, *board]]))[0]) for p in pairs}

    def value(me: int, hand: tuple[int, int]) -> float:
        them = 1 - me
        equity = [
            1.0 if rank[hand] > rank[p] else 0.5 if rank[hand] == rank[p] else 0.0 for p in pairs
        ]

        def expected_equity(weight: list[float]) -> float:
            total = won = 0.0
            for k, w in enumerate(weight):
                if w > 0:
                    total += w
                    won += w * equity[k]
            return won / total

        def terminal(node: int, weight: list[float]) -> float:
            if a.node_alive[node, me] == 0:
                return -float(a.node_contrib[node, me])
            if a.node_alive[node, them] == 0:
                return float(a.node_contrib[node, them])
            stake = float(min(a.node_contrib[node, 0], a.node_contrib[node, 1]))
            return stake * (2.0 * expected_equity(weight) - 1.0)

        def choose(node: int, weight: list[float]) -> int:
            n = int(a.node_num_actions[node])
            wp = 0.0
            for k, w in enumerate(weight):
                wp += w * equity[k]
            mine, theirs = float(a.node_contrib[node, me]), float(a.node_contrib[node, them])
            has_fold = a.node_action_kind[node, 0] == FOLD
            order = [*range(1, n), 0] if has_fold else list(range(n))
            best, best_action = -np.inf, 0
            for act in order:
                kind, amount = a.node_action_kind[node, act], float(a.node_action_amount[node, act])
                if kind == RAISE and preflop == "fold-call" and a.node_street[node] == 0:
                    continue
                if kind == FOLD:
                    v = -mine
                elif kind == CHECK_CALL:
                    v = (2.0 * wp - 1.0) * min(amount, theirs)
                else:
                    child = int(a.node_children[node, act])
                    kinds = a.node_action_kind[child, : a.node_num_actions[child]].tolist()
                    fold_at = kinds.index(FOLD) if FOLD in kinds else -1
                    folds = calls = calls_won = 0.0
                    for k, w in enumerate(weight):
                        if w <= 0:
                            continue
                        f = _probabilities(policy, game, child, bucket(pairs[k]))[fold_at]
                        f = f if fold_at >= 0 else 0.0
                        folds += w * f
                        calls += w * (1.0 - f)
                        calls_won += w * (1.0 - f) * equity[k]
                    wp_call = calls_won / calls if calls > 0 else 0.0
                    v = folds * theirs + calls * (2.0 * wp_call - 1.0) * amount
                if v > best:
                    best, best_action = v, act
            return best_action

        def walk(node: int, weight: list[float]) -> float:
            if a.node_player[node] < 0:
                return terminal(node, weight)
            n = int(a.node_num_actions[node])
            if a.node_player[node] == me:
                if preflop == "call" and a.node_street[node] == 0:
                    act = 0 if a.node_action_kind[node, 0] == CHECK_CALL else 1
                    return walk(int(a.node_children[node, act]), weight)
                return walk(int(a.node_children[node, choose(node, weight)]), weight)
            probs = [
                _probabilities(policy, game, node, bucket(p)) if w > 0 else [0.0] * n
                for p, w in zip(pairs, weight, strict=True)
            ]
            total = 0.0
            for act in range(n):
                marginal = sum(w * probs[k][act] for k, w in enumerate(weight))
                if marginal > 0:
                    after = _normalized([w * probs[k][act] for k, w in enumerate(weight)])
                    total += marginal * walk(int(a.node_children[node, act]), after)
            return total

        start = _normalized([0.0 if set(p) & set(hand) else 1.0 for p in pairs])
        return walk(0, start)

    seats = [np.mean([value(me, hand) for hand in pairs]) for me in (0, 1)]
    return float(np.mean(seats))


# -- tests --------------------------------------------------------------------------------


def test_lbr_kernel_agrees_with_the_exact_reference(tiny, trained):
    for policy in (trained, _mixed_policy(tiny, 3)):
        values, counts = local_best_response(tiny, policy, 6000, seed=2)
        estimate = duplicate_estimate(values, Unit("chips", 1.0))
        want = reference_lbr(tiny, policy)
        assert abs(estimate.mean - want) < 1.5 * estimate.half_width, policy.name
        assert counts[0] == counts[1:].sum() > 0


@pytest.mark.parametrize("preflop", ["call", "fold-call"])
def test_lbr_preflop_variants_agree_with_the_reference(tiny, preflop):
    policy = _mixed_policy(tiny, 8)
    values, _ = local_best_response(tiny, policy, 6000, seed=3, preflop=preflop)
    estimate = duplicate_estimate(values, Unit("chips", 1.0))
    want = reference_lbr(tiny, policy, preflop)
    assert abs(estimate.mean - want) < 1.5 * estimate.half_width
    assert want != pytest.approx(reference_lbr(tiny, policy), abs=0.5)  # the variants differ


def test_lbr_is_a_lower_bound_on_the_exact_best_response(tiny, trained):
    unit = Unit.of(tiny)
    evaluator = ExactEvaluator(tiny)
    for policy in (trained, _mixed_policy(tiny, 4), call_bot(tiny)):
        values, _ = local_best_response(tiny, policy, 4000, seed=5)
        estimate = duplicate_estimate(values, unit)
        exploitability = evaluator.exploitability(row_probabilities(tiny, policy)) * unit.per_chip
        assert estimate.low <= exploitability, policy.name


def test_lbr_exploits_a_calling_station(tiny):
    values, counts = local_best_response(tiny, call_bot(tiny), 4000, seed=6)
    estimate = duplicate_estimate(values, Unit.of(tiny))
    assert estimate.low > 1000  # mbb/hand: LBR value-bets every strong hand
    assert counts[3] > 0  # it bets


def test_lbr_needs_heads_up_holdem():
    with pytest.raises(UsageError, match=r"--lbr: .*heads-up Hold'em, this run is leduc"):
        check_lbr_game(make_game("leduc"))
    config = load_config(ROOT / "configs" / "holdem_tiny.yaml")
    from dataclasses import replace

    three = build_game(replace(config.game, players=3, max_raises=config.game.max_raises))
    with pytest.raises(UsageError, match=r"--lbr: .*needs a heads-up game, .* 3 players"):
        check_lbr_game(three)


def test_menu_maps_fractions_to_the_nearest_tree_bet(tiny):
    a = tiny.arrays
    every = menu_mask(tiny, None)
    assert (every == (a.node_action_kind >= 0)).all()
    only_allin = menu_mask(tiny, [], allin=True)
    for node in tiny.decision_nodes():
        raises = np.flatnonzero(a.node_action_kind[node] == RAISE)
        allowed = np.flatnonzero(only_allin[node] & (a.node_action_kind[node] == RAISE))
        assert allowed.tolist() == raises[-1:].tolist()
    # The tiny tree bets the pot: asking for 0.9 pot picks that bet wherever it is offered.
    near_pot = menu_mask(tiny, [0.9], allin=False)
    root_raises = np.flatnonzero(a.node_action_kind[0] == RAISE)
    assert near_pot[0, root_raises[0]] and not near_pot[0, root_raises[-1]]


def test_pair_buckets_match_the_deal_kernel():
    hunl = build_game(load_config(ROOT / "configs" / "hunl_quick.yaml").game, "quick")
    rng = np.random.default_rng(0)
    buckets = np.zeros((2, 4), dtype=np.int64)
    ranks = np.zeros(2, dtype=np.int64)
    from holdemd.cards import suit_rank_bit

    for _ in range(50):
        cards = rng.permutation(52)[:9].astype(np.int64)
        deal_outcome(hunl.arrays, cards, buckets, ranks)
        for street, shown in enumerate((0, 3, 4, 5)):
            bits = 0
            for c in cards[4 : 4 + shown]:
                bits |= int(suit_rank_bit(c))
            got = hole_pair_bucket(hunl.arrays, street, cards[2], cards[3], np.int64(bits))
            assert got == buckets[1, street]
    # And in the fixed-board game, the pair index of the deal kernel.
    tiny = build_game(load_config(ROOT / "configs" / "holdem_tiny.yaml").game)
    hole = parse_cards("Td As").astype(np.int64)
    cards = np.array([*hole, *parse_cards("Ks 3s")], dtype=np.int64)
    deal_outcome(tiny.arrays, cards, buckets, ranks)
    assert hole_pair_bucket(tiny.arrays, 2, hole[0], hole[1], np.int64(0)) == buckets[0, 2]
