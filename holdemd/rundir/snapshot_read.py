"""Reading a snapshot directory back, checked (the format is ``snapshots``).

Every array file's sha256 is compared with the manifest's before it is loaded (unless the
caller says otherwise), and the manifest with its own checksum, so a corrupt or altered
snapshot is refused with a message that says where the others are. Loading never unpickles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.errors import SnapshotError
from holdemd.rundir.checksums import sha256_file
from holdemd.rundir.snapshots import (
    FORMAT_VERSION,
    MANIFEST_CHECKSUM,
    MANIFEST_FILE,
    NAME_RE,
    manifest_checksum,
)


def read_snapshot(
    path: Path, *, verify: bool = True, mmap: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load the arrays and the manifest of the snapshot directory ``path``.

    Args:
        verify: check every file's sha256 against the manifest before loading it.
        mmap: map the arrays read-only instead of reading them into memory (big tables).

    Raises:
        SnapshotError: the directory, its manifest or an array file is missing or corrupt.
    """
    manifest = read_manifest(path)
    arrays = {
        key: _read_array(path, entry, verify=verify, mmap=mmap)
        for key, entry in manifest["files"].items()
    }
    return arrays, manifest


def read_manifest(path: Path) -> dict[str, Any]:
    """The checked ``manifest.json`` of the snapshot directory ``path``.

    Raises:
        SnapshotError: the directory or manifest is missing, not JSON, or not a manifest this
            version can read.
    """
    if not path.is_dir():
        raise SnapshotError(f"snapshot {path}: no such snapshot directory; {_pick_another(path)}")
    try:
        text = (path / MANIFEST_FILE).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SnapshotError(
            f"snapshot {path}: {MANIFEST_FILE} is missing (an incomplete snapshot); {_pick_another(path)}"
        ) from exc
    except OSError as exc:
        raise SnapshotError(
            f"snapshot {path}: cannot read {MANIFEST_FILE}: {exc.strerror or exc}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise _corrupt(path, f"{MANIFEST_FILE} is not UTF-8 text") from exc
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _corrupt(
            path, f"{MANIFEST_FILE} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from exc
    _check_manifest(path, manifest)
    return manifest


def _check_manifest(path: Path, manifest: Any) -> None:
    """Reject a manifest whose shape this version does not know, before trusting its entries."""
    if not isinstance(manifest, dict):
        raise _corrupt(path, f"{MANIFEST_FILE} is not a JSON object")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise _corrupt(path, f"{MANIFEST_FILE} has no valid 'format_version'")
    if version > FORMAT_VERSION:
        raise SnapshotError(
            f"snapshot {path}: written by a newer holdemd (format_version {version}, this one "
            f"reads up to {FORMAT_VERSION}); upgrade holdemd or {_pick_another(path)}"
        )
    checksum = manifest.get(MANIFEST_CHECKSUM)
    # Snapshots written before the checksum existed have none; they load as before.
    if checksum is not None and checksum != manifest_checksum(manifest):
        raise _corrupt(path, f"{MANIFEST_FILE} does not match its {MANIFEST_CHECKSUM}")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise _corrupt(path, f"{MANIFEST_FILE} has no 'files' section")
    for key, entry in files.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("file"), str)
            and NAME_RE.match(entry["file"])  # a plain name: the manifest cannot point outside
            and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
        ):
            raise _corrupt(path, f"{MANIFEST_FILE} has a malformed entry for array '{key}'")


def _read_array(
    path: Path, entry: Mapping[str, Any], *, verify: bool, mmap: bool = False
) -> np.ndarray:
    file = path / entry["file"]
    try:
        if verify and sha256_file(file) != entry["sha256"]:
            raise _corrupt(path, f"{file.name} does not match its sha256 in {MANIFEST_FILE}")
        if mmap and math.prod(entry["shape"]) > 0:  # an empty file cannot be mapped
            array = np.load(file, mmap_mode="r", allow_pickle=False)
        else:
            with open(file, "rb") as handle:  # closed even when np.load fails halfway
                array = np.load(handle, allow_pickle=False)
    except FileNotFoundError as exc:
        raise SnapshotError(
            f"snapshot {path}: array file {file.name} is missing; {_pick_another(path)}"
        ) from exc
    except (ValueError, EOFError, OSError) as exc:
        raise _corrupt(path, f"{file.name} cannot be loaded ({exc})") from exc
    if not isinstance(array, np.ndarray):  # np.load also opens .npz archives
        raise _corrupt(path, f"{file.name} is not a .npy array")
    if str(array.dtype) != entry["dtype"] or list(array.shape) != entry["shape"]:
        raise _corrupt(
            path,
            f"{file.name} holds {array.dtype}{list(array.shape)}, the manifest says "
            f"{entry['dtype']}{entry['shape']}",
        )
    return array


def _pick_another(path: Path) -> str:
    # Every command names a snapshot its own way (train: --resume PATH; eval: --snapshot NAME),
    # so the hint says where the others are rather than which flag to use.
    return f"use another snapshot in {path.parent}"


def _corrupt(path: Path, problem: str) -> SnapshotError:
    return SnapshotError(f"snapshot {path} is corrupt: {problem}; {_pick_another(path)}")
