"""Bucket files on disk: where they live, how they are written, read and verified.

A bundle is ``NAME.npz`` (``np.savez_compressed``: the preflop, flop and turn tables and the
river's equity-to-bucket look-up table; read with ``allow_pickle=False``) plus ``NAME.json``,
its manifest. The river table (123 million entries) is not in the bundle: it is a
deterministic function of the look-up table, built on first use and cached, content-addressed
by its sha256, as ``river-<sha256>.npy`` in the cache directory.

Digest: sha256 over the format tag, the counts, the method and each street's table sha256
(a two-level hash, so each table is hashed exactly once when a bundle is verified).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from holdemd.abstraction.model import STREETS, AbstractionError
from holdemd.cards import BOARD_SIZES, index_hands, rank7
from holdemd.rundir.atomic import write_atomic, write_text_atomic

FORMAT_VERSION = 1
BUNDLE_ARRAYS = ("preflop", "flop", "turn", "river_lut")


def shipped_dir() -> Path:
    """The bucket files shipped as package data (``holdemd/abstraction/shipped``).

    Found through importlib.resources, so a regular (non-editable) install finds them as well as
    a source checkout; they used to sit outside the package, where only a checkout had them.
    """
    return Path(str(importlib.resources.files("holdemd.abstraction") / "shipped"))


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/holdemd/abstraction`` (default ``~/.cache/holdemd/abstraction``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "holdemd" / "abstraction"


def manifest_path(bundle: Path) -> Path:
    return bundle.with_suffix(".json")


def river_cache_path(sha256: str) -> Path:
    return cache_dir() / f"river-{sha256[:32]}.npy"


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def table_sha256(table: npt.NDArray[Any]) -> str:
    """sha256 of a table's dtype, shape and bytes."""
    digest = hashlib.sha256(f"{table.dtype.str}{table.shape}".encode())
    digest.update(np.ascontiguousarray(table).view(np.uint8).data)
    return digest.hexdigest()


def abstraction_digest(counts: tuple[int, ...], method: str, table_shas: Mapping[str, str]) -> str:
    """The abstraction's identity: sha256 of counts, method and the four tables' sha256."""
    digest = hashlib.sha256(f"holdemd-abstraction/{FORMAT_VERSION}\0".encode())
    digest.update(json.dumps([list(counts), method]).encode())
    for street in STREETS:
        digest.update(b"\0" + table_shas[street].encode())
    return digest.hexdigest()


def cards_fingerprint() -> str:
    """sha256 (16 hex digits) of the hand indices and hand values of fixed random hands.

    Tables are addressed by :mod:`holdemd.cards`' hand indices and built from its evaluator; if
    either ever changed, old tables would still load (their own digest is intact) but mean
    nothing. The manifest records this fingerprint and loading compares it.
    """
    rng = np.random.default_rng(20240607)
    hands = np.argsort(rng.random((256, 52)), axis=1)[:, :7].astype(np.int8)
    digest = hashlib.sha256(rank7(hands).astype("<i4").tobytes())
    for street in (1, 2, 3):
        indices = index_hands(street, hands[:, : 2 + BOARD_SIZES[street]])
        digest.update(indices.astype("<i8").tobytes())
    return digest.hexdigest()[:16]


def _write_npz(handle: BinaryIO, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    """``np.savez_compressed`` with fixed member timestamps, so the same tables give the same
    bytes (a rebuilt shipped bundle shows no spurious change in version control)."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.ascontiguousarray(array), allow_pickle=False)


def write_bundle(
    path: Path, arrays: Mapping[str, npt.NDArray[Any]], manifest: Mapping[str, Any]
) -> None:
    """Write ``path`` (compressed npz of ``arrays``) and its JSON manifest, each atomically."""
    write_atomic(path, lambda f: _write_npz(f, arrays))
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    write_text_atomic(manifest_path(path), text)


def read_bundle(path: Path, command: str) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """Arrays and manifest of a bundle; every problem is an :class:`AbstractionError` that
    names the file and says to run ``command`` (the ``holdemd buckets build ...`` line)."""
    shown = display_path(path)
    if not path.is_file():
        raise AbstractionError(f"{shown}: bucket file not found; build it with `{command}`")
    fix = f"rebuild it with `{command}`"
    mpath = manifest_path(path)
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError:
        raise AbstractionError(f"{display_path(mpath)}: manifest not found; {fix}") from None
    except (OSError, ValueError) as exc:
        raise AbstractionError(
            f"{display_path(mpath)}: unreadable manifest ({exc}); {fix}"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise AbstractionError(
            f"{display_path(mpath)}: not a format-{FORMAT_VERSION} bucket manifest; {fix}"
        )
    arrays: dict[str, npt.NDArray[Any]] = {}
    try:
        # Our own file object: np.load leaks its own when the zip turns out to be damaged.
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as npz:
            for name in BUNDLE_ARRAYS:
                if name not in npz.files:
                    raise AbstractionError(f"{shown}: no {name!r} table in the file; {fix}")
                arrays[name] = npz[name]
    except AbstractionError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise AbstractionError(f"{shown}: unreadable bucket file ({exc}); {fix}") from exc
    except Exception as exc:  # zlib.error and friends from a damaged member
        raise AbstractionError(f"{shown}: unreadable bucket file ({exc}); {fix}") from exc
    return arrays, manifest


def save_abstraction(
    path: Path,
    *,
    counts: tuple[int, int, int, int],
    method: str,
    tables: tuple[npt.NDArray[Any], ...],
    river_lut: npt.NDArray[Any],
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """Write a bundle (preflop, flop and turn tables, river look-up table) and its manifest
    to ``path``, and the river table to the cache; returns the manifest.

    ``metadata`` (preset, seed, timings, statistics...) is merged into the manifest; the
    identifying fields (counts, method, digest, table hashes) are computed here.
    """
    shas = {name: table_sha256(table) for name, table in zip(STREETS, tables, strict=True)}
    manifest: dict[str, Any] = dict(metadata)
    manifest.update(
        {
            "format": FORMAT_VERSION,
            "counts": list(counts),
            "method": method,
            "digest": abstraction_digest(counts, method, shas),
            "tables": {
                name: {"entries": int(t.size), "dtype": t.dtype.name, "sha256": shas[name]}
                for name, t in zip(STREETS, tables, strict=True)
            },
            "river_lut_sha256": table_sha256(river_lut),
            "cards_fingerprint": cards_fingerprint(),
        }
    )
    write_river(tables[3], shas["river"])
    arrays = {"preflop": tables[0], "flop": tables[1], "turn": tables[2], "river_lut": river_lut}
    write_bundle(path, arrays, manifest)
    return manifest


def write_river(table: npt.NDArray[Any], sha256: str) -> Path:
    """Cache a river table under its sha256; returns the path."""
    path = river_cache_path(sha256)
    write_atomic(path, lambda f: np.save(f, table, allow_pickle=False))
    return path


def read_river(sha256: str) -> npt.NDArray[Any] | None:
    """The cached river table with this sha256, or None if absent or damaged (it is a cache:
    the caller rebuilds it)."""
    path = river_cache_path(sha256)
    try:
        with open(path, "rb") as handle:
            table = np.load(handle, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if not isinstance(table, np.ndarray) or table_sha256(table) != sha256:
        return None
    return table
