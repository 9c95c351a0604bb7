"""Following a ``--history`` down the betting tree to the decision it leads to.

Each typed action is matched to a tree action: letters by kind, no-limit sizes by amount. A size
that is legal in the real game but not on the tree's menu is translated with pseudo-harmonic
action translation (:mod:`holdemd.blueprint.translation`) to the two tree sizes around it, in
pot fractions: the walk then splits into two weighted *branches* (`branches`), and `follow`
takes one of them, sampled with the caller's random generator or, without one, the more
likely. Each branch's spot says what was translated (``notes``, ``translations``) and how
likely the branch is (``weight``). An illegal action, or a raise the abstraction does not allow,
is a one-line `UsageError` naming ``--history``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from holdemd.blueprint.history import SYNTAX_HINT, Token, format_bb, parse_history
from holdemd.blueprint.seats import parse_seat
from holdemd.blueprint.translation import neighbours
from holdemd.blueprint.tree import BettingTree, Spot, Translation, TreeAction, street_name
from holdemd.errors import UsageError
from holdemd.games.compiled import CHECK_CALL, FOLD, RAISE

_KIND_OF_LETTER = {"f": FOLD, "k": CHECK_CALL, "x": CHECK_CALL, "c": CHECK_CALL}


def branches(tree: BettingTree, text: str, start: Spot | None = None) -> list[Spot]:
    """Every spot ``text`` leads to from ``start`` (default: the root), with weights summing to
    one: a single spot unless an off-tree size was translated to two tree sizes.

    A branch that a later action makes impossible (a size translated to all-in, then a raise)
    is dropped and the others' weights renormalized; when every branch fails, the first one's
    `UsageError` is raised (an illegal action, an action past the end of the hand, or an action
    the tree cannot map).
    """
    first = start or tree.root()
    live = [(first, len(first.streets) - 1)]  # (spot, street breaks seen)
    for token in parse_history(text):
        advanced: list[tuple[Spot, int]] = []
        failure: UsageError | None = None
        for spot, breaks in live:
            try:
                advanced.extend(_advance(tree, spot, breaks, token, text))
            except UsageError as exc:
                failure = failure or exc
        if not advanced:
            assert failure is not None
            raise failure
        live = advanced
    return _renormalized([spot for spot, _ in live])


def _renormalized(spots: list[Spot]) -> list[Spot]:
    """Branches whose weights sum to one again after some were dropped, saying so."""
    total = sum(spot.weight for spot in spots)
    if abs(total - 1.0) <= 1e-12:
        return spots
    note = (
        f"a translated size's other branch ({1.0 - total:.2f} of the weight) cannot reach this "
        "point of the history and was dropped"
    )
    return [replace(spot, weight=spot.weight / total, notes=(*spot.notes, note)) for spot in spots]


def follow(
    tree: BettingTree,
    text: str,
    start: Spot | None = None,
    rng: np.random.Generator | None = None,
) -> Spot:
    """The spot ``text`` leads to from ``start`` (default: the root): one of `branches`, drawn
    with ``rng`` by weight, or without ``rng`` the most likely one (the smaller size on a tie).
    Raises `UsageError` like `branches`."""
    return pick(branches(tree, text, start), rng)


def pick(spots: Sequence[Spot], rng: np.random.Generator | None = None) -> Spot:
    """One branch: drawn with ``rng`` by weight, or the most likely one (the first on a tie)."""
    if len(spots) == 1:
        return spots[0]
    if rng is None:
        return max(spots, key=lambda spot: spot.weight)
    u = float(rng.random())
    for spot in spots:
        u -= spot.weight
        if u < 0.0:
            return spot
    return spots[-1]


def _advance(
    tree: BettingTree, spot: Spot, breaks: int, token: Token, text: str
) -> list[tuple[Spot, int]]:
    if tree.is_terminal(spot):
        raise UsageError(
            f"--history {text!r}: the hand is over {tree.where(spot)} "
            f"({tree.why_over(spot)}); nothing can follow"
        )
    if token.is_street_break:
        street = tree.street(spot)
        if breaks + 1 > street:
            raise UsageError(
                f"--history {text!r}: '/' {tree.where(spot)} comes before the "
                f"{street_name(tree.game, street)} betting is over ({tree.seat(spot)} to act)"
            )
        return [(spot, breaks + 1)]
    return [(child, breaks) for child in _take_token(tree, spot, token, text)]


def decision(tree: BettingTree, text: str, rng: np.random.Generator | None = None) -> Spot:
    """Like `follow`, but the spot must be a decision (not the end of the hand)."""
    return pick(decision_branches(tree, text), rng)


def decision_branches(tree: BettingTree, text: str) -> list[Spot]:
    """Like `branches`, keeping the branches that end at a decision (reweighted); raises
    `UsageError` when none does."""
    spots = branches(tree, text)
    live = [spot for spot in spots if not tree.is_terminal(spot)]
    if not live:
        spot = spots[0]
        raise UsageError(
            f"--history {text!r}: no decision is left: the hand is over "
            f"{tree.where(spot)} ({tree.why_over(spot)})"
        )
    return _renormalized(live)


def fold_to(tree: BettingTree, seat: int) -> Spot:
    """The first decision of ``seat`` when every player before it folds (or, where folding is
    not an action, the first decision at all); raises `UsageError` if ``seat`` never gets one."""
    spot = before = tree.root()
    while not tree.is_terminal(spot) and tree.player(spot) != seat:
        fold = next((act for act in tree.actions(spot) if act.kind == FOLD), None)
        if fold is None:
            break
        before, spot = spot, tree.take(spot, fold)
    if not tree.is_terminal(spot) and tree.player(spot) == seat:
        return spot
    prefix = before if tree.is_terminal(spot) else spot
    actions = tree.actions(prefix)
    example = next((act for act in actions if act.kind == RAISE), actions[0])
    name = tree.seats[seat]
    why = (
        f"if everyone before {name} folds, the hand ends before {name} acts"
        if tree.is_terminal(spot)
        else f"{name} does not act first"
    )
    raise UsageError(
        f"--seat {name}: {why}; give the actions before its decision with --history, "
        f"e.g. --history '{tree.history(tree.take(prefix, example))}'"
    )


def check_seat(tree: BettingTree, spot: Spot, seat: int, text: str) -> None:
    """Refuse ``--seat`` naming someone other than the player to act at ``spot``."""
    if tree.player(spot) != seat:
        raise UsageError(
            f"--seat {tree.seats[seat]}: {tree.where(spot)} (--history {text!r}) "
            f"{tree.seat(spot)} acts, not {tree.seats[seat]}; drop --seat or change --history"
        )


# -- matching one typed action to a tree action --------------------------------------------------


def _take_token(tree: BettingTree, spot: Spot, token: Token, text: str) -> list[Spot]:
    actions = tree.actions(spot)
    if tree.rules is None:
        return [tree.take(spot, _limit_match(tree, spot, actions, token, text))]
    return _nolimit_take(tree, spot, actions, token, text)


def _illegal(tree: BettingTree, spot: Spot, token: Token, text: str, why: str) -> UsageError:
    return UsageError(f"--history {text!r}: {token.text!r} is illegal {tree.where(spot)}: {why}")


def _choices(actions: Sequence[TreeAction]) -> str:
    return ", ".join(f"{act.token} ({act.label})" for act in actions)


def _limit_match(
    tree: BettingTree, spot: Spot, actions: list[TreeAction], token: Token, text: str
) -> TreeAction:
    if token.amount is not None:
        raise _illegal(
            tree, spot, token, text, f"{tree.game.name} has fixed bet sizes; write no amount"
        )
    for act in actions:
        if act.token == token.letter:
            return act
    facing = tree.to_call(spot) > 0
    kind = RAISE if token.letter in "rb" else _KIND_OF_LETTER.get(token.letter)
    if kind is not None and not (token.letter in "kx" and facing):
        for act in actions:
            if act.kind == kind:
                return act
    raise _illegal(tree, spot, token, text, f"{tree.seat(spot)} can play {_choices(actions)}")


def _nolimit_take(
    tree: BettingTree, spot: Spot, actions: list[TreeAction], token: Token, text: str
) -> list[Spot]:
    seat = tree.seat(spot)
    to_call = tree.to_call(spot)
    by_kind = {act.kind: act for act in actions if act.kind != RAISE}
    letter = token.letter
    if letter not in "fkxcarb":
        raise UsageError(f"--history {text!r}: unknown action {token.text!r}; {SYNTAX_HINT}")
    if letter in "fkxca" and token.amount is not None:
        raise UsageError(
            f"--history {text!r}: {token.text!r}: only b and r take an amount; {SYNTAX_HINT}"
        )
    if letter == "f":
        if to_call <= 0:
            raise _illegal(
                tree, spot, token, text, f"{seat} can check (k); there is no bet to fold to"
            )
        return [tree.take(spot, by_kind[FOLD])]
    if letter in "kx":
        if to_call > 0:
            raise _illegal(
                tree,
                spot,
                token,
                text,
                f"{seat} faces a bet ({format_bb(tree.bb(to_call))} bb to call): use c, f or a raise",
            )
        return [tree.take(spot, by_kind[CHECK_CALL])]
    if letter == "c":
        return [tree.take(spot, by_kind[CHECK_CALL])]
    return _nolimit_raise(tree, spot, actions, token, text)


def _nolimit_raise(
    tree: BettingTree, spot: Spot, actions: list[TreeAction], token: Token, text: str
) -> list[Spot]:
    assert spot.state is not None and tree.rules is not None
    rules, state = tree.rules, spot.state
    p = state.player
    seat = tree.seat(spot)
    stack = state.stacks[p]
    top = max(state.contrib)
    start = spot.street_start[p]
    others_can_bet = any(state.can_act(q) for q in range(rules.num_players) if q != p)
    if stack <= top or not others_can_bet:
        call = next(act for act in actions if act.kind == CHECK_CALL)
        if token.letter == "a" and stack <= top:
            return [tree.take(spot, call)]  # calling is all-in: the same action
        why = (
            "every other player is all-in"
            if stack > top
            else f"calling already puts all of {seat}'s chips in"
        )
        raise _illegal(tree, spot, token, text, f"{seat} can only call or fold: {why}")
    if token.letter == "a":
        target = stack
    elif token.amount is None:
        raise UsageError(
            f"--history {text!r}: {token.text!r} needs a size: {token.letter}2.5 (big blinds "
            f"on this street) or {token.letter}0.5p (pot fraction)"
        )
    elif token.pot:
        target = float(round(top + token.amount * (sum(state.contrib) + top - state.contrib[p])))
    else:
        target = start + float(round(token.amount * rules.big_blind))
    if target > stack:
        raise _illegal(
            tree,
            spot,
            token,
            text,
            f"{seat} can put in at most {format_bb(tree.bb(stack - start))} bb on this street "
            "(all-in: a); amounts are big blinds, or pot fractions with p (e.g. r0.5p)",
        )
    if target <= top:
        current = format_bb(tree.bb(tree.street_bet(spot)))
        raise _illegal(
            tree,
            spot,
            token,
            text,
            f"a bet or raise must go above the current bet of {current} bb on this street",
        )
    # The rules' own minimum (the last raise increment, at least a big blind), so a size the
    # tree builder would have lifted is refused the same way here.
    minimum = min(top + rules._min_raise_increment(state), stack)
    if target < minimum:
        least = format_bb(tree.bb(minimum - start))
        what, letter = ("raise", "r") if tree.facing_bet(spot) else ("bet", "b")
        raise _illegal(
            tree,
            spot,
            token,
            text,
            f"the minimum {what} is to {least} bb ({letter}{least}) or all-in (a)",
        )
    raises = [act for act in actions if act.kind == RAISE]
    if not raises:
        street = street_name(tree.game, state.street)
        cap = rules.max_raises[state.street]
        raise UsageError(
            f"--history {text!r}: {token.text!r} {tree.where(spot)} is off the abstraction "
            f"tree: it allows {cap} bets and raises on the {street} (game.max_raises.{street}), "
            f"so the blueprint can only call or fold here"
        )
    for act in raises:
        if act.amount == target:
            return [tree.take(spot, act)]
    fraction = (target - top) / (sum(state.contrib) + top - state.contrib[p])
    sizes = [act.pot_fraction or 0.0 for act in raises]
    options = [(raises[i], p) for i, p in neighbours(sizes, fraction).options()]
    typed = format_bb(tree.bb(target - start))
    what = "bet" if tree.street_bet(spot) <= 0 else "raise to"
    described = f"{token.text} ({what} {typed} bb, {fraction:.2f}x pot) is not on the tree"
    if len(options) == 1:
        only = options[0][0]
        why = "smaller than the tree's smallest size" if fraction < sizes[0] else "beyond its sizes"
        mapped = f"; {why}: mapped to {_described(only)}"
        translation = Translation(token.text, fraction, ((only, 1.0),), only)
        return [tree.take(spot, only, described + mapped, translation)]
    listed = " and ".join(f"{_described(act)} with probability {p:.2f}" for act, p in options)
    out = []
    for act, probability in options:
        note = (
            f"{described}; translated (pseudo-harmonic) to {listed}: this branch takes {act.token}"
        )
        translation = Translation(token.text, fraction, tuple(options), act)
        out.append(tree.take(spot, act, note, translation, probability))
    return out


def _described(act: TreeAction) -> str:
    return f"{act.token} ({act.label}, {act.pot_fraction or 0.0:.2f}x pot)"


def spot_for(
    tree: BettingTree,
    history: str | None,
    seat: str | None,
    rng: np.random.Generator | None = None,
) -> Spot:
    """The decision a command asks for: ``--history`` from the root, else ``--seat``'s first
    decision after folds, else the root; ``--seat`` with ``--history`` must name the actor.
    Translated sizes take the branch `pick` takes."""
    return pick(decisions_for(tree, history, seat), rng)


def decisions_for(tree: BettingTree, history: str | None, seat: str | None) -> list[Spot]:
    """`spot_for`'s decision with every branch of its translated sizes (see `branches`)."""
    player = None if seat is None else parse_seat(seat, tree.game.name, tree.game.num_players)
    if history is None:
        return [tree.root() if player is None else fold_to(tree, player)]
    spots = decision_branches(tree, history)
    if player is not None:
        for spot in spots:
            check_seat(tree, spot, player, history)
    return spots


def limit_letter_column(tree: BettingTree, node: int, letter: str) -> int | None:
    """The action column the walk takes for ``letter`` at a Kuhn or Leduc decision ``node``
    (``None`` where the letter is illegal): the fast path of a look-up asks once per node."""
    spot = Spot(node, ((),))
    try:
        return _limit_match(tree, spot, tree.actions(spot), Token(letter, letter), letter).index
    except UsageError:
        return None
