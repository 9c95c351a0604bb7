"""Litmus scenarios: the shipped file, user files (added, replacing, wrong), and the verdicts on
deliberately broken strategies (a sane "always call" strategy with one row broken)."""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path

import numpy as np
import pytest

from holdemd.blueprint.api import Blueprint
from holdemd.errors import ConfigError
from holdemd.evaluation.litmus import load_scenarios, read_scenarios, run_litmus
from holdemd.evaluation.litmus.reader import default_path
from holdemd.games.compiled import CHECK_CALL, FOLD, RAISE, Game
from holdemd.games.factory import make_game
from holdemd.games.holdem import holdem_game
from tests.lookup.games import HU_RULES, SIX_MAX_RULES, fake_bucket_tables, hu_game, six_max_game

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NAMES = [
    "aces-first-in",
    "nuts-call-river-bet",
    "nuts-call-river-bet-6max",
    "no-value-raise-72o-utg",
    "aces-call-allin",
    "aces-call-allin-6max",
    "kuhn-king-calls",
    "leduc-king-calls",
]


def calling_sums(game: Game) -> np.ndarray:
    """Strategy sums of a player who always checks or calls: sane at every default scenario."""
    a = game.arrays
    sums = np.zeros((game.num_rows, game.max_actions), dtype=np.float32)
    for node in np.flatnonzero(a.node_row_base >= 0):
        column = int(np.flatnonzero(a.node_action_kind[node] == CHECK_CALL)[0])
        base = int(a.node_row_base[node])
        sums[base : base + int(a.street_buckets[a.node_street[node]]), column] = 1.0
    return sums


def break_row(blueprint: Blueprint, sums: np.ndarray, kind: int, hand: str, **where: str) -> None:
    """Make ``hand`` take the action of ``kind`` at the decision ``where`` names."""
    decision = blueprint.decision(where.get("history"), where.get("seat"))
    bucket = blueprint.hand_bucket(decision.street, hand, where.get("board", "")).bucket
    a = blueprint.tree.game.arrays
    row = int(a.node_row_base[decision.node]) + bucket
    sums[row] = 0.0
    sums[row, int(np.flatnonzero(a.node_action_kind[decision.node] == kind)[0])] = 1.0


def by_name(report):
    return {r.scenario.name: r for r in report.results}


# -- the shipped file ------------------------------------------------------------------------


