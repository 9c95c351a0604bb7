"""Showdown equity over the board cards still to come, as numba kernels.

Equity = P(win) + P(tie) / 2. Two uses:

* `allin_equity`: seat 0's equity against seat 1 when both are all in before the river, so a
  match scores an all-in by its expected value over the run-out instead of the one board that
  was dealt ("all-in EV", a variance reduction). The turn's 44 rivers are enumerated; flop and
  preflop all-ins average ``samples`` random run-outs (unbiased, and cheaper than the 990 or
  1.7 million exact ones, which cost more time than the variance they remove).
* `range_equities`: a hand's equity against each opponent hole pair of a range on a partial
  board, for local best response. The river is exact, the turn enumerates the 46 rivers, the
  flop and preflop average ``runouts`` random run-outs shared by all pairs (a pair that holds a
  run-out card skips that run-out).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holdemd.cards import rank7_codes
from holdemd.jit import inline_kernel, kernel
from holdemd.solver.kernels.deal import draw_cards

NUM_CARDS = 52


class Range(NamedTuple):
    """Hole pairs a player may hold, and how likely each is."""

    pairs: np.ndarray  # int64[K, 2]
    weight: np.ndarray  # float64[K]: non-negative; 0 rules a pair out


@inline_kernel
def unseen_cards(known, num_known, out):
    """Fill ``out`` with the cards not in ``known[:num_known]``, ascending; returns how many.

    Parameters
    ----------
    known : int64[>= num_known]
    num_known : int
    out : int64[>= 52 - num_known], out
    """
    n = 0
    for c in range(NUM_CARDS):
        seen = False
        for i in range(num_known):
            if known[i] == c:
                seen = True
        if not seen:
            out[n] = c
            n += 1
    return n


@inline_kernel
def _score(mine, theirs):
    if mine > theirs:
        return 1.0
    if mine == theirs:
        return 0.5
    return 0.0


@kernel
def allin_equity(cards, num_board, samples, rng, scratch):
    """Seat 0's equity against seat 1 over the boards that complete ``num_board`` known cards.

    Parameters
    ----------
    cards : int64[9]
        Seat 0's hole cards, seat 1's, then the five board cards (only the first
        ``num_board`` are treated as known).
    num_board : int
        0 (preflop), 3 (flop) or 4 (turn).
    samples : int
        Random run-outs for a preflop all-in, and for a flop all-in when positive (else the
        flop's 990 run-outs are enumerated).
    rng : uint64[1]
    scratch : int64[>= 52]

    Returns
    -------
    float
    """
    known = 4 + num_board
    n = unseen_cards(cards, known, scratch)
    full = np.empty(5, dtype=np.int64)
    for i in range(num_board):
        full[i] = cards[4 + i]
    a0, a1, b0, b1 = cards[0], cards[1], cards[2], cards[3]
    total = 0.0
    count = 0
    if num_board == 4:
        for i in range(n):
            full[4] = scratch[i]
            total += _score(
                rank7_codes(a0, a1, full[0], full[1], full[2], full[3], full[4]),
                rank7_codes(b0, b1, full[0], full[1], full[2], full[3], full[4]),
            )
            count += 1
    elif num_board == 3 and samples <= 0:
        for i in range(n):
            full[3] = scratch[i]
            for j in range(i + 1, n):
                full[4] = scratch[j]
                total += _score(
                    rank7_codes(a0, a1, full[0], full[1], full[2], full[3], full[4]),
                    rank7_codes(b0, b1, full[0], full[1], full[2], full[3], full[4]),
                )
                count += 1
    else:
        for _ in range(samples):
            draw_cards(scratch, n, 5 - num_board, rng, full, num_board)
            total += _score(
                rank7_codes(a0, a1, full[0], full[1], full[2], full[3], full[4]),
                rank7_codes(b0, b1, full[0], full[1], full[2], full[3], full[4]),
            )
            count += 1
    return total / count if count > 0 else 0.5


@inline_kernel
def _accumulate(h0, h1, full, num_fresh, opponents, wins, counts):
    """Score hole pair (h0, h1) against every live pair on the complete board ``full``;
    pairs holding one of the ``num_fresh`` run-out cards at ``full[5 - num_fresh:]`` skip.

    Parameters
    ----------
    h0, h1 : int
        The hand's hole cards.
    full : int64[5]
        A complete board.
    num_fresh : int
        Run-out cards at the end of ``full`` (not known when the range was formed).
    opponents : Range
        Pairs with weight 0 are skipped.
    wins : float64[K], in/out
        Adds 1 per win and 1/2 per tie.
    counts : float64[K], in/out
        Adds 1 per scored board.
    """
    combos = opponents.pairs
    weight = opponents.weight
    mine = rank7_codes(h0, h1, full[0], full[1], full[2], full[3], full[4])
    for k in range(combos.shape[0]):
        if weight[k] <= 0.0:
            continue
        c0 = combos[k, 0]
        c1 = combos[k, 1]
        clash = False
        for i in range(5 - num_fresh, 5):
            if full[i] == c0 or full[i] == c1:
                clash = True
        if clash:
            continue
        theirs = rank7_codes(c0, c1, full[0], full[1], full[2], full[3], full[4])
        wins[k] += _score(mine, theirs)
        counts[k] += 1.0


@kernel
def range_equities(h0, h1, board, num_board, opponents, runouts, rng, out):
    """Equity of hole pair (h0, h1) against each live opponent pair, over the unseen board.

    Parameters
    ----------
    h0, h1 : int
        The hand's hole cards.
    board : int64[5]
        The board; only ``board[:num_board]`` is known.
    num_board : int
        0, 3, 4 or 5 known board cards.
    opponents : Range
        Opponent hole pairs and their weights; pairs with weight 0 are skipped (their equity
        is left at 0.5).
    runouts : int
        Random run-outs for a flop or preflop board.
    rng : uint64[1]
    out : float64[K], out
    """
    combos = opponents.pairs
    scratch = np.empty(NUM_CARDS, dtype=np.int64)
    num_combos = combos.shape[0]
    wins = np.zeros(num_combos)
    counts = np.zeros(num_combos)
    known = np.empty(7, dtype=np.int64)
    known[0] = h0
    known[1] = h1
    full = np.empty(5, dtype=np.int64)
    for i in range(num_board):
        known[2 + i] = board[i]
        full[i] = board[i]
    n = unseen_cards(known, 2 + num_board, scratch)
    missing = 5 - num_board
    if missing == 0:
        _accumulate(h0, h1, full, 0, opponents, wins, counts)
    elif missing == 1:
        for i in range(n):
            full[4] = scratch[i]
            _accumulate(h0, h1, full, 1, opponents, wins, counts)
    else:
        for _ in range(runouts):
            draw_cards(scratch, n, missing, rng, full, num_board)
            _accumulate(h0, h1, full, missing, opponents, wins, counts)
    for k in range(num_combos):
        out[k] = wins[k] / counts[k] if counts[k] > 0.0 else 0.5
