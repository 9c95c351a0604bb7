"""Following a ``--history`` down the betting tree to the decision it leads to.

Each typed action is matched to a tree action: letters by kind, no-limit sizes by amount. A size
that is legal in the real game but not on the tree's menu is mapped to the tree size nearest in
pot fraction, with a note; an illegal action, or a raise the abstraction does not allow, is a
one-line `UsageError` naming ``--history``.
"""

from __future__ import annotations

from collections.abc import Sequence

from holdemd.blueprint.history import SYNTAX_HINT, Token, format_bb, parse_history
from holdemd.blueprint.seats import parse_seat
from holdemd.blueprint.tree import BettingTree, Spot, TreeAction, street_name
from holdemd.errors import UsageError
from holdemd.games.compiled import CHECK_CALL, FOLD, RAISE

_KIND_OF_LETTER = {"f": FOLD, "k": CHECK_CALL, "x": CHECK_CALL, "c": CHECK_CALL}


def follow(tree: BettingTree, text: str, start: Spot | None = None) -> Spot:
    """The spot ``text`` leads to from ``start`` (default: the root); raises `UsageError` on an
    illegal action, an action past the end of the hand, or an action the tree cannot map."""
    spot = start or tree.root()
    breaks = len(spot.streets) - 1
    for token in parse_history(text):
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
            breaks += 1
            continue
        spot = _take_token(tree, spot, token, text)
    return spot


def decision(tree: BettingTree, text: str) -> Spot:
    """Like `follow`, but the spot must be a decision (not the end of the hand)."""
    spot = follow(tree, text)
    if tree.is_terminal(spot):
        raise UsageError(
            f"--history {text!r}: no decision is left: the hand is over "
            f"{tree.where(spot)} ({tree.why_over(spot)})"
        )
    return spot


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


def _take_token(tree: BettingTree, spot: Spot, token: Token, text: str) -> Spot:
    actions = tree.actions(spot)
    if tree.rules is None:
        return tree.take(spot, _limit_match(tree, spot, actions, token, text))
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
) -> Spot:
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
        return tree.take(spot, by_kind[FOLD])
    if letter in "kx":
        if to_call > 0:
            raise _illegal(
                tree,
                spot,
                token,
                text,
                f"{seat} faces a bet ({format_bb(tree.bb(to_call))} bb to call): use c, f or a raise",
            )
        return tree.take(spot, by_kind[CHECK_CALL])
    if letter == "c":
        return tree.take(spot, by_kind[CHECK_CALL])
    return _nolimit_raise(tree, spot, actions, token, text)


def _nolimit_raise(
    tree: BettingTree, spot: Spot, actions: list[TreeAction], token: Token, text: str
) -> Spot:
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
            return tree.take(spot, call)  # calling is all-in: the same action
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
            return tree.take(spot, act)
    fraction = (target - top) / (sum(state.contrib) + top - state.contrib[p])
    nearest = min(raises, key=lambda act: abs((act.pot_fraction or 0.0) - fraction))
    typed = format_bb(tree.bb(target - start))
    note = (
        f"{token.text} ({'bet' if tree.street_bet(spot) <= 0 else 'raise to'} {typed} bb, "
        f"{fraction:.2f}x pot) is not on the tree; mapped to the nearest tree action "
        f"{nearest.token} ({nearest.label}, {nearest.pot_fraction or 0.0:.2f}x pot)"
    )
    return tree.take(spot, nearest, note)


def spot_for(tree: BettingTree, history: str | None, seat: str | None) -> Spot:
    """The decision a command asks for: ``--history`` from the root, else ``--seat``'s first
    decision after folds, else the root; ``--seat`` with ``--history`` must name the actor."""
    player = None if seat is None else parse_seat(seat, tree.game.name, tree.game.num_players)
    if history is None:
        return tree.root() if player is None else fold_to(tree, player)
    spot = decision(tree, history)
    if player is not None:
        check_seat(tree, spot, player, history)
    return spot
