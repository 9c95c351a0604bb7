"""Counting a no-limit betting tree without building it: nodes per street and the widest node.

A six-player config with a generous menu has a tree of hundreds of millions of nodes; run
set-up and ``holdemd tree`` must know that before building it, and the tree builder
(``games.nolimit_tree``) sizes its arrays from this count. :func:`count_nolimit_tree` counts the
tree of :func:`holdemd.games.betting.build_game_arrays` exactly, usually in well under a second, by memoising over betting states whose subtrees are identical. It relies on three facts
about :class:`~holdemd.games.nolimit.NoLimitRules`, where every player starts with the same
stack:

* A player who folded matters only through the chips they left in the pot.
* A player who has acted since the last raise has called it or made it, so their contribution
  is the top one; only how many such players there are matters. Raises and calls rotate the
  same way among the players left, so who sits where does not matter either.
* An all-in puts the top contribution at the (common) stack: nobody can raise any more, and when
  the round closes every player still in is all-in, so the board runs out to a showdown.

A state is then (street, raises so far, pot, top contribution, the top before the last raise,
the contributions of the players still to act in acting order, how many others are in at the
top). ``tests/games/test_tree_size.py`` checks the count against the builder on every shipped
config and on random menus, stacks and player counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holdemd.games.compiled import GameArrays
from holdemd.games.nolimit import NoLimitRules, raise_to_amounts

# A state costs a few microseconds and a dict entry; past this many distinct states the count
# stops (seconds, not minutes) and reports what it has proven so far.
MAX_COUNTED_STATES = 300_000


@dataclass(frozen=True)
class TreeCounts:
    """How many nodes of each kind a betting tree has on each street, and its widest node."""

    decisions: tuple[int, ...]  # per street: nodes where a player acts
    terminals: tuple[int, ...]  # per street: fold and showdown nodes
    max_actions: int  # the most legal actions at one node: the tables' width
    # per street: legal actions summed over its decisions, i.e. the entries of one bucket's
    # rows without padding to max_actions (what lazily allocated tables hold per bucket)
    actions: tuple[int, ...]

    @property
    def nodes(self) -> int:
        return sum(self.decisions) + sum(self.terminals)


class TreeTooLargeToCount(Exception):
    """The count gave up after :data:`MAX_COUNTED_STATES` states; the tree has at least
    ``nodes_at_least`` nodes (every state found is a node, plus the subtrees counted)."""

    def __init__(self, nodes_at_least: int) -> None:
        super().__init__(f"more than {nodes_at_least:,} nodes")
        self.nodes_at_least = nodes_at_least


def counts_of_arrays(arrays: GameArrays) -> TreeCounts:
    """The same counts read off a built tree."""
    streets = int(arrays.street_buckets.shape[0])
    decision = arrays.node_player >= 0
    actions = arrays.node_num_actions.astype(np.int64)
    return TreeCounts(
        decisions=tuple(int((decision & (arrays.node_street == s)).sum()) for s in range(streets)),
        terminals=tuple(int((~decision & (arrays.node_street == s)).sum()) for s in range(streets)),
        max_actions=int(arrays.node_children.shape[1]),
        actions=tuple(
            int(actions[decision & (arrays.node_street == s)].sum()) for s in range(streets)
        ),
    )


def count_nolimit_tree(rules: NoLimitRules, max_states: int | None = None) -> TreeCounts:
    """Count the tree ``build_game_arrays(rules, ...)`` would build, without building it.

    Raises:
        TreeTooLargeToCount: more than ``max_states`` (default :data:`MAX_COUNTED_STATES`)
            distinct betting states.
    """
    return _Counter(rules, max_states or MAX_COUNTED_STATES).count()


# A subtree's counts travel packed in one Python int, so that adding a child's counts is one
# addition (this halves the time of a count): FIELD_BITS bits per count, decisions on each
# street, then terminals on each street, then legal actions summed over each street's decisions,
# and above them the number of nodes, which has no field limit. A per-street count that outgrew
# its field would carry into the next one and the fields would no longer add up: the node fields
# to the number of nodes, the action fields to one less (every node but the root is one action
# of one decision); _Packing.unpack checks both.
FIELD_BITS = 128


class _Packing:
    def __init__(self, streets: int) -> None:
        self.streets = streets
        self.nodes_shift = FIELD_BITS * 3 * streets
        node = 1 << self.nodes_shift
        self.decision = [node + (1 << (FIELD_BITS * s)) for s in range(streets)]
        self.terminal = [node + (1 << (FIELD_BITS * (streets + s))) for s in range(streets)]
        self.action = [1 << (FIELD_BITS * (2 * streets + s)) for s in range(streets)]

    def nodes(self, packed: int) -> int:
        return packed >> self.nodes_shift

    def unpack(self, packed: int, max_actions: int) -> TreeCounts:
        mask = (1 << FIELD_BITS) - 1
        fields = [(packed >> (FIELD_BITS * i)) & mask for i in range(3 * self.streets)]
        nodes, actions = fields[: 2 * self.streets], fields[2 * self.streets :]
        if sum(nodes) != self.nodes(packed) or sum(actions) != self.nodes(packed) - 1:
            raise TreeTooLargeToCount(1 << FIELD_BITS)  # some street has more nodes than that
        return TreeCounts(
            tuple(nodes[: self.streets]), tuple(nodes[self.streets :]), max_actions, tuple(actions)
        )


class _Counter:
    def __init__(self, rules: NoLimitRules, max_states: int) -> None:
        self.rules = rules
        self.stack = float(rules.stack_chips)
        self.streets = rules.num_streets
        self.max_states = max_states
        self.packing = _Packing(rules.num_streets)
        # Looked up once per state: kept one attribute away, not two.
        self.decision_unit = self.packing.decision
        self.terminal_unit = self.packing.terminal
        self.action_unit = self.packing.action
        self.max_raises = rules.max_raises
        self.big_blind = float(rules.big_blind)
        self.memo: dict[tuple[object, ...], int] = {}
        self.max_actions = 1

    def count(self) -> TreeCounts:
        state = self.rules.initial_state()
        to_act = tuple(state.contrib[p] for p in state.to_act)
        top = max(state.contrib)
        try:
            # Preflop the big blind is the "last raise": a raise must add at least a big blind.
            packed = self._decision(0, 0, sum(state.contrib), top, 0.0, to_act, 0)
        except TreeTooLargeToCount as stop:
            # Each distinct state found is at least one node of its own, too.
            raise TreeTooLargeToCount(max(stop.nodes_at_least, len(self.memo))) from None
        return self.packing.unpack(packed, self.max_actions)

    def _decision(
        self,
        street: int,
        raises: int,
        pot: float,
        top: float,
        previous_top: float,
        to_act: tuple[float, ...],
        at_top: int,
    ) -> int:
        """The packed counts below a decision node, where ``to_act[0]`` acts and ``at_top``
        other players are in at the ``top`` contribution."""
        key = (street, raises, pot, top, previous_top, to_act, at_top)
        known = self.memo.get(key)
        if known is not None:
            return known
        if len(self.memo) >= self.max_states:
            raise TreeTooLargeToCount(0)  # the frames above add what they have counted
        contrib, rest = to_act[0], to_act[1:]
        in_hand = len(to_act) + at_top
        packed = self.decision_unit[street]
        actions = 1
        try:
            if contrib < top:  # fold, offered only when facing a bet
                actions += 1
                if in_hand == 2:
                    packed += self.terminal_unit[street]
                elif rest:
                    packed += self._decision(street, raises, pot, top, previous_top, rest, at_top)
                else:
                    packed += self._round_end(street, pot, top, in_hand - 1)
            called = pot + top - contrib  # check or call
            if rest:
                packed += self._decision(
                    street, raises, called, top, previous_top, rest, at_top + 1
                )
            else:
                packed += self._round_end(street, called, top, in_hand)
            if top < self.stack and raises < self.max_raises[street]:
                # Everyone else answers a raise: the players still to act first, then those at
                # the old top, in seat order after the raiser.
                answer = rest + (top,) * at_top
                for amount in self._raise_amounts(street, raises, pot, top, previous_top, contrib):
                    actions += 1
                    packed += self._decision(
                        street, raises + 1, pot + amount - contrib, amount, top, answer, 1
                    )
        except TreeTooLargeToCount as stop:
            # This node, the subtrees counted so far and what was counted of the next one
            # before the stop are disjoint parts of the tree: together, a lower bound.
            raise TreeTooLargeToCount(stop.nodes_at_least + self.packing.nodes(packed)) from None
        self.max_actions = max(self.max_actions, actions)
        packed += self.action_unit[street] * actions
        self.memo[key] = packed
        return packed

    def _round_end(self, street: int, pot: float, top: float, in_hand: int) -> int:
        """The packed counts below the last action of a round: the next street's first decision,
        or a showdown (the river was played out, or everyone still in is all-in)."""
        if top >= self.stack or street + 1 >= self.streets:
            return self.terminal_unit[street]
        return self._decision(street + 1, 0, pot, top, 0.0, (top,) * in_hand, 0)

    def _raise_amounts(
        self, street: int, raises: int, pot: float, top: float, previous_top: float, contrib: float
    ) -> list[float]:
        menu = self.rules.bet_menu[street]
        fractions = menu[raises] if raises < len(menu) else ()
        # After a raise the minimum raise is the last raise's size; before one, a big blind.
        increment = max(top - previous_top if raises else 0.0, self.big_blind)
        return raise_to_amounts(fractions, top, pot, top - contrib, increment, self.stack)
