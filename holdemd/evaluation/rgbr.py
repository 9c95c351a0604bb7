"""Real-game best response (RGBR) on sampled boards, for heads-up Hold'em blueprints.

A *responder* sees its real hole cards and the board, plays the blueprint's own betting tree
(so the blueprint never faces an action off its tree) and maximizes its value against the
blueprint's average strategy, which plays by bucket. The responder's value, averaged over its
two seats, is the blueprint's exploitability within its betting abstraction: how much a player
who knows the real cards wins against it.

How it is computed:

* Boards: ``boards`` flops (``from_street`` 1), turns (2) or rivers (3) drawn uniformly with a
  seed, so every snapshot meets the same boards. Below the sampled street every card is
  enumerated exactly (a flop: its 49 turns x 48 rivers), so each board's value is exact for
  that board. On the fixed-board game the one known board is used and the result is exact.
* Range vectors over the hole pairs: per tree node each player's reach under the blueprint,
  per pair (propagated by the pair's bucket on that street), and per pair the responder's
  counterfactual value; both seats in one walk (`rgbr_walk.board_values`). Showdowns sort
  the pairs by hand strength and use prefix sums with per-card sums for card removal (no
  pair-by-pair loops), folds use the range's total minus the pairs sharing a card.
* Preflop the responder also best-responds: for each of its hole pairs and preflop lines, the
  value of a line is its counterfactual value averaged over the sampled boards, and it takes
  the best line. Choosing on the same boards that value the choice is optimistic: the
  expected estimate is *at least* the true best response, converging to it as boards grow
  (an upper-bound-style estimate, as slumbot's and the literature's are read). The
  ``held_out`` estimate chooses each half's preflop lines on the other half of the boards, so
  it values a real strategy: in expectation *at most* the true best response. The true value
  lies between the two expectations; their gap shows what the board sample still costs.
* From the turn or river (``from_street`` 2 or 3), the responder follows the blueprint (with
  its real bucket) on the postflop streets before the sampled one, as slumbot's
  ``run_approx_rgbr`` does; preflop it still best-responds as above.

The interval is 95%, over the boards (in groups of equal size, batch means, when there are more
than `MAX_GROUPS` boards).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numba
import numpy as np

from holdemd.errors import UsageError
from holdemd.evaluation.rgbr_kernel import Tree, rgbr_boards
from holdemd.evaluation.rgbr_tables import BoardTables, prepare_boards
from holdemd.evaluation.stats import Z95, Estimate, Unit
from holdemd.games.compiled import DEAL_HOLDEM, DEAL_HOLDEM_FIXED_BOARD, Game
from holdemd.solver.kernels.deal import hole_pair_bucket

STREETS = {"flop": 1, "turn": 2, "river": 3}
STREET_NAMES = ("preflop", "flop", "turn", "river")
BOARD_CARDS = (0, 3, 4, 5)
MAX_GROUPS = 64
SEED_STREAM = 0x72676272  # "rgbr": boards drawn apart from every other evaluation's deals


def check_rgbr_game(game: Game) -> None:
    """RGBR needs heads-up Hold'em (the real game or the fixed-board one)."""
    if game.arrays.deal_kind not in (DEAL_HOLDEM, DEAL_HOLDEM_FIXED_BOARD):
        raise UsageError(
            f"--rgbr: the real-game best response is for heads-up Hold'em, this run is "
            f"{game.name}; use `holdemd eval --run DIR` without --rgbr for its exact best response"
        )
    if game.num_players != 2:
        raise UsageError(
            f"--rgbr: the real-game best response needs a heads-up game, this run has "
            f"{game.num_players} players; use --vs to measure it against baseline bots"
        )