def test_the_shipped_scenarios_load_and_ship_as_package_data():
    scenarios = load_scenarios()
    assert [s.name for s in scenarios] == DEFAULT_NAMES
    assert all(s.source == str(default_path()) for s in scenarios)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(ROOT / "pyproject.toml", "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["holdemd.evaluation.litmus"]
    assert any(fnmatch.fnmatch(default_path().name, g) for g in globs)


# -- verdicts --------------------------------------------------------------------------------


def test_a_sane_heads_up_strategy_passes_and_folding_aces_fails_with_its_diagnosis():
    game = hu_game()
    sums = calling_sums(game)
    blueprint = Blueprint.from_tables(game, sums, rules=HU_RULES)
    scenarios = load_scenarios()
    report = run_litmus(blueprint, scenarios)
    assert (report.passed, report.failed, report.total) == (3, 0, 3)
    results = by_name(report)
    assert results["kuhn-king-calls"].detail == "for Kuhn poker only"
    assert results["no-value-raise-72o-utg"].detail == "for 6-max Hold'em only"
    allin = results["aces-call-allin"]
    assert allin.situation == "BB to act preflop after 'a': pot 101 bb, 99 bb to call"
    assert allin.price == pytest.approx(99 / 200)

    break_row(blueprint, sums, FOLD, "AA")
    report = run_litmus(blueprint, scenarios)
    assert report.failing == ["aces-first-in"] and report.passed == 2
    failed = by_name(report)["aces-first-in"]
    assert [(h.hand, h.probability, h.ok) for h in failed.hands] == [
        ("AA", 1.0, False),
        ("KK", 0.0, True),
    ]
    assert failed.detail.startswith(
        "AA folds 100% of the time first in (BTN, preflop; at most 5%): folding the best hands"
    )
    assert report.summary() == {
        "passed": 2,
        "failed": 1,
        "skipped": 0,
        "total": 3,
        "failing": ["aces-first-in"],
    }

    break_row(blueprint, sums, FOLD, "AA", history="a")
    break_row(blueprint, sums, FOLD, "AsTs", history="r2 c / k k / k k / k a", board="KsQs7d2cJs")
    report = run_litmus(blueprint, scenarios)
    assert report.failing == ["aces-first-in", "nuts-call-river-bet", "aces-call-allin"]
    assert by_name(report)["aces-call-allin"].detail.startswith(
        "AA calls an all-in only 0% of the time (at least 95%): the call costs 99 bb into a pot "
        "of 101 bb, a price of 49.5%, and AA has at least 80% equity against any hand."
    )


def test_six_max_raising_72o_under_the_gun_fails_and_an_illegal_line_is_skipped():
    game = six_max_game()
    sums = calling_sums(game)
    blueprint = Blueprint.from_tables(game, sums, rules=SIX_MAX_RULES)
    report = run_litmus(blueprint, load_scenarios())
    results = by_name(report)
    assert report.failing == [] and report.passed == 3
    assert results["nuts-call-river-bet-6max"].status == "skip"  # no bets after the flop here
    assert results["nuts-call-river-bet-6max"].detail.startswith("not on this tree: ")
    assert results["aces-call-allin-6max"].status == "pass"
    assert results["nuts-call-river-bet"].detail == "for heads-up Hold'em only"

    break_row(blueprint, sums, RAISE, "72o", seat="UTG")
    report = run_litmus(blueprint, load_scenarios())
    assert report.failing == ["no-value-raise-72o-utg"]
    assert by_name(report)["no-value-raise-72o-utg"].detail.startswith(
        "72o raises 100% of the time first in under the gun (at most 25%)"
    )


def test_six_max_folding_the_nuts_to_a_river_shove_fails():
    rules = dataclasses.replace(SIX_MAX_RULES, max_raises=(1, 0, 0, 1))  # a river bet: 59,517 nodes
    game = holdem_game(rules, (169, 1, 1, 1), fake_bucket_tables())
    sums = calling_sums(game)
    blueprint = Blueprint.from_tables(game, sums, rules=rules)
    scenarios = [s for s in load_scenarios() if s.name == "nuts-call-river-bet-6max"]
    result = run_litmus(blueprint, scenarios).results[0]
    assert result.status == "pass"
    # the antes make the pot-size open 4.1 bb
    assert result.situation == (
        "BB to act on the river after 'f f f r4.1 f c / k k / k k / k a': pot 105.1 bb, "
        "95.8 bb to call"
    )
    break_row(
        blueprint, sums, FOLD, "AsTs", history="f f f r1p f c / k k / k k / k a", board="KsQs7d2cJs"
    )
    result = run_litmus(blueprint, scenarios).results[0]
    assert result.status == "fail"
    assert result.detail.startswith(
        "AsTs (a royal flush, the nuts) in the big blind folds 100% to the button's river all-in on KsQs7d2cJs"
    )


def test_untrained_rows_are_skipped_not_failed():
    game = hu_game()
    blueprint = Blueprint.from_tables(game, np.zeros((game.num_rows, game.max_actions)))
    report = run_litmus(blueprint, load_scenarios())
    assert report.total == 0 and report.failed == 0
    assert by_name(report)["aces-first-in"].detail.startswith("not trained yet")


@pytest.mark.parametrize(
    ("name", "broken"), [("kuhn", ("K", "", "b", "P1")), ("leduc", ("K", "", "r", "P1"))]
)
def test_kuhn_and_leduc_have_their_own_scenario(name, broken):
    game = make_game(name)
    sums = calling_sums(game)
    blueprint = Blueprint.from_tables(game, sums)
    report = run_litmus(blueprint, load_scenarios())
    assert (report.passed, report.failed, report.skipped, report.other_games) == (1, 0, 0, 7)
    hand, board, history, seat = broken
    decision = blueprint.decision(history, seat)
    row = (
        int(game.arrays.node_row_base[decision.node])
        + blueprint.hand_bucket(decision.street, hand, board).bucket
    )
    sums[row] = [1.0, 0.0, 0.0][: game.max_actions]  # column 0 folds (Kuhn: pass)
    assert run_litmus(blueprint, load_scenarios()).failing == [f"{name}-king-calls"]


# -- user files ------------------------------------------------------------------------------

USER = """\
scenarios:
  - name: aces-first-in
    games: heads_up
    hands: AA
    expect: {action: [call, raise], at_least: 0.99}
    diagnosis: "{hand} continues only {probability}"
  - name: queens-open
    games: [holdem]
    seat: BTN
    hands: [QQ, QsQh]
    expect: {action: raise, at_least: 0.5}
    diagnosis: "{hand} raises {probability} (at least {limit}) at {seat}"
"""


def test_a_user_file_adds_scenarios_and_replaces_those_of_the_same_name(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(USER)
    scenarios = load_scenarios(path)
    names = [s.name for s in scenarios]
    assert names == [
        *(n for n in DEFAULT_NAMES if n != "aces-first-in"),
        "aces-first-in",
        "queens-open",
    ]
    mine = scenarios[-2]
    assert mine.games == ("heads_up",) and mine.hands == ("AA",) and mine.source == str(path)
    assert mine.expect.describe() == "P(call or raise) >= 99%"
    path.write_text("replace_default: true\n" + USER)
    assert [s.name for s in load_scenarios(path)] == ["aces-first-in", "queens-open"]

    game = hu_game()
    sums = calling_sums(game)
    blueprint = Blueprint.from_tables(game, sums, rules=HU_RULES)
    results = by_name(run_litmus(blueprint, load_scenarios(path)))
    assert results["aces-first-in"].status == "pass"  # calling continues
    assert results["queens-open"].detail == "QQ raises 0% (at least 50%) at BTN"


GOOD = {
    "name": "x",
    "games": "[holdem]",
    "hands": "[AA]",
    "expect": "{action: fold, at_most: 0.1}",
    "diagnosis": "bad",
}


def _file(**changes: str | None) -> str:
    keys = {**GOOD, **changes}
    lines = [f"    {k}: {v}" for k, v in keys.items() if v is not None]
    return "scenarios:\n  - " + "\n".join(lines).lstrip() + "\n"


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_scenarios(tmp_path / "nope.yaml")
    assert str(error.value) == (
        f"{tmp_path / 'nope.yaml'}: no such file; give a litmus scenarios file "
        f"(the format: {default_path()})"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "the top level must be a mapping"),
        (
            "scenario: []\n",
            "scenario: unknown key; a scenarios file has scenarios, replace_default",
        ),
        ("scenarios: []\n", "scenarios: must be a non-empty list, got [] (list)"),
        ("replace_default: yes\nscenarios: [1]\n", "replace_default: must be true or false"),
        ("scenarios: [1]\n", "scenarios[0]: must be a mapping of scenario keys, got 1 (int)"),
        (_file(diagnosis=None), "scenarios[0].diagnosis: missing; every scenario needs"),
        (_file(hand="AA"), "scenarios[0].hand: unknown key; known: name, games, seat"),
        (_file(name="'a b'"), "scenarios[0].name: letters, digits"),
        (_file(games="[hu]"), "scenarios[0] (x).games: 'hu' (str) is not one of holdem, heads_up"),
        (_file(games="[holdem, kuhn]"), "scenarios[0] (x).games: Hold'em and Kuhn/Leduc hands"),
        (_file(seat="UTF"), "scenarios[0] (x).seat: 'UTF' is not one of BB, BTN, CO"),
        (_file(history="'r2.5 ?'"), "scenarios[0] (x).history: 'r2.5 ?': cannot read '?'"),
        (_file(hands="[AX]"), "scenarios[0] (x).hands: 'AX': "),
        (_file(board="AhKd", hands="[QsQh]"), "scenarios[0] (x).board: 'AhKd': a board has 3"),
        (_file(board="AhKd7c", hands="[AhAs]"), "scenarios[0] (x).hands: 'AhAs' shares a card"),
        (_file(board="AhKd7c", hands="[QQ]"), "(after the flop, give cards: AsKs)"),
        (_file(expect="{action: check, at_most: 0.1}"), "(x).expect.action: 'check' (str) is not"),
        (
            _file(expect="{action: fold, at_most: 1.5}"),
            "(x).expect.at_most: must be a number from 0",
        ),
        (_file(expect="{action: fold}"), "(x).expect: give exactly one of at_most, at_least"),
        (_file(expect="{action: fold, below: 1}"), "(x).expect.below: unknown key"),
        (_file(expect="fold"), "(x).expect: a mapping such as {action: fold, at_most: 0.05}"),
        (_file(equity="high"), "(x).equity: must be a number from 0 to 1, got 'high' (str)"),
        (_file(diagnosis="'{hnad} folds'"), "(x).diagnosis: unknown placeholder {hnad}; known:"),
        (_file(diagnosis="'{hand'"), "(x).diagnosis: expected '}' before end of string"),
        (_file(games="[kuhn]", hands="[A]"), "(x).hands: 'A': Kuhn and Leduc cards are J, Q or K"),
        (_file() + _file().removeprefix("scenarios:\n"), "scenarios[1].name: 'x' is used twice"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        read_scenarios(path)
    text = str(error.value)
    assert text.startswith(f"{path}:") and message in text and "\n" not in text
    with pytest.raises(ConfigError):
        load_scenarios(path)
