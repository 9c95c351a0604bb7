"""What the external-sampling kernels take besides the game and the tables.

The scratch `Workspace` a traversal runs in, the `BatchSettings` the schedule sets for a batch,
the `IterationWeights` the batch loop sets for each iteration, and the layout of the
``counters`` array the kernels accumulate into (shared with Python callers). Their fields are
the traversal's vocabulary; the traversal itself is in ``external_sampling``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from holdemd.games.compiled import GameArrays

# counters[] layout, shared with Python callers.
COUNTER_NODES = 0  # nodes visited (decision and terminal)
COUNTER_DROPPED = 1  # row updates dropped because the delta buffer was full
COUNTER_ITERATIONS = 2  # iterations completed
COUNTER_PRUNED = 3  # traverser actions skipped by negative-regret pruning
COUNTER_PRUNABLE = 4  # traverser actions at nodes where pruning was allowed this iteration
NUM_COUNTERS = 6


class Workspace(NamedTuple):
    """Scratch arrays a traversal needs, allocated once per caller."""

    strat: np.ndarray  # float64[D + 1, A]: current strategy at each stacked traverser node
    vals: np.ndarray  # float64[D + 1, A]: child values at each stacked traverser node
    frame_node: np.ndarray  # int64[D + 1]
    frame_row: np.ndarray  # int64[D + 1]
    frame_action: np.ndarray  # int64[D + 1]: action being explored
    pruned: np.ndarray  # bool[D + 1, A]: actions the stacked node skips this traversal
    any_pruned: np.ndarray  # bool[D + 1]: whether ``pruned`` of the frame holds any True
    probed: np.ndarray  # bool[D + 1]: nothing skipped, but ``pruned`` marks actions to reweight
    frame_mult: np.ndarray  # float64[D + 1]: weight multiplier of the updates at the frame
    opp_strat: np.ndarray  # float64[1, A]
    deck: np.ndarray  # int64[C]: permuted in place by the sampler
    cards: np.ndarray  # int64[cards_per_deal]
    buckets: np.ndarray  # int64[P, S]
    ranks: np.ndarray  # int64[P]


class BatchSettings(NamedTuple):
    """What the schedule sets for a batch (``holdemd.solver.schedule``); see
    ``external_sampling.run_iterations``."""

    first_iteration: int  # global index of the batch's first iteration, 0-based
    linear: bool  # weight increments by the iteration number (linear CFR)
    regret_unit: float  # regret-table units per unit of utility (``tables.regret_unit``)
    prune_probability: float  # chance that an iteration prunes
    prune_threshold: float  # in table units
    average_streets: int  # strategy sums only on streets below this


def batch_settings(
    first_iteration: int,
    *,
    linear: bool = False,
    regret_unit: float = 1.0,
    prune_probability: float = 0.0,
    prune_threshold: float = 0.0,
    average_streets: int = 127,
) -> BatchSettings:
    """`BatchSettings` with each field of one fixed type, so numba compiles one signature.

    The defaults change nothing: no pruning, strategy sums on every street.
    """
    return BatchSettings(
        first_iteration=int(first_iteration),
        linear=bool(linear),
        regret_unit=float(regret_unit),
        prune_probability=float(prune_probability),
        prune_threshold=float(prune_threshold),
        average_streets=int(average_streets),
    )


class IterationWeights(NamedTuple):
    """How much one iteration's updates count; set by ``external_sampling.run_iterations``
    for its ``traverse``."""

    weight: float  # multiplies every strategy-sum increment (1, or t for linear CFR)
    regret_weight: float  # multiplies every regret increment: weight * regret_unit
    prune: bool  # this iteration skips actions below the prune threshold
    probe_weight: float  # 1, or 1 / (1 - prune probability) on what pruning would skip


def make_workspace(game: GameArrays, max_actions: int) -> Workspace:
    depth = game.max_depth + 1
    return Workspace(
        strat=np.zeros((depth, max_actions)),
        vals=np.zeros((depth, max_actions)),
        frame_node=np.zeros(depth, dtype=np.int64),
        frame_row=np.zeros(depth, dtype=np.int64),
        frame_action=np.zeros(depth, dtype=np.int64),
        pruned=np.zeros((depth, max_actions), dtype=np.bool_),
        any_pruned=np.zeros(depth, dtype=np.bool_),
        probed=np.zeros(depth, dtype=np.bool_),
        frame_mult=np.ones(depth),
        opp_strat=np.zeros((1, max_actions)),
        deck=game.deck.copy(),
        cards=np.zeros(game.cards_per_deal, dtype=np.int64),
        buckets=np.zeros((game.num_players, game.street_buckets.shape[0]), dtype=np.int64),
        ranks=np.zeros(game.num_players, dtype=np.int64),
    )