@dataclass(frozen=True)
class RgbrResult:
    """The responder's values in chips (see `estimates` for the game's unit)."""

    by_group: np.ndarray  # float64[G, 2]: per board group, per responder seat (chips)
    held_out_by_group: np.ndarray  # float64[G, 2]: the same with preflop chosen on other boards
    group_sizes: np.ndarray  # int64[G]: boards per group
    boards: int  # boards sampled (1: the fixed board, exact)
    from_street: int
    exact: bool  # the fixed-board game: one known board, no sampling
    # float64[G, 2, 4]: what the responder's best responses on each street (preflop, flop,
    # turn, river) add over following the blueprint; they sum to by_group - blueprint_by_group.
    # None unless asked for (``by_street``).
    street_gains: np.ndarray | None = None
    blueprint_by_group: np.ndarray | None = None  # float64[G, 2]: the blueprint's own value

    def _estimate(self, values: np.ndarray, unit: Unit) -> Estimate:
        scaled = values * unit.per_chip
        mean = float(np.average(scaled, weights=self.group_sizes))
        groups = scaled.shape[0]
        half = math.inf if groups < 2 else float(Z95 * scaled.std(ddof=1) / math.sqrt(groups))
        if self.exact:
            half = 0.0
        return Estimate(mean, half, self.boards, 1, half, unit.name)

    def street_estimates(self, unit: Unit) -> dict[str, Estimate]:
        """Where the responder gains (both seats' mean, mean and 95% interval over boards):
        ``preflop``, ``flop``, ``turn``, ``river``, adding up to the overall value (the
        blueprint's own value, both seats, is zero: the game is zero-sum)."""
        if self.street_gains is None:
            raise ValueError("computed without by_street")
        gains = self.street_gains.mean(axis=1)
        return {name: self._estimate(gains[:, s], unit) for s, name in enumerate(STREET_NAMES)}

    def estimates(self, unit: Unit, held_out: bool = False) -> dict[str, Estimate]:
        """``overall`` ((seat 0 + seat 1) / 2, comparable to exploitability), ``seat0``,
        ``seat1``: mean and 95% interval over boards, in ``unit``."""
        values = self.held_out_by_group if held_out else self.by_group
        return {
            "overall": self._estimate(values.mean(axis=1), unit),
            "seat0": self._estimate(values[:, 0], unit),
            "seat1": self._estimate(values[:, 1], unit),
        }


def hole_pairs(game: Game) -> np.ndarray:
    """int64[K, 2]: every hole pair of the game's deck."""
    return np.array(list(combinations(game.arrays.deck.tolist(), 2)), dtype=np.int64)


def _card_pairs(pairs: np.ndarray) -> np.ndarray:
    """int64[52, C]: the pairs holding each card, -1 padded."""
    lists: list[list[int]] = [[] for _ in range(52)]
    for k, (c0, c1) in enumerate(pairs.tolist()):
        lists[c0].append(k)
        lists[c1].append(k)
    width = max(len(x) for x in lists)
    out = -np.ones((52, width), dtype=np.int64)
    for c, ks in enumerate(lists):
        out[c, : len(ks)] = ks
    return out


@dataclass(frozen=True)
class Preflop:
    """The preflop tree, its frontier (where the kernel takes over) and the reach there."""

    frontier: np.ndarray  # int64[R]
    reach: np.ndarray  # float64[R, 2, K]
    index: dict[int, int]  # frontier node -> position


def preflop_walk(game: Game, probs: np.ndarray, pairs: np.ndarray) -> Preflop:
    a = game.arrays
    buckets = np.array(
        [hole_pair_bucket(a, 0, int(c0), int(c1), np.int64(0)) for c0, c1 in pairs],
        dtype=np.int64,
    )
    nodes: list[int] = []
    reaches: list[np.ndarray] = []

    def walk(node: int, reach: np.ndarray) -> None:
        if a.node_street[node] > 0 or a.node_player[node] < 0:
            nodes.append(node)
            reaches.append(reach)
            return
        q = int(a.node_player[node])
        rows = probs[int(a.node_row_base[node]) + buckets]
        for action in range(int(a.node_num_actions[node])):
            child = reach.copy()
            child[q] = reach[q] * rows[:, action]
            walk(int(a.node_children[node, action]), child)

    walk(0, np.ones((2, pairs.shape[0])))
    frontier = np.array(nodes, dtype=np.int64)
    return Preflop(frontier, np.array(reaches), {n: i for i, n in enumerate(nodes)})


def best_lines(game: Game, preflop: Preflop, values: np.ndarray, responder: int) -> np.ndarray:
    """float64[R, K]: 1 where the responder's best preflop line (by ``values[R, K]``, its
    value per frontier node and pair) reaches a frontier node, else 0."""
    a = game.arrays
    lines = np.zeros_like(values)

    def value(node: int) -> np.ndarray:
        if node in preflop.index:
            return values[preflop.index[node]]
        children = [int(a.node_children[node, i]) for i in range(int(a.node_num_actions[node]))]
        stacked = np.stack([value(c) for c in children])
        if int(a.node_player[node]) != responder:
            return stacked.sum(axis=0)
        return stacked.max(axis=0)

    def mark(node: int, on: np.ndarray) -> None:
        if node in preflop.index:
            lines[preflop.index[node]] = on
            return
        children = [int(a.node_children[node, i]) for i in range(int(a.node_num_actions[node]))]
        if int(a.node_player[node]) != responder:
            for c in children:
                mark(c, on)
            return
        best = np.stack([value(c) for c in children]).argmax(axis=0)
        for i, c in enumerate(children):
            mark(c, on * (best == i))

    mark(0, np.ones(values.shape[1]))
    return lines


