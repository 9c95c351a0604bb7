"""Litmus: strategy sanity checks, cheap enough to run at every snapshot.

A scenario is a decision (seat, history, board), a few hands, an expectation on the
probability of some actions, and a diagnosis printed when it fails: aces never fold first in,
the nuts never fold to a river bet, 72o is not raised from under the gun in 6-max, a hand whose
equity beats the price calls an all-in. ``scenarios`` reads the files (the shipped
``default.yaml`` and the user's), ``check`` judges them on a `holdemd.blueprint.api.Blueprint`
(a file, a snapshot, or the live tables of a run).
"""

from holdemd.evaluation.litmus.check import LitmusReport, ScenarioResult, run_litmus
from holdemd.evaluation.litmus.reader import load_scenarios, read_scenarios
from holdemd.evaluation.litmus.scenarios import Scenario

__all__ = [
    "LitmusReport",
    "Scenario",
    "ScenarioResult",
    "load_scenarios",
    "read_scenarios",
    "run_litmus",
]
