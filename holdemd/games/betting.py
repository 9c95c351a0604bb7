"""Betting rounds as a state machine, and the builder that compiles one into `GameArrays`.

The builder knows how betting proceeds (who acts next, when a round ends, when the hand ends);
a `Rules` object knows which actions are legal and how they are written. Limit games (Kuhn,
Leduc) and no-limit Hold'em differ only in their `Rules`, so they share this builder and the
arrays it produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from holdemd.errors import GameError
from holdemd.games.compiled import (
    CHECK_CALL,
    FOLD,
    FOLDED,
    NOT_TERMINAL,
    RAISE,
    SHOWDOWN,
    GameArrays,
    no_bucket_tables,
)

# The record builder holds a Python record per node (a few hundred bytes): past this many nodes
# it stops with a clear error before a runaway tree exhausts memory. It builds only the limit
# games (dozens of nodes) and, in tests, references for the no-limit kernel.
MAX_NODES = 3_000_000


@dataclass(frozen=True)
class BettingState:
    """Where a hand stands between actions."""

    street: int
    contrib: tuple[float, ...]  # chips put in by each player so far, antes included
    stacks: tuple[float, ...]  # each player's total chips at the start (inf for limit games)
    alive: tuple[bool, ...]  # not folded
    to_act: tuple[int, ...]  # players still to act this round, in order; head acts next
    raises: int  # bets and raises made this round (the first bet counts)
    history: tuple[str, ...]  # one string of action letters per street begun

    @property
    def player(self) -> int:
        return self.to_act[0]

    @property
    def to_call(self) -> float:
        return max(self.contrib) - self.contrib[self.player]

    def can_act(self, p: int) -> bool:
        """Still in the hand and not all-in."""
        return self.alive[p] and self.contrib[p] < self.stacks[p]


class Rules(Protocol):
    """What a game's betting rules must say for the builder."""

    @property
    def num_players(self) -> int: ...

    @property
    def num_streets(self) -> int: ...

    def initial_state(self) -> BettingState: ...

    def legal_actions(self, state: BettingState) -> list[tuple[int, float]]:
        """(kind, amount) pairs in table order; amount is the actor's contribution after it."""
        ...

    def letter(self, state: BettingState, kind: int, amount: float) -> str:
        """The action as written in a history string."""
        ...

    def street_order(self, street: int) -> list[int]:
        """Players in acting order for a new round (before skipping folded or all-in ones)."""
        ...


def apply_action(rules: Rules, state: BettingState, kind: int, amount: float) -> BettingState:
    """The state after the player to act takes (kind, amount); may start the next street."""
    p = state.player
    contrib = list(state.contrib)
    alive = list(state.alive)
    rest = list(state.to_act[1:])
    raises = state.raises
    if kind == FOLD:
        alive[p] = False
    elif kind == CHECK_CALL:
        contrib[p] = amount
    elif kind == RAISE:
        contrib[p] = amount
        raises += 1
        # Everyone else still able to act must answer the raise, in seat order after the raiser.
        n = rules.num_players
        order = [(p + k) % n for k in range(1, n)]
        rest = [q for q in order if alive[q] and contrib[q] < state.stacks[q]]
    else:
        raise GameError(f"unknown action kind {kind}")
    history = list(state.history)
    history[-1] += rules.letter(state, kind, amount)
    return replace(
        state,
        contrib=tuple(contrib),
        alive=tuple(alive),
        to_act=tuple(rest),
        raises=raises,
        history=tuple(history),
    )


def next_street(rules: Rules, state: BettingState) -> BettingState | None:
    """The state at the start of the next round, or None when the hand goes to showdown."""
    street = state.street + 1
    while street < rules.num_streets:
        order = [p for p in rules.street_order(street) if state.can_act(p)]
        history = (*state.history, "")
        if len(order) >= 2:
            return replace(state, street=street, to_act=tuple(order), raises=0, history=history)
        # Fewer than two players can still bet (the others are all-in): the board runs out.
        state = replace(state, street=street, to_act=(), raises=0, history=history)
        street += 1
    return None


