"""A compiled betting tree as a user walks it: the actions at a node with their --history
tokens and human labels, and the spot (node, pot, street contributions) a history reaches.

No-limit games replay the game's `NoLimitRules` alongside the node arrays, so labels can speak of
pots, bets and stacks in big blinds; Kuhn and Leduc are read from the node arrays alone (their
tokens are the letters of the tree's own histories).
"""

from __future__ import annotations

from dataclasses import dataclass

from holdemd.blueprint.history import format_bb, format_history
from holdemd.blueprint.seats import seat_names
from holdemd.errors import GameError
from holdemd.games.betting import BettingState, apply_action, next_street
from holdemd.games.compiled import CHECK_CALL, FOLD, Game
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit import NoLimitRules


@dataclass(frozen=True)
class TreeAction:
    """One legal action at a decision node, in table-column order."""

    index: int  # column in the tables (and in the node arrays)
    kind: int  # FOLD / CHECK_CALL / RAISE
    token: str  # how --history writes it
    label: str  # how people say it: "fold", "call 0.5 bb", "raise to 3 bb", "all-in 100 bb"
    child: int
    amount: float = 0.0  # no-limit: the actor's contribution (chips, whole hand) after it
    amount_bb: float | None = None  # no-limit bets: the actor's street total in big blinds
    pot_fraction: float | None = None  # no-limit bets: size / (pot after calling)


@dataclass(frozen=True)
class Translation:
    """An off-tree bet size and the tree actions pseudo-harmonic translation maps it to."""

    typed: str  # the token as written, e.g. "b2.7p"
    fraction: float  # its size as a pot fraction (the raise increment over the pot after calling)
    options: tuple[tuple[TreeAction, float], ...]  # tree actions with their probabilities
    chosen: TreeAction  # the one this spot's branch took


@dataclass(frozen=True)
class Spot:
    """A node reached by a history, with what is needed to describe it."""

    node: int
    streets: tuple[tuple[str, ...], ...]  # canonical tokens per street begun
    notes: tuple[str, ...] = ()  # off-tree actions and the tree actions they were mapped to
    state: BettingState | None = None  # no-limit games: pot, stacks, raises of the street
    street_start: tuple[float, ...] = ()  # no-limit: contributions when the street began
    translations: tuple[Translation, ...] = ()  # off-tree sizes on the way here
    weight: float = 1.0  # probability of this branch given the translations (1 without any)


def street_name(game: Game, street: int) -> str:
    return game_kind(game.name).street_name(street)


