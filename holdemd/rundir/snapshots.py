"""Atomic snapshot directories: ``RUN/snapshots/<name>/`` holds ``.npy`` arrays and ``manifest.json``.

A snapshot is written into ``RUN/snapshots/.tmp-<name>-<pid>-<random>/``, every file and the
directory are fsynced, and only then is it renamed to its final name. So a crash or a full disk
leaves either the complete new snapshot or none, and never touches the earlier ones; the
``.tmp-*`` leftovers of a crash are removed by
:func:`holdemd.rundir.store.remove_stale_temp_dirs`.

``manifest.json`` holds what the caller passes (config, iteration, seeds, ...) plus the
``"files"`` section written here: per array its file, dtype, shape, byte count and sha256, so
that a reader can tell a corrupt snapshot from a good one. Loading never unpickles. An array
that is already a finished ``.npy`` file (a lazy run's later-street sums, gigabytes that never
change once written) is hard-linked in rather than written again (`LinkedFile`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.errors import SnapshotError, SnapshotWriteError
from holdemd.rundir.atomic import fsync_dir, link_or_copy
from holdemd.rundir.checksums import HashingWriter, sha256_file

# 2: a snapshot may hold lazily allocated tables (manifest "tables": "lazy"); 1 still loads.
# 3: lazy tables' later-street sums in later_sums.npy (manifest "later_sums"), not in the
#    strategy arena; 2 and 1 still load.
FORMAT_VERSION = 3
SNAPSHOTS_DIR = "snapshots"
MANIFEST_FILE = "manifest.json"
MANIFEST_CHECKSUM = "manifest_sha256"  # of the manifest's own JSON without this key

TEMP_PREFIX = ".tmp-"  # a snapshot being written (or removed); never read
ASIDE_PREFIX = ".old-"  # a snapshot being replaced by overwrite=True; restored after a crash
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # no '/', no leading '.' (hidden/temp)
_STORABLE_KINDS = "biufcmMSUV"  # numpy dtype kinds np.save writes without pickling


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


# --------------------------------------------------------------------------------------------
# Writing


def write_snapshot(
    run_dir: Path,
    name: str,
    arrays: Mapping[str, np.ndarray],
    manifest: Mapping[str, Any],
    *,
    overwrite: bool = False,
    linked: Mapping[str, LinkedFile] | None = None,
) -> SnapshotInfo:
    """Write ``arrays`` and ``manifest`` atomically as ``run_dir/snapshots/<name>/``.

    The manifest is stored with ``"format_version"``, ``"written_at"`` (UTC, ISO 8601),
    ``"files"`` and ``"manifest_sha256"`` added; those keys belong to this module and replace
    any given ones.
    ``manifest`` must be JSON-serialisable (numpy scalars are converted).

    Args:
        overwrite: replace an existing snapshot of the same name instead of refusing.
        linked: more arrays, files written already: hard-linked in (copied across file
            systems), read back like the others.

    Raises:
        SnapshotWriteError: a bad name, an array that would need pickling, a manifest that is
            not JSON, an existing snapshot without ``overwrite``, or an OS error while writing
            (e.g. a full disk; ``.errno`` tells). Earlier snapshots are intact and no temp
            directory is left.
    """
    started = time.monotonic()
    snapshots_dir = run_dir / SNAPSHOTS_DIR
    final = snapshots_dir / name
    # Everything that can be checked without writing is, so a bad call costs no I/O.
    linked = dict(linked or {})
    storable = _check_write_args(final, name, arrays, manifest, overwrite=overwrite)
    for key in linked:
        if not NAME_RE.match(key) or key in storable:
            raise SnapshotWriteError(f"could not write snapshot {final}: linked array {key!r}")
    try:
        snapshots_dir.mkdir(parents=True, exist_ok=True)
        temp = _make_work_dir(snapshots_dir, TEMP_PREFIX, name)
    except OSError as exc:
        raise _write_error(final, exc) from exc
    try:
        files = {key: _write_array(temp, key, array) for key, array in storable.items()}
        files.update({key: _link_file(temp, key, file) for key, file in linked.items()})
        full = {
            **manifest,
            "format_version": FORMAT_VERSION,
            "written_at": _utc_now(),
            "files": files,
        }
        full[MANIFEST_CHECKSUM] = manifest_checksum(full)
        _write_json(temp / MANIFEST_FILE, full)
        fsync_dir(temp)
        _publish(temp, final, overwrite=overwrite)
        fsync_dir(snapshots_dir)  # makes the rename itself durable
    except BaseException as exc:  # also Ctrl-C: never leave a half-written temp dir behind
        shutil.rmtree(temp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _write_error(final, exc) from exc
        raise
    # Built from the JSON round trip so it matches what list_snapshots reports later.
    info = snapshot_info(final, json.loads(_to_json(full)))
    return dataclasses.replace(info, seconds=time.monotonic() - started)


def _check_write_args(
    final: Path,
    name: str,
    arrays: Mapping[str, np.ndarray],
    manifest: Mapping[str, Any],
    *,
    overwrite: bool,
) -> dict[str, np.ndarray]:
    """Validate a write before any I/O; return the arrays as plain ndarrays."""

    def refuse(reason: str) -> SnapshotWriteError:
        return SnapshotWriteError(f"could not write snapshot {final}: {reason}")

    if not NAME_RE.match(name):
        raise refuse("the name must be letters, digits, '_', '-' or '.', not starting with '.'")
    storable = {}
    for key, value in arrays.items():
        if not NAME_RE.match(key):
            raise refuse(f"array name {key!r} is not a plain file name")
        array = np.asarray(value)
        if array.dtype.hasobject or array.dtype.kind not in _STORABLE_KINDS:
            raise refuse(
                f"array '{key}' has dtype {array.dtype}, which cannot be saved without pickling"
            )
        storable[key] = array
    try:
        _to_json(manifest)
    except (TypeError, ValueError) as exc:
        raise refuse(f"the manifest is not JSON-serialisable: {exc}") from exc
    if final.exists() and not overwrite:
        raise refuse("it already exists; pick another name or pass overwrite=True")
    return storable


def _write_array(directory: Path, key: str, array: np.ndarray) -> dict[str, Any]:
    """Save one array as ``<key>.npy``, fsynced; return its manifest entry."""
    file_name = f"{key}.npy"
    with open(directory / file_name, "wb") as raw:
        writer = HashingWriter(raw)
        np.save(writer, array, allow_pickle=False)
        raw.flush()
        os.fsync(raw.fileno())
    return {
        "file": file_name,
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "sha256": writer.sha256.hexdigest(),
        "bytes": writer.bytes,
    }


def _link_file(directory: Path, key: str, linked: LinkedFile) -> dict[str, Any]:
    """Link ``linked`` in as ``<key>.npy``; return its manifest entry."""
    file_name = f"{key}.npy"
    link_or_copy(linked.path, directory / file_name)
    return {
        "file": file_name,
        "dtype": linked.dtype,
        "shape": list(linked.shape),
        "sha256": linked.sha256,
        "bytes": os.stat(directory / file_name).st_size,
    }


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        file.write(_to_json(data))
        file.flush()
        os.fsync(file.fileno())


def _to_json(data: Mapping[str, Any]) -> str:
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


def _publish(temp: Path, final: Path, *, overwrite: bool) -> None:
    """Rename the finished temp dir to its final name, moving an existing one aside first."""
    if not final.exists():
        os.rename(temp, final)
        return
    if not overwrite:  # another writer got there between the check and now
        raise SnapshotWriteError(f"could not write snapshot {final}: it already exists")
    # POSIX rename cannot replace a non-empty directory, so the old one steps aside; if the
    # process dies in between, remove_stale_temp_dirs puts the aside copy back.
    aside = _aside_path(final)
    os.rename(final, aside)
    try:
        os.rename(temp, final)
    except BaseException:
        os.rename(aside, final)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _aside_path(final: Path) -> Path:
    return final.with_name(f"{ASIDE_PREFIX}{final.name}-{os.getpid()}-{secrets.token_hex(4)}")


def _make_work_dir(parent: Path, prefix: str, name: str) -> Path:
    # Not tempfile.mkdtemp: its 0700 mode would make snapshots unreadable to other users
    # (e.g. a service account writes, a person evaluates); os.mkdir honours the umask.
    path = parent / f"{prefix}{name}-{os.getpid()}-{secrets.token_hex(4)}"
    os.mkdir(path)
    return path


def _write_error(final: Path, exc: OSError) -> SnapshotWriteError:
    return SnapshotWriteError(
        f"could not write snapshot {final}: {exc.strerror or exc}", errno=exc.errno
    )


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# --------------------------------------------------------------------------------------------
# Reading


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


def manifest_checksum(manifest: Mapping[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON without its own checksum key.

    The array files have their checksums in the manifest; this one covers the manifest itself
    (iteration, elapsed time, config), so an altered or damaged manifest is refused too.
    """
    body = {key: value for key, value in manifest.items() if key != MANIFEST_CHECKSUM}
    return hashlib.sha256(_to_json(body).encode("utf-8")).hexdigest()


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


def snapshot_info(path: Path, manifest: Mapping[str, Any]) -> SnapshotInfo:
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
