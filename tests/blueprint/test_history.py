"""The --history syntax: tokens, canonical text, and every tree node reachable by its own text."""

from __future__ import annotations

import pytest

from holdemd.blueprint.history import Token, format_bb, format_history, parse_history
from holdemd.blueprint.tree import BettingTree, Spot
from holdemd.blueprint.walk import follow
from holdemd.errors import UsageError
from holdemd.games.factory import build_game, make_game, nolimit_rules
from tests.lookup.games import HU_RULES, SIX_MAX_RULES, hu_game, six_max_game, tiny_config


def test_tokens_with_sizes_units_and_street_breaks():
    assert parse_history("r2.5 c / x b0.5p r3bb, a") == [
        Token("r2.5", "r", 2.5),
        Token("c", "c"),
        Token("/", "/"),
        Token("x", "x"),
        Token("b0.5p", "b", 0.5, pot=True),
        Token("r3bb", "r", 3.0),
        Token("a", "a"),
    ]


def test_compact_and_spaced_forms_read_the_same():
    spaced = [(t.letter, t.amount, t.pot) for t in parse_history("R2.5 C / K B.5P")]
    compact = [(t.letter, t.amount, t.pot) for t in parse_history("r2.5c/kb.5p")]
    assert spaced == compact
    assert [t.letter for t in parse_history("rc/r")] == ["r", "c", "/", "r"]


def test_unreadable_text_names_the_flag_and_the_position():
    with pytest.raises(UsageError) as error:
        parse_history("r2.5 ?c")
    assert str(error.value).startswith("--history 'r2.5 ?c': cannot read '?c' (position 6);")


def test_canonical_text():
    assert format_history((("r2.5", "c"), ("k", "b3")), compact=False) == "r2.5 c / k b3"
    assert format_history((("r2.5", "c"), ()), compact=False) == "r2.5 c /"
    assert format_history(((),), compact=False) == ""
    assert format_history((("r", "c"), ("r",)), compact=True) == "rc/r"
    assert [format_bb(x) for x in (2.5, 3.0, 0.25, 13.333)] == ["2.5", "3", "0.25", "13.33"]


def _every_spot(tree: BettingTree, spot: Spot, limit: int):
    """Pre-order walk of the tree through `BettingTree.take`, at most ``limit`` spots."""
    stack = [spot]
    count = 0
    while stack and count < limit:
        spot = stack.pop()
        count += 1
        yield spot
        if not tree.is_terminal(spot):
            stack.extend(tree.take(spot, act) for act in tree.actions(spot))


@pytest.mark.parametrize("name", ["kuhn", "leduc", "tiny", "hu", "six_max"])
def test_every_node_is_reached_by_its_canonical_history(name):
    if name in ("kuhn", "leduc"):
        game, rules = make_game(name), None
    elif name == "tiny":
        game, rules = build_game(tiny_config()), nolimit_rules(tiny_config())
    elif name == "hu":
        game, rules = hu_game(), HU_RULES
    else:
        game, rules = six_max_game(), SIX_MAX_RULES
    tree = BettingTree(game, rules)
    seen = set()
    for spot in _every_spot(tree, tree.root(), limit=3000):
        text = tree.history(spot)
        assert follow(tree, text).node == spot.node, text
        seen.add(spot.node)
    assert len(seen) == min(game.num_nodes, 3000)


def test_leduc_canonical_history_is_the_export_notation():
    game = make_game("leduc")
    tree = BettingTree(game)
    spot = follow(tree, "r c / r")
    assert tree.history(spot) == "rc/r" == game.histories[spot.node]
