"""The compiled-game cache: one copy of a game's arrays per host, memory-mapped by every process.

Building a big game (the betting tree walked in Python, the bucket tables decompressed) takes
tens of seconds and gigabytes, and every worker used to do it for itself. Instead the
supervisor writes the compiled arrays once into this cache and each worker maps them read-only
(``np.load(mmap_mode="r")``): the pages live once in the page cache, shared by every process of
the host, and a worker has its game in about a second.

Layout under :func:`cache_root` (``$XDG_CACHE_HOME/holdemd/games``, or ``$HOLDEMD_GAME_CACHE``;
``HOLDEMD_GAME_CACHE=off`` turns the cache off)::

    <key>.json            an entry: the game's small fields, and per array its file and sha256
    arrays/<sha256>.npy   the arrays, content-addressed: games that share a card abstraction
                          share its bucket tables (the river table alone is 123 MB)

``key`` is a digest of everything the arrays depend on: the game's config section, the card
abstraction's digest, the source of the game builder and the cache format. Files are written
atomically (temporary file, fsync, rename), arrays before the entry that names them, and an
array is never rewritten in place, so a process that mapped it keeps valid pages. A reader
trusts nothing: an entry whose format, key, sizes or checksums do not match is a
:class:`GameCacheError`, and the caller rebuilds it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from holdemd import __version__
from holdemd.abstraction.store import table_sha256
from holdemd.config.binder import dataclass_to_dict
from holdemd.config.schema import GameConfig
from holdemd.errors import GameError
from holdemd.games.compiled import Game, GameArrays
from holdemd.games.factory import build_game
from holdemd.games.kinds import game_kind
from holdemd.games.packed import PackedStrings
from holdemd.rundir.atomic import write_atomic, write_text_atomic

log = logging.getLogger("holdemd.games.cache")

FORMAT_VERSION = 1
ENV_VAR = "HOLDEMD_GAME_CACHE"
_SCALARS = ("deal_kind", "cards_per_deal", "num_players", "max_depth")
_GAMES_DIR = Path(__file__).resolve().parent
_CARDS_DIR = _GAMES_DIR.parent / "cards"


class GameCacheError(GameError):
    """A cache entry that is missing, damaged, or made for something else: rebuild it."""


def cache_root() -> Path | None:
    """Where compiled games are cached, or None when ``HOLDEMD_GAME_CACHE=off``."""
    override = os.environ.get(ENV_VAR, "")
    if override.lower() == "off":
        return None
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "holdemd" / "games"


def builder_digest() -> str:
    """sha256 (16 hex digits) of the code that turns a config into arrays (games/, cards/):
    an edit there may change the arrays, so it changes every key."""
    digest = hashlib.sha256(__version__.encode())
    for directory in (_GAMES_DIR, _CARDS_DIR):
        for path in sorted(directory.glob("*.py")):
            digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def game_key(config: GameConfig, abstraction_digest: str | None) -> str:
    """The cache key of the game ``config`` describes with that card abstraction (32 hex)."""
    identity = {
        "format": FORMAT_VERSION,
        "game": dataclass_to_dict(config),
        "abstraction": abstraction_digest,
        "builder": builder_digest(),
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def entry_path(root: Path, key: str) -> Path:
    return root / f"{key}.json"


def _abstraction_of(config: GameConfig, buckets: str) -> tuple[bool, str | None]:
    """(known, digest): the card abstraction's digest as far as it can be told without
    building the game; ``known`` is False when only a build can tell (a bundle with an
    unreadable manifest: the build then says what is wrong with it)."""
    kind = game_kind(config.name)
    if kind.fixed_rules or kind.fixed_board:
        return True, None
    from holdemd.abstraction.load import bundle_digest

    digest = bundle_digest(buckets)
    return digest is not None, digest


def load_or_build(config: GameConfig, buckets: str) -> tuple[Game, Path | None]:
    """The game of ``config``: from the cache when a valid entry exists, else built and
    stored there. Returns the game and its cache entry (None when there is none: the cache is
    off or could not be written, which costs speed, never the run)."""
    root = cache_root()
    if root is None:
        return build_game(config, buckets), None
    known, digest = _abstraction_of(config, buckets)
    rebuild = False
    if known:
        path = entry_path(root, game_key(config, digest))
        if path.is_file():
            try:
                return load_game(path), path
            except GameCacheError as exc:
                log.warning("%s; rebuilding it", exc)
                rebuild = True
    game = build_game(config, buckets)
    return game, publish(game, config, root, rewrite=rebuild)


def open_game(config: GameConfig, buckets: str, entry: str) -> Game:
    """A worker's game: the cache entry the supervisor named, or (no entry, or it does not
    load) the game built from ``config``, as before the cache existed."""
    if entry:
        try:
            return load_game(Path(entry))
        except GameCacheError as exc:
            log.warning("%s; building the game", exc)
    return build_game(config, buckets)


def publish(
    game: Game, config: GameConfig, root: Path | None = None, *, rewrite: bool = False
) -> Path | None:
    """The cache entry of ``game`` (built from ``config``), written now unless ``rewrite`` is
    False and an entry with the same key, format and file sizes is there already (what the
    workers load is checked in full by them). None if the cache is off or the write failed
    (logged: workers then build the game themselves)."""
    root = root if root is not None else cache_root()
    if root is None:
        return None
    path = entry_path(root, game_key(config, game.abstraction_digest))
    if not rewrite:
        try:
            _read_manifest(path, check_files=True)
            return path
        except GameCacheError:
            pass
    try:
        store_game(game, path)
    except OSError as exc:
        log.warning("could not write the game cache %s (%s); workers build the game", path, exc)
        return None
    return path


def _arrays_of(game: Game) -> dict[str, np.ndarray]:
    a = game.arrays
    arrays = {
        name: value
        for name, value in zip(GameArrays._fields, a, strict=True)
        if isinstance(value, np.ndarray)
    }
    for street, table in enumerate(a.bucket_tables):
        arrays[f"bucket_tables.{street}"] = table
    histories = (
        game.histories
        if isinstance(game.histories, PackedStrings)
        else PackedStrings.pack(game.histories)
    )
    arrays["export_slot"] = game.export_slot
    arrays["histories.data"] = histories.data
    arrays["histories.offsets"] = histories.offsets
    return arrays


def store_game(game: Game, path: Path) -> None:
    """Write ``game`` as the cache entry ``path`` (arrays first, then the entry)."""
    started = time.monotonic()
    files: dict[str, dict[str, Any]] = {}
    for name, array in _arrays_of(game).items():
        sha = table_sha256(array)
        relative = f"arrays/{sha[:40]}.npy"
        target = path.parent / relative
        if not _file_matches(target, sha):
            write_atomic(target, functools.partial(_save, np.ascontiguousarray(array)))
        files[name] = {
            "file": relative,
            "sha256": sha,
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "bytes": target.stat().st_size,
        }
    a = game.arrays
    manifest = {
        "format": FORMAT_VERSION,
        "key": path.stem,
        "name": game.name,
        "num_rows": game.num_rows,
        "max_actions": game.max_actions,
        "utility_scale": game.utility_scale,
        "bucket_labels": [list(labels) for labels in game.bucket_labels],
        "export_actions": list(game.export_actions),
        "abstraction_digest": game.abstraction_digest,
        "scalars": {name: int(getattr(a, name)) for name in _SCALARS},
        "bucket_streets": len(a.bucket_tables),
        "arrays": files,
        "holdemd_version": __version__,
        "write_seconds": round(time.monotonic() - started, 3),
    }
    write_text_atomic(path, json.dumps(manifest, indent=1) + "\n")


def _save(array: np.ndarray, handle: BinaryIO) -> None:
    np.save(handle, array, allow_pickle=False)


def _file_matches(path: Path, sha: str) -> bool:
    """Whether the content-addressed file is there and holds the array of sha256 ``sha`` (a
    damaged one is replaced, by rename: never written in place under a process that maps it)."""
    try:
        stored = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):  # absent, damaged, or empty (cannot be mapped: rewritten)
        return False
    return table_sha256(stored) == sha


def _read_manifest(path: Path, *, check_files: bool) -> dict[str, Any]:
    """The entry's manifest, checked for format, key and (optionally) file sizes."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GameCacheError(f"{path}: unreadable game cache entry ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise GameCacheError(f"{path}: not a format-{FORMAT_VERSION} game cache entry")
    if manifest.get("key") != path.stem or not isinstance(manifest.get("arrays"), dict):
        raise GameCacheError(f"{path}: the entry does not match its name")
    if check_files:
        for name, entry in manifest["arrays"].items():
            try:
                size = (path.parent / entry["file"]).stat().st_size
            except (OSError, KeyError, TypeError) as exc:
                raise GameCacheError(f"{path}: array {name} is missing ({exc})") from exc
            if size != entry.get("bytes"):
                raise GameCacheError(f"{path}: array {name} has {size} bytes, not {entry['bytes']}")
    return manifest


