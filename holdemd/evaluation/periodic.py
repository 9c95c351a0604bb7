"""A short evaluation for a training run's quality curve (e.g. TensorBoard at an interval).

Not wired into the supervisor here: it is a function of the tables alone, so a caller can run
it on a copy of ``strategy_sum`` in a thread or process of its own.
"""

from __future__ import annotations

import numpy as np

from holdemd.evaluation.lbr import check_lbr_game, local_best_response
from holdemd.evaluation.match import play_match
from holdemd.evaluation.policies import BOTS, blueprint_policy
from holdemd.evaluation.rgbr import STREETS, check_rgbr_game, rgbr_estimate
from holdemd.evaluation.stats import Unit, duplicate_estimate
from holdemd.games.compiled import Game

QUICK_OPPONENTS = ("random", "call")


def quality_scalars(
    game: Game,
    strategy_sum: np.ndarray,
    *,
    deals: int,
    lbr_deals: int = 0,
    rgbr_boards: int = 0,
    rgbr_from: str = "turn",
    seed: int = 0,
) -> dict[str, float]:
    """Head-to-head against the baseline bots (and on heads-up Hold'em, LBR when ``lbr_deals``
    > 0 and the real-game best response on ``rgbr_boards`` boards of the street ``rgbr_from``
    when > 0), in the game's unit: ``{"eval/vs_random": …, "eval/vs_random_ci95": …,
    "eval/lbr": …, "eval/rgbr": …}``. The same seed gives the same deals and boards, so
    successive calls compare."""
    unit = Unit.of(game)
    hero = blueprint_policy("blueprint", strategy_sum)
    scalars: dict[str, float] = {}
    for name in QUICK_OPPONENTS:
        opponent = BOTS[name](game, strategy_sum.dtype)
        estimate = duplicate_estimate(play_match(game, hero, opponent, deals, seed), unit)
        scalars[f"eval/vs_{name}"] = estimate.mean
        scalars[f"eval/vs_{name}_ci95"] = estimate.half_width
    if lbr_deals > 0:
        check_lbr_game(game)
        values, _ = local_best_response(game, hero, lbr_deals, seed)
        estimate = duplicate_estimate(values, unit)
        scalars["eval/lbr"] = estimate.mean
        scalars["eval/lbr_ci95"] = estimate.half_width
    if rgbr_boards > 0:
        check_rgbr_game(game)
        result = rgbr_estimate(game, strategy_sum, rgbr_boards, seed, STREETS[rgbr_from])
        overall = result.estimates(unit)["overall"]
        scalars["eval/rgbr"] = overall.mean
        scalars["eval/rgbr_ci95"] = overall.half_width
        scalars["eval/rgbr_held_out"] = result.estimates(unit, held_out=True)["overall"].mean
    return scalars