@dataclass
class _NodeRecord:
    player: int
    street: int
    terminal: int
    contrib: tuple[float, ...]
    alive: tuple[bool, ...]
    depth: int
    history: str
    actions: list[tuple[int, float, int]]  # (kind, amount, child index)


def _history_text(history: Sequence[str]) -> str:
    return "/".join(history)


def build_game_arrays(
    rules: Rules,
    street_buckets: Sequence[int],
    deal_kind: int,
    deck: Sequence[int],
    cards_per_deal: int,
    *,
    bucket_tables: tuple[np.ndarray, ...] | None = None,
    fixed_board: Sequence[int] = (),
    card_slot: np.ndarray | None = None,
) -> tuple[GameArrays, Sequence[str], int]:
    """Compile ``rules`` into arrays; returns (arrays, history per node, number of infoset rows).

    Nodes are numbered in depth-first pre-order with the root at 0, so a subtree is contiguous.
    No-limit rules go to the numba builder (``games.nolimit_tree``: no per-node objects, no
    node limit but memory, histories packed); the limit games, a few hundred nodes, to
    :func:`build_record_arrays`. Both give the same arrays for the same rules.
    """
    from holdemd.games.nolimit import NoLimitRules
    from holdemd.games.nolimit_tree import build_nolimit_arrays

    if isinstance(rules, NoLimitRules):
        arrays, histories, num_rows = build_nolimit_arrays(
            rules, street_buckets, deal_kind, deck, cards_per_deal
        )
        return _with_cards(arrays, bucket_tables, fixed_board, card_slot), histories, num_rows
    arrays, record_histories, num_rows = build_record_arrays(
        rules, street_buckets, deal_kind, deck, cards_per_deal
    )
    return _with_cards(arrays, bucket_tables, fixed_board, card_slot), record_histories, num_rows


def _with_cards(
    arrays: GameArrays,
    bucket_tables: tuple[np.ndarray, ...] | None,
    fixed_board: Sequence[int],
    card_slot: np.ndarray | None,
) -> GameArrays:
    return arrays._replace(
        bucket_tables=bucket_tables if bucket_tables is not None else no_bucket_tables(),
        fixed_board=np.asarray(fixed_board, dtype=np.int64),
        card_slot=card_slot if card_slot is not None else np.zeros(0, dtype=np.int64),
    )


def build_record_arrays(
    rules: Rules,
    street_buckets: Sequence[int],
    deal_kind: int,
    deck: Sequence[int],
    cards_per_deal: int,
    *,
    max_nodes: int = MAX_NODES,
) -> tuple[GameArrays, tuple[str, ...], int]:
    """The tree walked in Python with a record per node, without card fields: the builder of
    the limit games, and the reference the no-limit kernel is tested against.

    Past ``max_nodes`` nodes it stops with a clear error (see :data:`MAX_NODES`).
    """
    if len(street_buckets) != rules.num_streets:
        raise GameError(
            f"{len(street_buckets)} bucket counts given for {rules.num_streets} streets"
        )
    records: list[_NodeRecord] = []

    def visit(state: BettingState, depth: int) -> int:
        index = len(records)
        if index >= max_nodes:
            raise GameError(
                f"the betting tree has more than {max_nodes:,} nodes; use fewer bet sizes, "
                "lower max_raises or fewer players (`holdemd tree --config FILE` counts a tree)"
            )
        alive_count = sum(state.alive)
        if alive_count == 1:
            terminal = FOLDED
        elif not state.to_act:
            terminal = SHOWDOWN
        else:
            terminal = NOT_TERMINAL
        record = _NodeRecord(
            player=state.player if terminal == NOT_TERMINAL else -1,
            street=state.street,
            terminal=terminal,
            contrib=state.contrib,
            alive=state.alive,
            depth=depth,
            history=_history_text(state.history),
            actions=[],
        )
        records.append(record)
        if terminal != NOT_TERMINAL:
            return index
        legal = rules.legal_actions(state)
        if not legal:
            raise GameError(f"no legal action at history '{record.history}'")
        for kind, amount in legal:
            child_state = apply_action(rules, state, kind, amount)
            if sum(child_state.alive) > 1 and not child_state.to_act:
                advanced = next_street(rules, child_state)
                if advanced is not None:
                    child_state = advanced
            record.actions.append((kind, amount, visit(child_state, depth + 1)))
        return index

    visit(rules.initial_state(), 0)
    return _to_arrays(records, rules.num_players, street_buckets, deal_kind, deck, cards_per_deal)