def board_tables(game: Game, boards: int, num_board: int, num_pairs: int) -> BoardTables:
    """Room for `prepare_boards` to fill for ``boards`` boards of ``num_board`` cards."""
    deck = game.arrays.deck.shape[0]
    rest = deck if game.arrays.deal_kind == DEAL_HOLDEM_FIXED_BOARD else deck - num_board
    turns = rest if num_board == 3 else 1
    fives = rest * (rest - 1) // 2 if num_board == 3 else (rest if num_board == 4 else 1)
    return BoardTables(
        rest=np.zeros((boards, rest), dtype=np.int64),
        fits=np.zeros((boards, num_pairs), dtype=np.bool_),
        flop_buckets=np.zeros((boards, num_pairs), dtype=np.int32),
        turn_buckets=np.zeros((boards, turns, num_pairs), dtype=np.int32),
        river_buckets=np.zeros((boards, fives, num_pairs), dtype=np.int32),
        rank=np.zeros((boards, fives, num_pairs), dtype=np.int32),
        order=np.zeros((boards, fives, num_pairs), dtype=np.int32),
        valid=np.zeros((boards, fives), dtype=np.int64),
    )


def sample_boards(game: Game, boards: int, from_street: int, seed: int) -> np.ndarray:
    """int64[B, 5]: the sampled boards (first cards of the street in dealing order)."""
    a = game.arrays
    if a.deal_kind == DEAL_HOLDEM_FIXED_BOARD:
        return a.fixed_board.reshape(1, 5).astype(np.int64)
    rng = np.random.default_rng([SEED_STREAM, seed])
    out = np.zeros((boards, 5), dtype=np.int64)
    cards = BOARD_CARDS[from_street]
    for b in range(boards):
        out[b, :cards] = rng.choice(a.deck, size=cards, replace=False)
    return out


