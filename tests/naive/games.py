"""The Hold'em games the naive references are checked on, each with its reference card classes.

Built once per process: the HUNL game loads the shipped ``quick`` buckets (a few seconds).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from holdemd.abstraction import load_abstraction
from holdemd.cards import parse_cards
from holdemd.config.loader import load_config
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game
from tests.naive.reference_cards import FixedBoardClasses, HoldemClasses

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@cache
def holdem_tiny() -> tuple[Game, FixedBoardClasses]:
    """configs/holdem_tiny.yaml: a known board, hole cards from 8 cards."""
    config = load_config(CONFIGS / "holdem_tiny.yaml").game
    assert config.board is not None
    game = build_game(config)
    return game, FixedBoardClasses(game, parse_cards(config.board).tolist())


@cache
def hunl_quick() -> tuple[Game, HoldemClasses]:
    """configs/hunl_quick.yaml with the shipped ``quick`` buckets."""
    game = build_game(load_config(CONFIGS / "hunl_quick.yaml").game, "quick")
    return game, HoldemClasses(load_abstraction("quick", progress=False))