class BettingTree:
    """A game's decision tree as a user walks it: actions, labels and seats per node."""

    def __init__(self, game: Game, rules: NoLimitRules | None = None) -> None:
        self.game = game
        self.rules = rules
        self.seats = seat_names(game.name, game.num_players)
        self.compact = rules is None  # Kuhn and Leduc write histories without spaces

    # -- where a spot is ---------------------------------------------------------------------

    def root(self) -> Spot:
        if self.rules is None:
            return Spot(node=0, streets=((),))
        state = self.rules.initial_state()
        start = tuple(float(self.rules.ante) for _ in range(self.game.num_players))
        return Spot(node=0, streets=((),), state=state, street_start=start)

    def is_terminal(self, spot: Spot) -> bool:
        return int(self.game.arrays.node_player[spot.node]) < 0

    def player(self, spot: Spot) -> int:
        return int(self.game.arrays.node_player[spot.node])

    def street(self, spot: Spot) -> int:
        return int(self.game.arrays.node_street[spot.node])

    def seat(self, spot: Spot) -> str:
        return self.seats[self.player(spot)]

    def history(self, spot: Spot) -> str:
        """The canonical --history of ``spot``."""
        return format_history(spot.streets, self.compact)

    def where(self, spot: Spot) -> str:
        """``after 'r2 c /'``, or ``at the start of the hand``."""
        text = self.history(spot)
        return f"after '{text}'" if text else "at the start of the hand"

    def to_call(self, spot: Spot) -> float:
        """Chips the player to act must add to call."""
        contrib = self.game.arrays.node_contrib[spot.node]
        return float(contrib.max() - contrib[self.player(spot)])

    def pot(self, spot: Spot) -> float:
        return float(self.game.arrays.node_contrib[spot.node].sum())

    def bb(self, chips: float) -> float:
        """Chips in big blinds (limit games count in chips)."""
        return chips / self.rules.big_blind if self.rules is not None else chips

    def why_over(self, spot: Spot) -> str:
        alive = self.game.arrays.node_alive[spot.node]
        if int(alive.sum()) == 1:
            return f"{self.seats[int(alive.argmax())]} wins the pot uncontested"
        return "showdown"

    # -- actions -----------------------------------------------------------------------------

    def actions(self, spot: Spot) -> list[TreeAction]:
        """The legal tree actions at a decision node, in table order."""
        a = self.game.arrays
        node = spot.node
        out = []
        for i in range(int(a.node_num_actions[node])):
            kind = int(a.node_action_kind[node, i])
            child = int(a.node_children[node, i])
            amount = float(a.node_action_amount[node, i])
            if self.rules is None:
                out.append(self._limit_action(spot, i, kind, child))
            else:
                out.append(self._nolimit_action(spot, i, kind, child, amount))
        return out

    def _limit_action(self, spot: Spot, index: int, kind: int, child: int) -> TreeAction:
        # The tree's letter for the action is what the child's history adds to the parent's.
        letter = self.game.histories[child][len(self.game.histories[spot.node]) :].strip("/")
        facing = self.to_call(spot) > 0
        label = ("fold", "call" if facing else "check", "raise" if facing else "bet")[kind]
        return TreeAction(index=index, kind=kind, token=letter, label=label, child=child)

    def _nolimit_action(
        self, spot: Spot, index: int, kind: int, child: int, amount: float
    ) -> TreeAction:
        assert spot.state is not None
        state = spot.state
        p = state.player
        top = max(state.contrib)
        to_call = top - state.contrib[p]
        if kind == FOLD:
            return TreeAction(index, kind, "f", "fold", child, amount)
        if kind == CHECK_CALL:
            if to_call <= 0:
                return TreeAction(index, kind, "k", "check", child, amount)
            all_in = " (all-in)" if amount >= state.stacks[p] else ""
            added = format_bb(self.bb(amount - state.contrib[p]))
            return TreeAction(index, kind, "c", f"call {added} bb{all_in}", child, amount)
        street_total = self.bb(amount - spot.street_start[p])
        fraction = (amount - top) / (sum(state.contrib) + to_call)
        total = format_bb(street_total)
        if amount >= state.stacks[p]:
            token, label = "a", f"all-in {total} bb"
        elif self.street_bet(spot) > 0:
            token, label = f"r{total}", f"raise to {total} bb"
        else:
            token, label = f"b{total}", f"bet {total} bb"
        return TreeAction(index, kind, token, label, child, amount, street_total, fraction)

    def facing_bet(self, spot: Spot) -> bool:
        """Whether a bet was made on this street (preflop, the blinds count), so that putting
        chips in is a raise rather than a bet."""
        if self.rules is None:
            return self.to_call(spot) > 0
        return self.street_bet(spot) > 0

    def street_bet(self, spot: Spot) -> float:
        """The largest amount put in on this street so far (preflop: the big blind)."""
        assert spot.state is not None
        return max(c - s for c, s in zip(spot.state.contrib, spot.street_start, strict=True))

    def take(
        self,
        spot: Spot,
        action: TreeAction,
        note: str | None = None,
        translation: Translation | None = None,
        probability: float = 1.0,
    ) -> Spot:
        """The spot after ``action``; ``note`` and ``translation`` record an off-tree size
        mapped onto it, taken with ``probability`` (which multiplies the spot's weight)."""
        street = self.street(spot)
        streets = list(spot.streets)
        streets[street] = (*streets[street], action.token)
        child = action.child
        state, start = spot.state, spot.street_start
        if self.rules is not None:
            assert state is not None
            state = apply_action(self.rules, state, action.kind, action.amount)
            if sum(state.alive) > 1 and not state.to_act:
                state = next_street(self.rules, state) or state
            if state.street != street:
                start = state.contrib
            if "/".join(state.history) != self.game.histories[child]:
                raise GameError(
                    f"the betting rules do not match the compiled tree at node {child} "
                    f"('{self.game.histories[child]}'); the snapshot was written by another version"
                )
        if int(self.game.arrays.node_player[child]) >= 0:
            new_street = int(self.game.arrays.node_street[child])
            streets.extend(() for _ in range(new_street + 1 - len(streets)))
        notes = (*spot.notes, note) if note else spot.notes
        translations = (*spot.translations, translation) if translation else spot.translations
        weight = spot.weight * probability
        return Spot(child, tuple(streets), notes, state, start, translations, weight)
