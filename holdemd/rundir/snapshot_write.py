"""Writing a snapshot directory atomically (the format is ``snapshots``).

A snapshot is written into ``RUN/snapshots/.tmp-<name>-<pid>-<random>/``, every file and the
directory are fsynced, and only then is it renamed to its final name. So a crash or a full disk
leaves either the complete new snapshot or none, and never touches the earlier ones; the
``.tmp-*`` leftovers of a crash are removed by
:func:`holdemd.rundir.store.remove_stale_temp_dirs`. An array that is already a finished
``.npy`` file (a lazy run's later-street sums, gigabytes that never change once written) is
hard-linked in rather than written again (`LinkedFile`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from holdemd.errors import SnapshotWriteError
from holdemd.rundir.atomic import fsync_dir, link_or_copy
from holdemd.rundir.checksums import HashingWriter
from holdemd.rundir.snapshots import (
    ASIDE_PREFIX,
    FORMAT_VERSION,
    MANIFEST_CHECKSUM,
    MANIFEST_FILE,
    NAME_RE,
    SNAPSHOTS_DIR,
    TEMP_PREFIX,
    LinkedFile,
    SnapshotInfo,
    manifest_checksum,
    manifest_json,
    snapshot_info,
)

_STORABLE_KINDS = "biufcmMSUV"  # numpy dtype kinds np.save writes without pickling


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
    info = snapshot_info(final, json.loads(manifest_json(full)))
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
        manifest_json(manifest)
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
        file.write(manifest_json(data))
        file.flush()
        os.fsync(file.fileno())


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