def _open_array(root: Path, name: str, entry: Any, verify: bool) -> np.ndarray:
    """One array of an entry, memory-mapped read-only (``np.asarray`` drops the ``np.memmap``
    subclass: numba and numpy see a plain read-only array that shares the page cache)."""
    try:
        file = root / entry["file"]
        dtype, shape = np.dtype(entry["dtype"]), tuple(entry["shape"])
        size = int(np.prod(shape))
        # An empty array cannot be mapped (mmap of zero bytes); it is read, a few bytes.
        array = np.load(file, mmap_mode="r" if size else None, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GameCacheError(f"{root}: array {name} unreadable ({exc})") from exc
    if array.dtype != dtype or array.shape != shape:
        raise GameCacheError(f"{root}: array {name} is {array.dtype}{array.shape}, not {dtype}")
    if verify and table_sha256(array) != entry.get("sha256"):
        raise GameCacheError(f"{file}: checksum mismatch (damaged file)")
    array = np.asarray(array)
    array.flags.writeable = False
    return array


def load_game(path: Path, *, verify: bool = True) -> Game:
    """The game in cache entry ``path``, its arrays memory-mapped read-only.

    ``verify`` checks every array's sha256 (reads every page once: a few hundred milliseconds
    for the biggest games; the pages stay in the shared page cache). Raises
    :class:`GameCacheError` for anything that does not match.
    """
    manifest = _read_manifest(path, check_files=True)
    try:
        files = manifest["arrays"]
        arrays = {name: _open_array(path.parent, name, files[name], verify) for name in files}
        streets = int(manifest["bucket_streets"])
        scalars = {name: int(manifest["scalars"][name]) for name in _SCALARS}
        fields: dict[str, Any] = {
            name: arrays[name] for name in GameArrays._fields if name in arrays
        }
        fields["bucket_tables"] = tuple(arrays[f"bucket_tables.{s}"] for s in range(streets))
        fields.update(scalars)
        return Game(
            name=str(manifest["name"]),
            arrays=GameArrays(**fields),
            histories=PackedStrings(arrays["histories.data"], arrays["histories.offsets"]),
            num_rows=int(manifest["num_rows"]),
            max_actions=int(manifest["max_actions"]),
            utility_scale=float(manifest["utility_scale"]),
            bucket_labels=tuple(tuple(map(str, labels)) for labels in manifest["bucket_labels"]),
            export_actions=tuple(map(str, manifest["export_actions"])),
            export_slot=arrays["export_slot"],
            abstraction_digest=manifest["abstraction_digest"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GameCacheError(f"{path}: incomplete game cache entry ({exc!r})") from exc
