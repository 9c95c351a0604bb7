"""Running litmus scenarios on a `Blueprint`: a handful of row look-ups, judged.

A scenario for another game is left out of the counts (``applies`` False). One for this game
is *skipped* (neither passed nor failed) where it cannot be judged: a decision not on this tree
(a menu without that bet), a price above the hands' stated equity, or rows training has not
reached yet (their uniform strategy says nothing). Otherwise every hand must meet the
expectation; the diagnosis names the worst one.

With an off-tree size in the history, the probability is the translation's weighted mean over
its branches, as the blueprint would play it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from holdemd.blueprint.history import format_bb
from holdemd.blueprint.results import Action, Decision
from holdemd.errors import UsageError
from holdemd.evaluation.litmus.scenarios import Scenario, percent

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class HandResult:
    hand: str
    probability: float | None  # of the expected actions; None: the row is not trained yet
    ok: bool | None  # None: not judged

    def as_dict(self) -> dict[str, Any]:
        return {"hand": self.hand, "probability": self.probability, "ok": self.ok}


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    status: Status
    detail: str  # fail: the diagnosis, filled in; skip: why; pass: ""
    situation: str = ""  # the decision, as `strategy show` describes it
    hands: tuple[HandResult, ...] = ()
    price: float | None = None  # to_call / (pot + to_call) when facing a bet
    applies: bool = True  # False: the scenario is for other games

    def as_dict(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "name": s.name,
            "status": self.status,
            "applies": self.applies,
            "expect": s.expect.describe(),
            "detail": self.detail,
            "decision": self.situation,
            "price": self.price,
            "hands": [h.as_dict() for h in self.hands],
            "games": list(s.games),
            "source": s.source,
        }


@dataclass(frozen=True)
class LitmusReport:
    results: tuple[ScenarioResult, ...]
    seconds: float  # to run them

    def _count(self, status: Status) -> int:
        return sum(r.status == status and r.applies for r in self.results)

    @property
    def passed(self) -> int:
        return self._count("pass")

    @property
    def failed(self) -> int:
        return self._count("fail")

    @property
    def skipped(self) -> int:
        """Scenarios for this game that could not be judged (off the tree, not trained)."""
        return self._count("skip")

    @property
    def other_games(self) -> int:
        """Scenarios for other games (not counted anywhere else)."""
        return sum(not r.applies for r in self.results)

    @property
    def total(self) -> int:
        """Scenarios judged (passed or failed)."""
        return self.passed + self.failed

    @property
    def failing(self) -> list[str]:
        return [r.scenario.name for r in self.results if r.status == "fail"]

    def summary(self) -> dict[str, Any]:
        """What status.json's ``litmus`` holds."""
        return {
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "total": self.total,
            "failing": self.failing,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "other_games": self.other_games,
            "seconds": self.seconds,
            "results": [r.as_dict() for r in self.results],
        }


def run_litmus(blueprint: Blueprint, scenarios: Sequence[Scenario]) -> LitmusReport:
    """Every scenario judged on ``blueprint`` (see the module doc)."""
    start = time.perf_counter()
    results = tuple(check_scenario(blueprint, s) for s in scenarios)
    return LitmusReport(results, time.perf_counter() - start)


def check_scenario(blueprint: Blueprint, scenario: Scenario) -> ScenarioResult:
    game = blueprint.tree.game
    if not scenario.applies_to(game.name, game.num_players):
        why = f"for {scenario.games_text()} only"
        return ScenarioResult(scenario, "skip", why, applies=False)
    try:
        branches = blueprint.decisions(scenario.history, scenario.seat)
    except UsageError as exc:
        return ScenarioResult(scenario, "skip", f"not on this tree: {exc}")
    from holdemd.lookup.show import situation

    first = branches[0]
    seen = situation(first)
    price = first.to_call / (first.pot + first.to_call) if first.to_call > 0 else None
    if scenario.equity is not None:
        if price is None:
            return ScenarioResult(scenario, "skip", "nothing to call here, so no price", seen)
        if price >= scenario.equity:
            why = f"the price {percent(price)} is not below the hands' equity {percent(scenario.equity)}"
            return ScenarioResult(scenario, "skip", why, seen, price=price)
    hands = []
    for hand in scenario.hands:
        try:
            probability, trained = expected_probability(blueprint, branches, scenario, hand)
        except UsageError as exc:
            return ScenarioResult(scenario, "skip", f"hand {hand}: {exc}", seen, price=price)
        ok = scenario.expect.holds(probability) if trained else None
        hands.append(HandResult(hand, probability if trained else None, ok))
    judged = [h for h in hands if h.ok is not None]
    if not judged:
        why = "not trained yet: training has not updated these rows"
        return ScenarioResult(scenario, "skip", why, seen, tuple(hands), price)
    failing = [h for h in judged if not h.ok]
    if not failing:
        return ScenarioResult(scenario, "pass", "", seen, tuple(hands), price)
    worst = max(failing, key=lambda h: _shortfall(scenario, h))
    text = diagnosis(scenario, first, worst, price)
    return ScenarioResult(scenario, "fail", text, seen, tuple(hands), price)


def expected_probability(
    blueprint: Blueprint, branches: Sequence[Decision], scenario: Scenario, hand: str
) -> tuple[float, bool]:
    """(probability of the expected actions, every row trained) for ``hand``: the weighted
    mean over translated branches."""
    total = sum(d.weight for d in branches) or 1.0
    probability, trained = 0.0, True
    for decision in branches:
        cards = blueprint.hand_bucket(decision.street, hand, scenario.board)
        probs, rows_trained = blueprint.probabilities(decision.node, cards.bucket)
        mask = np.array([_wanted(act, scenario.expect.actions) for act in decision.actions])
        probability += decision.weight / total * float(probs[0][mask].sum())
        trained = trained and bool(rows_trained[0])
    return probability, trained


def _wanted(action: Action, families: tuple[str, ...]) -> bool:
    return (action.kind in families) or ("allin" in families and action.token == "a")


def _shortfall(scenario: Scenario, hand: HandResult) -> float:
    assert hand.probability is not None
    expect = scenario.expect
    return (
        hand.probability - expect.limit
        if expect.at_most is not None
        else expect.limit - hand.probability
    )


def diagnosis(scenario: Scenario, decision: Decision, hand: HandResult, price: float | None) -> str:
    """The scenario's diagnosis with its placeholders filled in."""
    assert hand.probability is not None
    unit = decision.unit
    values = {
        "name": scenario.name,
        "hand": hand.hand,
        "probability": percent(hand.probability),
        "action": scenario.expect.action,
        "limit": percent(scenario.expect.limit),
        "seat": decision.seat,
        "history": decision.history or "(none)",
        "board": scenario.board or "(none)",
        "pot": f"{format_bb(decision.pot)} {unit}",
        "to_call": f"{format_bb(decision.to_call)} {unit}",
        "price": percent(price) if price is not None else "-",
        "equity": percent(scenario.equity) if scenario.equity is not None else "-",
        "unit": unit,
    }
    return scenario.diagnosis.format(**values)
