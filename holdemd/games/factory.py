"""Building games: the game a config describes, with its card abstraction when it needs one.

``build_game`` is the one way from a config to a compiled game; ``make_game`` compiles a game
whose rules are fixed (Kuhn, Leduc) by name. What sets the games apart is in ``kinds``.
"""

from __future__ import annotations

from collections.abc import Callable

from holdemd.config.schema import CHIPS_PER_BB, GameConfig
from holdemd.errors import ConfigError, GameError
from holdemd.games.compiled import Game
from holdemd.games.kinds import game_kind
from holdemd.games.nolimit import NoLimitRules
from holdemd.games.small import kuhn, leduc

FIXED_RULE_GAMES: dict[str, Callable[[], Game]] = {"kuhn": kuhn, "leduc": leduc}


def make_game(name: str) -> Game:
    """Compile the game with fixed rules called ``name`` (Kuhn, Leduc)."""
    try:
        factory = FIXED_RULE_GAMES[name]
    except KeyError:
        known = ", ".join(FIXED_RULE_GAMES)
        raise GameError(f"unknown game '{name}'; known games: {known}") from None
    return factory()


def nolimit_rules(config: GameConfig) -> NoLimitRules:
    """Betting rules in integer chips (1 big blind = CHIPS_PER_BB chips)."""
    try:
        return NoLimitRules(
            num_players=config.players,
            stack_chips=round(config.stack_bb * CHIPS_PER_BB),
            small_blind=round(config.small_blind_bb * CHIPS_PER_BB),
            big_blind=CHIPS_PER_BB,
            ante=round(config.ante_bb * CHIPS_PER_BB),
            bet_menu=config.bet_sizes.as_tuple(),
            max_raises=config.max_raises.as_tuple(),
        )
    except ValueError as exc:
        raise ConfigError(f"game: {exc}") from exc


def build_game(config: GameConfig, buckets: str = "quick") -> Game:
    """Compile the game of ``config``; Hold'em loads the card abstraction ``buckets``."""
    kind = game_kind(config.name)
    if kind.fixed_rules:
        return make_game(config.name)
    from holdemd.cards import parse_cards
    from holdemd.games.holdem import fixed_board_game, holdem_game

    rules = nolimit_rules(config)
    if kind.fixed_board:
        assert config.board is not None and config.deck is not None  # checked by GameConfig
        board, deck = parse_cards(config.board).tolist(), parse_cards(config.deck).tolist()
        return fixed_board_game(rules, board, deck)
    from holdemd.abstraction import load_abstraction

    abstraction = load_abstraction(buckets)
    return holdem_game(
        rules, abstraction.counts, abstraction.tables, abstraction_digest=abstraction.digest
    )
