"""The snapshots of a run: listing, finding the latest, retention, and crash leftovers.

One snapshot is in ``snapshots`` (format), ``snapshot_write`` and ``snapshot_read``; this module
deals with the directory of them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from holdemd.errors import SnapshotError, SnapshotWriteError
from holdemd.rundir.snapshot_read import read_manifest
from holdemd.rundir.snapshots import (
    ASIDE_PREFIX,
    MANIFEST_FILE,
    NAME_RE,
    SNAPSHOTS_DIR,
    TEMP_PREFIX,
    SnapshotInfo,
    snapshot_info,
)

_MAX_NAMES_SHOWN = 10

# --------------------------------------------------------------------------------------------
# Listing and finding


def list_snapshots(run_dir: Path) -> list[SnapshotInfo]:
    """The readable snapshots of a run, oldest first (by iteration, then name).

    Temp directories, directories without a manifest and snapshots whose manifest is corrupt
    are left out, so that resuming falls back to the newest *good* snapshot.
    """
    try:
        entries = list((run_dir / SNAPSHOTS_DIR).iterdir())
    except FileNotFoundError:
        return []
    infos = []
    for entry in entries:
        if entry.name.startswith(".") or not (entry / MANIFEST_FILE).is_file():
            continue
        try:
            infos.append(snapshot_info(entry, read_manifest(entry)))
        except SnapshotError:
            continue
    return sorted(infos, key=_chronological)


def latest_snapshot(run_dir: Path) -> SnapshotInfo | None:
    """The newest readable snapshot of a run, or None if it has none."""
    snapshots = list_snapshots(run_dir)
    return snapshots[-1] if snapshots else None


def find_snapshot(run_dir: Path, name: str | None) -> SnapshotInfo:
    """The snapshot called ``name`` in a run, or the newest one if ``name`` is None.

    Raises:
        SnapshotError: the run has no snapshots, or none called ``name`` (the message lists the
            available names), or the named one is corrupt.
    """
    snapshots_dir = run_dir / SNAPSHOTS_DIR
    if name is not None and NAME_RE.match(name) and (snapshots_dir / name).is_dir():
        # Read it even if list_snapshots would skip it: the user asked for this one, so they
        # get the reason it cannot be used rather than "not found".
        return snapshot_info(snapshots_dir / name, read_manifest(snapshots_dir / name))
    snapshots = list_snapshots(run_dir)
    if not snapshots:
        raise SnapshotError(f"no snapshots in {snapshots_dir}; train first with `holdemd train`")
    if name is None:
        return snapshots[-1]
    raise SnapshotError(
        f"no snapshot '{name}' in {snapshots_dir}; available: "
        f"{_name_list([s.name for s in snapshots])}"
    )


def _name_list(names: list[str]) -> str:
    # Keeps the message one readable line for a run with hundreds of snapshots.
    if len(names) <= _MAX_NAMES_SHOWN:
        return ", ".join(names)
    hidden = len(names) - _MAX_NAMES_SHOWN
    return f"{', '.join(names[-_MAX_NAMES_SHOWN:])} (and {hidden} older)"


def _chronological(info: SnapshotInfo) -> tuple[int, str]:
    return (info.iteration if info.iteration is not None else -1, info.name)


# --------------------------------------------------------------------------------------------
# Cleaning up


def remove_stale_temp_dirs(run_dir: Path) -> list[str]:
    """Clean up after a crashed writer; return the names of the directories removed.

    ``.tmp-*`` directories (unfinished writes or removals) are deleted. A ``.old-*`` directory
    (a snapshot moved aside by ``overwrite=True``) is renamed back if its replacement never
    arrived, else deleted. Directories of a writer that is still running are left alone.
    """
    snapshots_dir = run_dir / SNAPSHOTS_DIR
    try:
        entries = sorted(snapshots_dir.iterdir())
    except FileNotFoundError:
        return []
    removed = []
    for entry in entries:
        prefix = next((p for p in (TEMP_PREFIX, ASIDE_PREFIX) if entry.name.startswith(p)), None)
        if prefix is None:
            continue
        name, pid = _parse_work_dir_name(entry.name, prefix)
        if pid is not None and writer_alive(pid):
            continue
        if prefix == ASIDE_PREFIX and name is not None and not (snapshots_dir / name).exists():
            os.rename(entry, snapshots_dir / name)
        else:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _parse_work_dir_name(dir_name: str, prefix: str) -> tuple[str | None, int | None]:
    """``(name, pid)`` from ``<prefix><name>-<pid>-<random>``; Nones where it does not parse."""
    parts = dir_name[len(prefix) :].rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None, None
    return (parts[0] if NAME_RE.match(parts[0]) else None), int(parts[1])


def writer_alive(pid: int) -> bool:
    # Our own pid is a previous incarnation (containers reuse small pids, PID 1 above all):
    # this process does not clean up while it writes.
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def prune_snapshots(run_dir: Path, keep_last: int, keep_every: int) -> list[str]:
    """Apply the retention policy; return the names of the snapshots removed, oldest first.

    Kept: the newest ``keep_last`` snapshots (the newest one always, even with ``keep_last=0``)
    and every snapshot whose sequence number (manifest ``"sequence"``, else its position in
    iteration order) is a multiple of ``keep_every`` (0 disables this rule).
    """
    if keep_last < 0 or keep_every < 0:
        raise ValueError(f"keep_last and keep_every must be >= 0, got {keep_last}, {keep_every}")
    snapshots = list_snapshots(run_dir)
    newest = {info.name for info in snapshots[-max(keep_last, 1) :]}
    removed = []
    for position, info in enumerate(snapshots):
        sequence = info.sequence if info.sequence is not None else position
        if info.name in newest or (keep_every and sequence % keep_every == 0):
            continue
        _remove_snapshot(info.path)
        removed.append(info.name)
    return removed


def make_room(run_dir: Path, keep_every: int) -> str | None:
    """Remove the oldest snapshot that retention would drop soonest, to free disk space for a
    new one; return its name, or None when nothing may go.

    Never the newest snapshot (the one a crash would resume from) and never one that
    ``keep_every`` keeps for good: what goes is the oldest of the recent ones, which the
    next successful write would have pruned anyway once ``keep_last`` newer ones exist.
    """
    snapshots = list_snapshots(run_dir)
    for position, info in enumerate(snapshots[:-1]):
        sequence = info.sequence if info.sequence is not None else position
        if keep_every and sequence % keep_every == 0:
            continue
        _remove_snapshot(info.path)
        return info.name
    return None


def _remove_snapshot(path: Path) -> None:
    # Renamed to a temp name first: rmtree is not atomic, and a crash halfway through must not
    # leave a directory whose manifest still looks complete while array files are gone.
    doomed = path.with_name(f"{TEMP_PREFIX}{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(path, doomed)
    except OSError as exc:
        raise SnapshotWriteError(
            f"could not remove snapshot {path}: {exc.strerror or exc}"
        ) from exc
    shutil.rmtree(doomed, ignore_errors=True)