def _to_arrays(
    records: list[_NodeRecord],
    num_players: int,
    street_buckets: Sequence[int],
    deal_kind: int,
    deck: Sequence[int],
    cards_per_deal: int,
) -> tuple[GameArrays, tuple[str, ...], int]:
    n = len(records)
    max_actions = max(len(r.actions) for r in records)
    children = np.full((n, max_actions), -1, dtype=np.int32)
    kinds = np.full((n, max_actions), -1, dtype=np.int8)
    amounts = np.zeros((n, max_actions), dtype=np.float64)
    row_base = np.full(n, -1, dtype=np.int64)
    num_rows = 0
    for i, r in enumerate(records):
        for a, (kind, amount, child) in enumerate(r.actions):
            children[i, a] = child
            kinds[i, a] = kind
            amounts[i, a] = amount
        if r.terminal == NOT_TERMINAL:
            row_base[i] = num_rows
            num_rows += int(street_buckets[r.street])
    arrays = GameArrays(
        node_player=np.array([r.player for r in records], dtype=np.int8),
        node_street=np.array([r.street for r in records], dtype=np.int8),
        node_num_actions=np.array([len(r.actions) for r in records], dtype=np.int8),
        node_children=children,
        node_action_kind=kinds,
        node_action_amount=amounts,
        node_row_base=row_base,
        node_terminal=np.array([r.terminal for r in records], dtype=np.int8),
        node_contrib=np.array([r.contrib for r in records], dtype=np.float64),
        node_alive=np.array([r.alive for r in records], dtype=np.int8),
        node_depth=np.array([r.depth for r in records], dtype=np.int16),
        street_buckets=np.asarray(street_buckets, dtype=np.int64),
        deal_kind=deal_kind,
        deck=np.asarray(deck, dtype=np.int64),
        cards_per_deal=cards_per_deal,
        bucket_tables=no_bucket_tables(),
        fixed_board=np.zeros(0, dtype=np.int64),
        card_slot=np.zeros(0, dtype=np.int64),
        num_players=num_players,
        max_depth=max(r.depth for r in records),
    )
    return arrays, tuple(r.history for r in records), num_rows


@dataclass(frozen=True)
class LimitRules:
    """Fixed-limit betting: one bet size per street and a cap on bets and raises per street.

    With ``fold_letter == check_letter`` and ``call_letter == raise_letter`` this writes Kuhn's
    pass/bet histories; with distinct letters Leduc's f/c/r ones.
    """

    num_players: int
    ante: float
    bet_sizes: tuple[float, ...]  # per street
    max_raises: tuple[int, ...]  # per street, the first bet counts
    letters: dict[str, str]  # keys: fold, check, call, raise

    @property
    def num_streets(self) -> int:
        return len(self.bet_sizes)

    def initial_state(self) -> BettingState:
        n = self.num_players
        return BettingState(
            street=0,
            contrib=(self.ante,) * n,
            stacks=(float("inf"),) * n,
            alive=(True,) * n,
            to_act=tuple(self.street_order(0)),
            raises=0,
            history=("",),
        )

    def street_order(self, street: int) -> list[int]:
        return list(range(self.num_players))  # player 0 acts first on every street

    def legal_actions(self, state: BettingState) -> list[tuple[int, float]]:
        p = state.player
        top = max(state.contrib)
        actions: list[tuple[int, float]] = []
        if state.to_call > 0:
            actions.append((FOLD, state.contrib[p]))  # fold only when facing a bet
        actions.append((CHECK_CALL, top))
        if state.raises < self.max_raises[state.street]:
            actions.append((RAISE, top + self.bet_sizes[state.street]))
        return actions

    def letter(self, state: BettingState, kind: int, amount: float) -> str:
        if kind == FOLD:
            return self.letters["fold"]
        if kind == CHECK_CALL:
            return self.letters["call" if state.to_call > 0 else "check"]
        return self.letters["raise"]
