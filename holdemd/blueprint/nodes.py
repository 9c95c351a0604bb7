"""A blueprint's tree as look-ups read it: each node as a `Decision` (built once, from the node
arrays and the stored action texts), and the fast path of following a history.

The fast path (`NodeViews.follow`) matches each typed action against a per-node table of the
spellings the walk would map to that node's actions (letters, and sizes as whole chips), so an
on-tree history costs a few dictionary look-ups. Anything else (an off-tree size to translate,
an illegal action, a seat to check) returns None, and the caller runs the full walk of
:mod:`holdemd.blueprint.walk`, which replays the betting rules and says what is wrong. Tests
hold the two paths to the same answers.
"""

from __future__ import annotations

from holdemd.blueprint.actions import ActionTexts, canonical_history, parents, tree_histories
from holdemd.blueprint.history import Token, parse_history
from holdemd.blueprint.results import Action, Decision
from holdemd.blueprint.tree import BettingTree, street_name
from holdemd.blueprint.walk import limit_letter_column
from holdemd.games.compiled import ACTION_KIND_NAMES, CHECK_CALL, FOLD, RAISE

_LIMIT_LETTERS = "fkxcrbp"
Key = tuple[str, int | None]  # (letter, street total in chips for b/r, else None)


class NodeViews:
    """Per node: its `Decision` and the spellings of its actions, each built on first use."""

    def __init__(self, tree: BettingTree, texts: ActionTexts, chips_per_unit: float) -> None:
        self.tree = tree
        self.texts = texts
        self.arrays = tree.game.arrays
        self.nolimit = tree.rules is not None
        self.unit = "bb" if self.nolimit else "chips"
        self.chips_per_unit = chips_per_unit
        self.parent, self.parent_action = parents(self.arrays)
        self._decisions: dict[int, Decision] = {}
        self._keys: dict[int, dict[Key, int]] = {}
        self._parsed: dict[str, list[Token]] = {}

    def tree_histories(self) -> tuple[str, ...]:
        return tree_histories(self.arrays, self.texts)

    # -- a node as a Decision ----------------------------------------------------------------

    def decision(self, node: int) -> Decision:
        found = self._decisions.get(node)
        if found is None:
            found = self._decisions[node] = self._describe(node)
        return found

    def _describe(self, node: int) -> Decision:
        a, texts = self.arrays, self.texts
        player = int(a.node_player[node])
        street = int(a.node_street[node])
        contrib = a.node_contrib[node]
        top = float(contrib.max())
        pot = float(contrib.sum())
        to_call = top - float(contrib[player]) if player >= 0 else 0.0
        start = texts.street_start[node]
        actions = []
        for column in range(int(a.node_num_actions[node])):
            kind = int(a.node_action_kind[node, column])
            amount = float(a.node_action_amount[node, column])
            amount_bb = pot_fraction = None
            if self.nolimit and kind != FOLD:
                amount_bb = (amount - float(start[player])) / self.chips_per_unit
            if self.nolimit and kind == RAISE:
                pot_fraction = (amount - top) / (pot + to_call)
            actions.append(
                Action(
                    index=column,
                    kind=ACTION_KIND_NAMES[kind],
                    token=texts.pool[int(texts.token[node, column])],
                    label=texts.pool[int(texts.label[node, column])],
                    amount_bb=amount_bb,
                    pot_fraction=pot_fraction,
                    child=int(a.node_children[node, column]),
                )
            )
        street_bet = float((contrib - start).max())
        return Decision(
            node=node,
            player=player,
            seat=self.tree.seats[player] if player >= 0 else "",
            street=street,
            street_name=street_name(self.tree.game, street),
            history=canonical_history(
                a, texts, self.parent, self.parent_action, node, self.tree.compact
            ),
            tree_history=self.tree.game.histories[node],
            unit=self.unit,
            pot=pot / self.chips_per_unit,
            to_call=to_call / self.chips_per_unit,
            facing_bet=street_bet > 0 if self.nolimit else to_call > 0,
            actions=tuple(actions),
        )

    # -- the fast path -----------------------------------------------------------------------

    def follow(self, text: str) -> int | None:
        """The node an on-tree ``text`` leads to from the root, or None for the full walk."""
        tokens = self._parsed.get(text)
        if tokens is None:
            try:
                tokens = parse_history(text)
            except Exception:
                return None
            if len(self._parsed) < 65_536:
                self._parsed[text] = tokens
        a = self.arrays
        node = breaks = 0
        for token in tokens:
            if a.node_player[node] < 0:
                return None
            if token.letter == "/":
                if breaks + 1 > a.node_street[node]:
                    return None
                breaks += 1
                continue
            column = self.keys(node).get(self._key(node, token))
            if column is None:
                return None
            node = int(a.node_children[node, column])
        return node

    def keys(self, node: int) -> dict[Key, int]:
        found = self._keys.get(node)
        if found is None:
            found = self._keys[node] = self._spellings(node)
        return found

    def _key(self, node: int, token: Token) -> Key:
        if token.amount is None:
            return (token.letter, None)
        if not self.nolimit:
            return ("", None)  # never matches: the walk explains that sizes are fixed
        a = self.arrays
        if not token.pot:
            return (token.letter, round(token.amount * self.chips_per_unit))
        contrib = a.node_contrib[node]
        player = int(a.node_player[node])
        top = float(contrib.max())
        target = float(round(top + token.amount * (float(contrib.sum()) + top - contrib[player])))
        return (token.letter, round(target - float(self.texts.street_start[node, player])))

    def _spellings(self, node: int) -> dict[Key, int]:
        a = self.arrays
        if not self.nolimit:
            spellings: dict[Key, int] = {}
            for letter in _LIMIT_LETTERS:
                column = limit_letter_column(self.tree, node, letter)
                if column is not None:
                    spellings[(letter, None)] = column
            return spellings
        player = int(a.node_player[node])
        contrib = a.node_contrib[node]
        facing = float(contrib.max()) > float(contrib[player])
        out: dict[Key, int] = {}
        for column in range(int(a.node_num_actions[node])):
            kind = int(a.node_action_kind[node, column])
            if kind == FOLD:
                out[("f", None)] = column
            elif kind == CHECK_CALL:
                out[("c", None)] = column
                if not facing:
                    out[("k", None)] = out[("x", None)] = column
            else:
                total = float(a.node_action_amount[node, column])
                total -= float(self.texts.street_start[node, player])
                out[("r", round(total))] = out[("b", round(total))] = column
                if self.texts.pool[int(self.texts.token[node, column])] == "a":
                    out[("a", None)] = column
        return out
