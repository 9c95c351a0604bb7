"""Loading an abstraction by preset name or path, verified, with the river built on first use."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from holdemd.abstraction.equity import NUM_EQUITY_VALUES
from holdemd.abstraction.model import STREETS, AbstractionError, CardAbstraction, table_dtype
from holdemd.abstraction.presets import PRESETS
from holdemd.abstraction.store import (
    abstraction_digest,
    cache_dir,
    cards_fingerprint,
    display_path,
    manifest_path,
    read_bundle,
    read_river,
    shipped_dir,
    table_sha256,
    write_river,
)
from holdemd.cards import num_indices


def resolve(spec: str) -> tuple[Path, str]:
    """The bundle a spec names, and the command that (re)builds it.

    A preset name is looked up in the cache directory (where ``holdemd buckets build`` writes)
    and then among the files shipped with the package; anything else is a path.
    """
    if spec in PRESETS:
        candidates = [cache_dir() / f"{spec}.npz", shipped_dir() / f"{spec}.npz"]
        found = next((path for path in candidates if path.is_file()), candidates[0])
        return found, f"holdemd buckets build --preset {spec}"
    path = Path(spec).expanduser()
    if path.suffix != ".npz" and not path.exists() and "/" not in spec:
        known = ", ".join(PRESETS)
        raise AbstractionError(
            f"{spec}: neither a bucket preset ({known}) nor an existing .npz file; "
            "build one with `holdemd buckets build --preset quick`"
        )
    return path, f"holdemd buckets build --preset {{preset}} --out {spec}"


def _command_for(command: str, manifest: dict[str, Any] | None) -> str:
    """``command`` with the preset the file was built from (``quick`` if unknown)."""
    preset = (manifest or {}).get("preset")
    name = preset if isinstance(preset, str) and preset in PRESETS else "quick"
    return command.format(preset=name)


def _counts_of(manifest: dict[str, Any]) -> tuple[int, int, int, int] | None:
    counts = manifest.get("counts")
    if (
        isinstance(counts, list)
        and len(counts) == 4
        and all(isinstance(c, int) and 1 <= c <= 65536 for c in counts)
        and counts[0] == 169
    ):
        return (counts[0], counts[1], counts[2], counts[3])
    return None


def bundle_counts(spec: str) -> tuple[int, int, int, int]:
    """Buckets per street of a preset or bundle, read from its manifest alone: what a tree's
    size depends on, without reading, verifying or building any table.

    A bundle whose manifest cannot tell is loaded instead, which raises the one-line error that
    names the file and the fix.
    """
    if spec in PRESETS:
        return PRESETS[spec].counts
    path, _ = resolve(spec)
    try:
        manifest = json.loads(manifest_path(path).read_text())
    except (OSError, ValueError):
        manifest = None
    counts = _counts_of(manifest) if isinstance(manifest, dict) else None
    return counts if counts is not None else load_abstraction(spec).counts


def bundle_digest(spec: str) -> str | None:
    """The digest a preset's or bundle's manifest records, read from the manifest alone (what
    the compiled-game cache is keyed by); None when the manifest cannot tell. Not a check of
    the tables: :func:`load_abstraction` does that when the game is built."""
    try:
        path, _ = resolve(spec)
        manifest = json.loads(manifest_path(path).read_text())
    except (AbstractionError, OSError, ValueError):
        return None
    digest = manifest.get("digest") if isinstance(manifest, dict) else None
    return digest if isinstance(digest, str) else None


def load_abstraction(spec: str | os.PathLike[str], *, progress: bool = True) -> CardAbstraction:
    """Load a bucket bundle by preset name (``quick``, ``mid``) or path to its ``.npz``.

    Verifies the tables' sizes, dtypes, bucket ranges and digest against the manifest. The
    river table is read from the cache, or built there first (a progress line on stderr, a
    few seconds on 2 cores). Raises :class:`AbstractionError` with one line naming the file
    and the command that fixes it.
    """
    path, command = resolve(os.fspath(spec))
    arrays, manifest = read_bundle(path, _command_for(command, None))
    fix = f"rebuild it with `{_command_for(command, manifest)}`"
    shown = display_path(path)
    counts = _counts_of(manifest)
    method = manifest.get("method")
    recorded = manifest.get("tables")
    if counts is None or not isinstance(method, str) or not isinstance(recorded, dict):
        raise AbstractionError(f"{shown}: manifest lacks valid counts/method/tables; {fix}")
    if manifest.get("cards_fingerprint") != cards_fingerprint():
        raise AbstractionError(
            f"{shown}: made for another version of the hand indexer or evaluator "
            f"(holdemd.cards changed since); {fix}"
        )
    dtype = np.dtype(table_dtype(counts))
    expected_sizes = {"preflop": 169, "flop": num_indices(1), "turn": num_indices(2)}
    expected_sizes["river_lut"] = NUM_EQUITY_VALUES
    for name, size in expected_sizes.items():
        table = arrays[name]
        if table.dtype != dtype or table.shape != (size,):
            raise AbstractionError(
                f"{shown}: {name} table is {table.dtype}{list(table.shape)}, expected "
                f"{dtype}[{size}] for counts {counts}; {fix}"
            )
    shas: dict[str, str] = {}
    for name in ("preflop", "flop", "turn"):
        shas[name] = table_sha256(arrays[name])
        if shas[name] != _recorded_sha(recorded, name):
            raise AbstractionError(f"{shown}: digest mismatch (file corrupt or edited); {fix}")
    if table_sha256(arrays["river_lut"]) != manifest.get("river_lut_sha256"):
        raise AbstractionError(f"{shown}: digest mismatch (file corrupt or edited); {fix}")
    shas["river"] = _recorded_sha(recorded, "river")
    river = _river_table(arrays["river_lut"], shas["river"], shown, fix, progress)
    digest = abstraction_digest(counts, method, shas)
    if digest != manifest.get("digest"):
        raise AbstractionError(f"{shown}: digest mismatch (file corrupt or edited); {fix}")
    tables = (arrays["preflop"], arrays["flop"], arrays["turn"], river)
    if not np.array_equal(tables[0], np.arange(169)):
        raise AbstractionError(f"{shown}: preflop table is not the 169 lossless classes; {fix}")
    for street, (table, count) in enumerate(zip(tables, counts, strict=True)):
        if int(table.max()) >= count:
            raise AbstractionError(
                f"{shown}: {STREETS[street]} bucket ids reach {int(table.max())} but the "
                f"manifest says {count} buckets; {fix}"
            )
    manifest = dict(manifest, file=str(path))
    return CardAbstraction(counts, tables, digest, manifest)


def _recorded_sha(recorded: dict[str, Any], name: str) -> str:
    entry = recorded.get(name)
    sha = entry.get("sha256") if isinstance(entry, dict) else None
    return sha if isinstance(sha, str) else ""


def _river_table(
    lut: npt.NDArray[Any], sha: str, shown: str, fix: str, progress: bool
) -> npt.NDArray[Any]:
    """The cached river table, or build it now (first use) and cache it."""
    table = read_river(sha)
    if table is not None:
        return table
    from holdemd.abstraction.build import build_river_table

    table = build_river_table(
        lut,
        chunks=numba.get_num_threads(),
        progress=progress,
        label="river buckets (first use, then cached)",
    )
    if table_sha256(table) != sha:
        raise AbstractionError(
            f"{shown}: the river table built here does not match the manifest (file made by "
            f"another holdemd version, or edited); {fix}"
        )
    write_river(table, sha)
    return table
