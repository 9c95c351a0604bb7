"""Atomic file writes: readers see the old file or the new one, never half of one.

The one way holdemd replaces a file (status.json, the active-run record, exported strategies,
bucket tables, snapshot manifests): write a temporary file in the same directory, fsync it,
rename it over the target, fsync the directory. Standard library only, so every layer may use
it. A snapshot (a directory of files) is made atomic the same way, one level up, in
``rundir.snapshot_write``; a file that never changes once written goes into one by `link_or_copy`.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create or replace ``path`` with what ``write`` writes to a binary file handle.

    The file is created 0666 minus the umask (``mkstemp``'s 0600 would hide status files and
    shipped tables from other users). On any error, ``path`` is untouched and the temporary
    file is gone; concurrent writers of the same content are harmless.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """:func:`write_atomic` of UTF-8 ``text``."""
    data = text.encode("utf-8")
    write_atomic(path, lambda handle: handle.write(data))


def fsync_dir(path: Path) -> None:
    """fsync a directory so that the entries created or renamed in it survive a power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (certain network mounts) cannot fsync a directory; the data files
        # themselves were fsynced, so that is not a reason to fail the write.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link of ``source`` at ``target`` (a new name), or a fsynced copy where the two
    are on different file systems or the file system has no hard links."""
    try:
        os.link(source, target)
        return
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
    with open(source, "rb") as src, open(target, "xb") as dst:
        shutil.copyfileobj(src, dst, 16 << 20)
        dst.flush()
        os.fsync(dst.fileno())