def real_game_best_response(
    game: Game,
    probs: np.ndarray,
    boards: int,
    seed: int,
    *,
    from_street: int = 1,
    progress: Callable[[int], None] | None = None,
    respond_from: int | None = None,
    by_street: bool = False,
) -> RgbrResult:
    """The responder's value against the blueprint ``probs`` (float64[rows, A], the action
    probabilities per infoset row) on ``boards`` sampled boards of ``from_street``.

    ``respond_from``: the first postflop street on which the responder best-responds (default
    ``from_street``, on the fixed-board game the flop); a later street than the sampled one
    makes it follow the blueprint on the streets between, on the same boards. ``by_street``:
    also where the responder gains (`RgbrResult.street_estimates`), for about a third more
    time."""
    check_rgbr_game(game)
    a = game.arrays
    exact = a.deal_kind == DEAL_HOLDEM_FIXED_BOARD
    board_list = sample_boards(game, boards, from_street, seed)
    num_boards = board_list.shape[0]
    num_board = 5 if exact else BOARD_CARDS[from_street]
    first_br = respond_from or (1 if exact else from_street)
    pairs = hole_pairs(game)
    card_pairs = _card_pairs(pairs)
    preflop = preflop_walk(game, probs, pairs)
    probs = np.ascontiguousarray(probs, dtype=np.float64)
    tree = Tree(
        a.node_player,
        a.node_street,
        a.node_num_actions,
        a.node_children,
        a.node_row_base,
        a.node_terminal,
        a.node_contrib,
        a.node_alive,
    )
    groups = min(num_boards, MAX_GROUPS)
    group_of = np.arange(num_boards) * groups // num_boards
    shape = (preflop.frontier.shape[0], 2, pairs.shape[0])
    sums = np.zeros((groups, *shape))
    # Per board, seat and street: the gains weighted by the responder's own blueprint reach
    # preflop (the preflop gain is what is left; see `street_gains`), and the value of
    # following the blueprint everywhere.
    gain_sums = np.zeros((groups, 2, 4))
    blueprint_sums = np.zeros((groups, 2))
    own_reach = np.stack([preflop.reach[:, r] for r in range(2)], axis=1)  # [R, 2, K]
    chunk = 2 * numba.get_num_threads()
    for start in range(0, num_boards, chunk):
        stop = min(start + chunk, num_boards)
        out = np.zeros((stop - start, *shape))
        gain_shape = (shape[0], 2, 4, shape[2]) if by_street else (0, 0, 0, 0)
        out_gain = np.zeros((stop - start, *gain_shape))
        tables = board_tables(game, stop - start, num_board, pairs.shape[0])
        prepare_boards(a, pairs, board_list[start:stop], num_board, tables)
        rgbr_boards(
            tree,
            probs,
            pairs,
            card_pairs,
            preflop.frontier,
            preflop.reach,
            num_board,
            first_br,
            a.max_depth,
            tables,
            out,
            out_gain,
            by_street,
        )
        np.add.at(sums, group_of[start:stop], out)
        if by_street:
            gains = np.einsum("frk,bfrsk->brs", own_reach, out_gain)
            np.add.at(gain_sums, group_of[start:stop], gains)
            following = np.einsum("frk,bfrk->br", own_reach, out - out_gain.sum(axis=3))
            np.add.at(blueprint_sums, group_of[start:stop], following)
        if progress is not None:
            progress(stop)
    # Normalize: the opponent's pairs that fit beside a hand and the board, and the chance that
    # a sampled board misses the hand (the board is drawn before the hands here).
    deck = a.deck.shape[0]
    in_deck = 0 if exact else num_board
    fitting = math.comb(deck - in_deck - 2, 2)
    misses = math.comb(deck - 2, in_deck) / math.comb(deck, in_deck)
    sizes = np.bincount(group_of, minlength=groups)
    scale = sizes * fitting * misses
    means = sums / scale[:, None, None, None]
    k = pairs.shape[0]
    street_gains = gain_sums / (scale[:, None, None] * k)
    blueprint = blueprint_sums / (scale[:, None] * k)
    by_group = np.zeros((groups, 2))
    held_out = np.zeros((groups, 2))
    halves = np.arange(groups) % 2
    for r in range(2):
        lines = best_lines(game, preflop, np.average(means[:, :, r], axis=0, weights=sizes), r)
        by_group[:, r] = np.einsum("fk,gfk->g", lines, means[:, :, r]) / k
        if groups < 2:
            held_out[:, r] = by_group[:, r]
            continue
        for half in (0, 1):
            other = halves != half
            chosen = best_lines(
                game, preflop, np.average(means[other, :, r], axis=0, weights=sizes[other]), r
            )
            mine = halves == half
            held_out[mine, r] = np.einsum("fk,gfk->g", chosen, means[mine, :, r]) / k
    if not by_street:
        return RgbrResult(by_group, held_out, sizes, num_boards, first_br, exact)
    street_gains[:, :, 0] = by_group - blueprint - street_gains[:, :, 1:].sum(axis=2)
    return RgbrResult(
        by_group, held_out, sizes, num_boards, first_br, exact, street_gains, blueprint
    )


DEFAULT_RGBR_BOARDS = 20


def rgbr_estimate(
    game: Game,
    strategy_sum: np.ndarray,
    boards: int,
    seed: int,
    from_street: int = 1,
    progress: Callable[[int], None] | None = None,
    by_street: bool = False,
) -> RgbrResult:
    """`real_game_best_response` against a snapshot's average strategy."""
    from holdemd.solver.tables import average_strategy

    probs = average_strategy(game, strategy_sum)
    return real_game_best_response(
        game, probs, boards, seed, from_street=from_street, progress=progress, by_street=by_street
    )


def rgbr_description(game: Game, boards: int, from_street: int, seed: int) -> str:
    """How the real-game best response was computed, as one line."""
    if game.arrays.deal_kind == DEAL_HOLDEM_FIXED_BOARD:
        return "real-game best response: the fixed board, exact"
    street = {1: "flops", 2: "turns", 3: "rivers"}[from_street]
    below = {1: "every turn and river", 2: "every river", 3: "nothing"}[from_street]
    before = "" if from_street == 1 else "; blueprint's play on the streets before"
    return (
        f"real-game best response: {boards:,} sampled {street} (seed {seed}), {below} "
        f"enumerated{before}; preflop lines chosen on the boards' average"
    )
