"""External-sampling MCCFR converges on the small games (fixed seeds, so deterministic)."""

from __future__ import annotations

import pytest

from holdemd.games.factory import make_game
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables


@pytest.mark.needs_jit(reason="100k iterations need the compiled kernel")
@pytest.mark.parametrize(("name", "threshold"), [("kuhn", 0.005), ("leduc", 0.07)])
def test_mccfr_reaches_exploitability_gate_at_100k_iterations(name, threshold):
    game = make_game(name)
    solver = ExternalSamplingMCCFR(game, Tables.zeros(game, "float32"), seed=7)
    evaluator = ExactEvaluator(game)
    solver.run(10_000)
    early = evaluator.exploitability(solver.average_policy())
    solver.run(90_000)
    final = evaluator.exploitability(solver.average_policy())
    assert final < threshold
    assert final < early  # it is learning, not sitting near a lucky start
    # The average strategy converges towards the game value too.
    if name == "leduc":
        assert evaluator.game_value(solver.average_policy()) == pytest.approx(-0.0856, abs=0.03)
