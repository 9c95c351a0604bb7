"""The compiled-game cache: a cached game is the built one, array by array; keys tell configs
apart; a damaged, foreign or old entry is refused and rebuilt, never trusted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdemd.config.loader import load_config
from holdemd.config.schema import GameConfig
from holdemd.games import cache
from holdemd.games.cache import GameCacheError, game_key, load_game, load_or_build, open_game
from holdemd.games.compiled import Game, GameArrays
from holdemd.games.factory import build_game
from holdemd.games.packed import PackedStrings
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "games"))
    return tmp_path / "games"


def _config(name: str) -> tuple[GameConfig, str]:
    config = load_config(ROOT / "configs" / f"{name}.yaml")
    return config.game, config.abstraction.buckets


def assert_same_game(cached: Game, built: Game) -> None:
    for field in GameArrays._fields:
        a: Any = getattr(cached.arrays, field)
        b: Any = getattr(built.arrays, field)
        if field == "bucket_tables":
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                assert x.dtype == y.dtype and np.array_equal(x, y), field
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and a.shape == b.shape, field
            assert np.array_equal(a, b), field
            assert not a.flags.writeable, f"{field} is mapped read-only"
        else:
            assert a == b and type(a) is type(b), field
    assert isinstance(cached.histories, PackedStrings)
    assert cached.histories == built.histories and list(cached.histories) == list(built.histories)
    assert np.array_equal(cached.export_slot, built.export_slot)
    for field in ("name", "num_rows", "max_actions", "utility_scale", "bucket_labels"):
        assert getattr(cached, field) == getattr(built, field), field
    assert cached.export_actions == built.export_actions
    assert cached.abstraction_digest == built.abstraction_digest


@pytest.mark.parametrize("name", ["kuhn", "leduc", "holdem_tiny", "hunl_quick"])
def test_a_cached_game_is_the_built_game_array_by_array(root, name):
    config, buckets = _config(name)
    built, entry = load_or_build(config, buckets)
    assert entry is not None and entry.parent == root
    assert_same_game(load_game(entry), built)
    again, same_entry = load_or_build(config, buckets)  # the second time: from the cache
    assert same_entry == entry
    assert_same_game(again, built)
    assert [p.name for p in root.glob("*.json")] == [entry.name]


def test_the_kernels_train_a_mapped_game_exactly_like_a_built_one(root):
    config, buckets = _config("leduc")
    built, entry = load_or_build(config, buckets)
    assert entry is not None
    regrets = []
    for game in (built, load_game(entry)):
        tables = Tables.zeros(game, "float32", None)
        ExternalSamplingMCCFR(game, tables, seed=3).run(300)
        regrets.append(tables.regret)
    assert regrets[0].any() and np.array_equal(regrets[0], regrets[1])


def test_keys_differ_with_the_game_and_the_abstraction():
    leduc, _ = _config("leduc")
    hunl, _ = _config("hunl_quick")
    deeper = GameConfig(**{**hunl.__dict__, "stack_bb": 200.0})
    keys = {
        game_key(leduc, None),
        game_key(hunl, "a" * 64),
        game_key(hunl, "b" * 64),
        game_key(deeper, "a" * 64),
    }
    assert len(keys) == 4
    assert game_key(hunl, "a" * 64) == game_key(_config("hunl_quick")[0], "a" * 64)


def _one_array_file(entry: Path, name: str) -> Path:
    manifest = json.loads(entry.read_text())
    return entry.parent / manifest["arrays"][name]["file"]


def test_a_damaged_array_is_detected_and_rebuilt(root, caplog):
    config, buckets = _config("leduc")
    built, entry = load_or_build(config, buckets)
    assert entry is not None
    target = _one_array_file(entry, "node_children")
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF  # same size: only the checksum can tell
    target.write_bytes(bytes(data))
    with pytest.raises(GameCacheError, match="checksum mismatch"):
        load_game(entry)
    game, again = load_or_build(config, buckets)
    assert again == entry
    assert "checksum mismatch" in caplog.text and "rebuilding it" in caplog.text
    assert_same_game(load_game(entry), built)  # the file was replaced
    assert np.array_equal(game.arrays.node_children, built.arrays.node_children)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda m: {**m, "format": m["format"] + 1}, id="old-or-new-format"),
        pytest.param(lambda m: {**m, "key": "0" * 32}, id="another-key"),
        pytest.param(lambda m: {k: v for k, v in m.items() if k != "num_rows"}, id="incomplete"),
        pytest.param(None, id="truncated"),
    ],
)
def test_a_foreign_or_damaged_entry_is_refused_and_rebuilt(root, damage):
    config, buckets = _config("kuhn")
    built, entry = load_or_build(config, buckets)
    assert entry is not None
    text = entry.read_text()
    entry.write_text(
        text[: len(text) // 2] if damage is None else json.dumps(damage(json.loads(text)))
    )
    with pytest.raises(GameCacheError):
        load_game(entry)
    _, again = load_or_build(config, buckets)
    assert again == entry
    assert_same_game(load_game(entry), built)


def test_a_truncated_array_file_is_refused(root):
    config, buckets = _config("kuhn")
    _, entry = load_or_build(config, buckets)
    assert entry is not None
    target = _one_array_file(entry, "node_contrib")
    target.write_bytes(target.read_bytes()[:-8])
    with pytest.raises(GameCacheError, match="bytes"):
        load_game(entry)


def test_a_worker_builds_the_game_when_the_entry_is_gone_or_there_is_none(root, tmp_path):
    config, buckets = _config("kuhn")
    built = build_game(config, buckets)
    assert_same_game_loose(open_game(config, buckets, ""), built)
    assert_same_game_loose(open_game(config, buckets, str(tmp_path / "gone.json")), built)


def assert_same_game_loose(game: Game, built: Game) -> None:
    assert game.num_rows == built.num_rows
    assert np.array_equal(game.arrays.node_children, built.arrays.node_children)


def test_the_cache_can_be_turned_off(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV_VAR, "off")
    config, buckets = _config("kuhn")
    game, entry = load_or_build(config, buckets)
    assert entry is None and game.num_rows == 12


def test_packed_strings_read_like_a_tuple():
    strings = ("", "kb", "r250c/kr300", "é")
    packed = PackedStrings.pack(strings)
    assert len(packed) == 4 and packed[2] == "r250c/kr300" and packed[-1] == "é"
    assert packed.index("kb") == 1 and packed[1:3] == ("kb", "r250c/kr300")
    assert packed == strings and packed != strings[:3]
    with pytest.raises(IndexError):
        packed[4]
