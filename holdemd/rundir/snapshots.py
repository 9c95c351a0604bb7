"""The snapshot format: ``RUN/snapshots/<name>/`` holds ``.npy`` arrays and ``manifest.json``.

``manifest.json`` holds what the caller passes (config, iteration, seeds, ...) plus a
``"files"`` section: per array its file, dtype, shape, byte count and sha256, so that a reader
can tell a corrupt snapshot from a good one, and the manifest's own checksum. Loading never
unpickles.

Here: the format's names and version, the manifest's canonical JSON and checksum, and what a
snapshot is once on disk (`SnapshotInfo`). Writing one atomically is ``snapshot_write``;
reading one back, checked, is ``snapshot_read``; a run's set of snapshots (listing, retention,
crash leftovers) is ``store``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# 2: a snapshot may hold lazily allocated tables (manifest "tables": "lazy"); 1 still loads.
# 3: lazy tables' later-street sums in later_sums.npy (manifest "later_sums"), not in the
#    strategy arena; 2 and 1 still load.
# The manifest's "schedule" (where the schedule was last checked, its averaging snapshots;
# solver.schedule.ScheduleProgress) needs no new version: a snapshot without it resumes as
# before, and a version that does not know it ignores it.
FORMAT_VERSION = 3
SNAPSHOTS_DIR = "snapshots"
MANIFEST_FILE = "manifest.json"
MANIFEST_CHECKSUM = "manifest_sha256"  # of the manifest's own JSON without this key

TEMP_PREFIX = ".tmp-"  # a snapshot being written (or removed); never read
ASIDE_PREFIX = ".old-"  # a snapshot being replaced by overwrite=True; restored after a crash
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # no '/', no leading '.' (hidden/temp)


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot on disk, as listed or just written."""

    name: str
    path: Path
    iteration: int | None  # manifest["iteration"], None if the manifest has none
    bytes: int  # total size of the array files
    seconds: float = 0.0  # time write_snapshot took; 0.0 for a snapshot listed from disk
    sequence: int | None = None  # manifest["sequence"]: 0-based count of snapshots in the run
    written_at: str | None = None  # manifest["written_at"]: UTC, ISO 8601


@dataclass(frozen=True)
class LinkedFile:
    """A finished ``.npy`` file that a snapshot links (or copies) in as one of its arrays."""

    path: Path
    dtype: str
    shape: tuple[int, ...]
    sha256: str


def snapshot_name(iteration: int) -> str:
    """The conventional name of the snapshot at ``iteration``: ``it-000001000000``.

    Zero-padded so that names sort like iterations in a plain directory listing.
    """
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")
    return f"it-{iteration:012d}"


def manifest_json(data: Mapping[str, Any]) -> str:
    """A manifest as stored: indented JSON, keys sorted, numpy scalars and arrays as JSON."""
    return json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    # Iterations and seeds often come straight out of numpy; storing them should not need a cast.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON-serialisable")


def manifest_checksum(manifest: Mapping[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own checksum key.

    The array files have their checksums in the manifest; this one covers the manifest itself
    (iteration, elapsed time, config), so an altered or damaged manifest is refused too.
    """
    body = {key: value for key, value in manifest.items() if key != MANIFEST_CHECKSUM}
    return hashlib.sha256(manifest_json(body).encode("utf-8")).hexdigest()


def snapshot_info(path: Path, manifest: Mapping[str, Any]) -> SnapshotInfo:
    """What the snapshot directory ``path`` with this (read or just written) manifest is."""
    files = manifest.get("files", {})
    return SnapshotInfo(
        name=path.name,
        path=path,
        iteration=_optional_int(manifest.get("iteration")),
        bytes=sum(_optional_int(entry.get("bytes")) or 0 for entry in files.values()),
        sequence=_optional_int(manifest.get("sequence")),
        written_at=written if isinstance(written := manifest.get("written_at"), str) else None,
    )


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
