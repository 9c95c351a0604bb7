"""The card abstraction of a Hold'em blueprint: referenced by digest, or embedded in the file.

Sizes decide: a bucket bundle (the compressed preflop, flop and turn tables plus the river's
look-up table) is 4 MB for ``quick`` and 5.3 MB for ``mid``, while the strategy of a hunl_quick
blueprint is under 1 MB; the river table itself (123,156,254 entries) is never stored, it is
rebuilt from the look-up table. So a blueprint trained on a bundle that ships with holdemd
refers to it by digest (every install has it), and one trained on any other bundle embeds the
bundle's bytes (``--embed-abstraction`` forces that). Opening finds the bundle by digest among
the cached and shipped bundles; an embedded bundle that is not there yet is installed into the
cache first. A bundle that cannot be found is a one-line error naming its digest, preset and
counts, and the command that builds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from holdemd.errors import BlueprintError
from holdemd.games.compiled import Game

if TYPE_CHECKING:
    from holdemd.abstraction.model import CardAbstraction


def _bundles(directory: Path) -> list[Path]:
    try:
        return sorted(directory.glob("*.npz"))
    except OSError:
        return []


def _digest_of(bundle: Path) -> str | None:
    from holdemd.abstraction.store import manifest_path

    try:
        manifest = json.loads(manifest_path(bundle).read_text())
    except (OSError, ValueError):
        return None
    digest = manifest.get("digest") if isinstance(manifest, dict) else None
    return digest if isinstance(digest, str) else None


def find_bundle(digest: str, hint: str | None = None) -> Path | None:
    """The bundle whose manifest has ``digest``: the run's own ``abstraction.buckets`` path if
    given and still there, then the cache directory, then the shipped bundles."""
    from holdemd.abstraction.store import cache_dir, shipped_dir

    candidates = []
    if hint is not None and hint.endswith(".npz"):
        candidates.append(Path(hint).expanduser())
    candidates += _bundles(cache_dir()) + _bundles(shipped_dir())
    for path in candidates:
        if path.is_file() and _digest_of(path) == digest:
            return path
    return None


def abstraction_entry(
    game: Game, spec: str, embed: bool | None
) -> tuple[dict[str, Any], np.ndarray | None]:
    """The manifest's ``abstraction`` entry for a game trained with the bundle ``spec``, and the
    bundle's bytes when they go into the file."""
    from holdemd.abstraction.load import resolve
    from holdemd.abstraction.store import manifest_path, shipped_dir

    digest = game.abstraction_digest
    assert digest is not None, "a Hold'em game has an abstraction digest"
    path = find_bundle(digest, spec) or resolve(spec)[0]
    manifest = json.loads(manifest_path(path).read_text())
    shipped = path.parent.resolve() == shipped_dir().resolve()
    embedded = (not shipped) if embed is None else embed
    entry = {
        "digest": digest,
        "preset": manifest.get("preset"),
        "counts": [int(c) for c in game.arrays.street_buckets],
        "method": manifest.get("method"),
        "spec": spec,
        "shipped": shipped,
        "embedded": embedded,
        "bundle_manifest": manifest if embedded else None,
    }
    bundle = np.frombuffer(path.read_bytes(), dtype=np.uint8) if embedded else None
    return entry, bundle


def missing_message(source: Path, entry: dict[str, Any]) -> str:
    from holdemd.abstraction.store import cache_dir, display_path

    preset = entry.get("preset")
    counts = "/".join(str(c) for c in entry.get("counts", []))
    build = (
        f"`holdemd buckets build --preset {preset}`"
        if isinstance(preset, str)
        else "`holdemd buckets build` with the run's settings"
    )
    return (
        f"blueprint {source}: its card abstraction (digest {str(entry.get('digest'))[:12]}, "
        f"preset {preset or 'custom'}, {counts} buckets) is not on this machine (looked in "
        f"{display_path(cache_dir())} and the bundles shipped with holdemd); build it with "
        f"{build}, or export the blueprint again with --embed-abstraction"
    )


def load_for_blueprint(
    source: Path, entry: dict[str, Any], embedded: bytes | None
) -> CardAbstraction:
    """The card abstraction a blueprint was trained with (its tables verified against the
    digest; the river table rebuilt on first use)."""
    from holdemd.abstraction.load import load_abstraction
    from holdemd.abstraction.model import AbstractionError

    digest = str(entry.get("digest"))
    spec = entry.get("spec")
    path = find_bundle(digest, spec if isinstance(spec, str) else None)
    if path is None and embedded is not None:
        path = _install(digest, embedded, entry.get("bundle_manifest"))
    if path is None:
        raise BlueprintError(missing_message(source, entry))
    try:
        abstraction = load_abstraction(path)
    except AbstractionError as exc:
        raise BlueprintError(f"blueprint {source}: {exc}") from exc
    if abstraction.digest != digest:
        raise BlueprintError(missing_message(source, entry))
    return abstraction


def _install(digest: str, bundle: bytes, manifest: Any) -> Path:
    """Write an embedded bundle and its manifest into the cache directory."""
    from holdemd.abstraction.store import cache_dir, manifest_path
    from holdemd.rundir.atomic import write_atomic, write_text_atomic

    path = cache_dir() / f"blueprint-{digest[:16]}.npz"
    try:
        write_atomic(path, lambda handle: handle.write(bundle))
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        write_text_atomic(manifest_path(path), text)
    except OSError as exc:
        raise BlueprintError(
            f"cannot install the card abstraction embedded in the blueprint into {path.parent}: "
            f"{exc.strerror or exc}; set XDG_CACHE_HOME to a writable directory"
        ) from exc
    return path
