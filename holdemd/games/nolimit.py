"""No-limit betting with a bet-size menu: the action abstraction of a Hold'em game.

Chips are integers (1 big blind = ``chips_per_bb`` chips) so that pot-fraction bets round to
real amounts and min-raise arithmetic is exact. Seats: with two players seat 0 is the small
blind and button (acts first preflop, last afterwards) and seat 1 the big blind; with more,
seat 0 is the small blind, 1 the big blind, 2 under the gun ... and the last seat the button;
preflop starts under the gun (after the big blind), later streets with the small blind.

Per street and raise depth (bets and raises made so far on the street) the menu lists pot
fractions; all-in is always offered while a raise is allowed, and ``max_raises`` caps the
raises per street, after which only fold and call remain. A pot-fraction raise is sized on the
pot after calling: raise to ``max_contrib + fraction * (pot + to_call)``; it is lifted to the
minimum raise (the last raise increment, at least one big blind) and becomes all-in when it
reaches the stack. Sizes that round to the same amount are offered once.

Simplification (documented, as in most abstractions): an all-in for less than a full raise
reopens the betting like a full raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from holdemd.games.betting import BettingState
from holdemd.games.compiled import CHECK_CALL, FOLD, RAISE

STREET_NAMES = ("preflop", "flop", "turn", "river")


@dataclass(frozen=True)
class NoLimitRules:
    num_players: int
    stack_chips: int  # every player's starting stack, blinds included
    small_blind: int
    big_blind: int
    ante: int
    bet_menu: tuple[tuple[tuple[float, ...], ...], ...]  # [street][raise depth] -> fractions
    max_raises: tuple[int, ...]  # per street
    num_streets: int = 4

    def __post_init__(self) -> None:
        if not 2 <= self.num_players <= 6:
            raise ValueError(f"num_players must be 2..6, got {self.num_players}")
        if len(self.bet_menu) != self.num_streets or len(self.max_raises) != self.num_streets:
            raise ValueError("bet_menu and max_raises need one entry per street")
        if self.stack_chips <= self.big_blind + self.ante:
            raise ValueError("the stack must be larger than the big blind plus the ante")

    # -- seats ---------------------------------------------------------------------------

    def street_order(self, street: int) -> list[int]:
        n = self.num_players
        if n == 2:
            return [0, 1] if street == 0 else [1, 0]
        if street == 0:
            return [*range(2, n), 0, 1]
        return list(range(n))

    def initial_state(self) -> BettingState:
        n = self.num_players
        contrib = [float(self.ante)] * n
        contrib[0] += self.small_blind
        contrib[1] += self.big_blind
        return BettingState(
            street=0,
            contrib=tuple(contrib),
            stacks=(float(self.stack_chips),) * n,
            alive=(True,) * n,
            to_act=tuple(self.street_order(0)),
            raises=0,
            history=("",),
        )

    # -- actions -------------------------------------------------------------------------

    def legal_actions(self, state: BettingState) -> list[tuple[int, float]]:
        p = state.player
        stack = state.stacks[p]
        top = max(state.contrib)
        actions: list[tuple[int, float]] = []
        if state.to_call > 0:
            actions.append((FOLD, state.contrib[p]))
        actions.append((CHECK_CALL, min(top, stack)))  # a short call is all-in
        others_can_bet = any(state.can_act(q) for q in range(self.num_players) if q != p)
        if stack > top and others_can_bet and state.raises < self.max_raises[state.street]:
            actions.extend((RAISE, amount) for amount in self.raise_amounts(state))
        return actions

    def raise_amounts(self, state: BettingState) -> list[float]:
        """Raise-to amounts on the menu at this point, ascending, all-in last."""
        p = state.player
        top = max(state.contrib)
        depth_menu = self.bet_menu[state.street]
        fractions = depth_menu[state.raises] if state.raises < len(depth_menu) else ()
        return raise_to_amounts(
            fractions,
            top=top,
            pot=sum(state.contrib),
            to_call=top - state.contrib[p],
            min_increment=self._min_raise_increment(state),
            stack=state.stacks[p],
        )

    def _min_raise_increment(self, state: BettingState) -> float:
        """The last full raise on this street, at least one big blind."""
        # After a raise the top two contribution levels are the raise and what it raised; before
        # any raise on the street the minimum is one big blind (preflop: a raise to 2 bb).
        levels = sorted(set(state.contrib), reverse=True)
        increment = levels[0] - levels[1] if state.raises and len(levels) > 1 else 0.0
        return max(increment, float(self.big_blind))

    def letter(self, state: BettingState, kind: int, amount: float) -> str:
        if kind == FOLD:
            return "f"
        if kind == CHECK_CALL:
            return "c" if state.to_call > 0 else "k"
        if amount >= state.stacks[state.player]:
            return "a"
        return f"r{int(amount)}"


def raise_to_amounts(
    fractions: Sequence[float],
    top: float,
    pot: float,
    to_call: float,
    min_increment: float,
    stack: float,
) -> list[float]:
    """Raise-to amounts for pot ``fractions``, ascending, all-in last (see the module docstring);
    shared with the tree counter (``tree_size``) so that both size raises alike."""
    minimum = top + min_increment
    amounts: set[float] = set()
    for fraction in fractions:
        amount = float(round(top + fraction * (pot + to_call)))
        amount = max(amount, minimum)
        amounts.add(min(amount, stack))
    amounts.add(stack)  # all-in
    return sorted(amounts)
