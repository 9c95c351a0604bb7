"""The game a config describes, with its card abstraction loaded when it needs one."""

from __future__ import annotations

from holdemd.config.schema import CHIPS_PER_BB, GameConfig
from holdemd.errors import ConfigError
from holdemd.games import Game, make_game
from holdemd.games.nolimit import NoLimitRules


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
    if config.name in ("kuhn", "leduc"):
        return make_game(config.name)
    from holdemd.cards import parse_cards
    from holdemd.games.holdem import fixed_board_game, holdem_game

    rules = nolimit_rules(config)
    if config.name == "holdem_fixed_board":
        assert config.board is not None and config.deck is not None  # checked by GameConfig
        board, deck = parse_cards(config.board).tolist(), parse_cards(config.deck).tolist()
        return fixed_board_game(rules, board, deck)
    from holdemd.abstraction import load_abstraction

    abstraction = load_abstraction(buckets)
    return holdem_game(
        rules, abstraction.counts, abstraction.tables, abstraction_digest=abstraction.digest
    )
