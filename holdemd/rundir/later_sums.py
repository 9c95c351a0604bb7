"""The later streets' sums file of a lazy run (``solver.later_sums``): where it lives, how a pass
writes it, how a resumed run takes a snapshot's copy as its own.

``RUN/later_sums/current.npy`` is the run's current file, a 1-D ``.npy`` array. A pass writes
the next one as ``RUN/later_sums/.tmp-sums-<pid>-<random>.npy``, fsyncs it and renames it over
``current.npy``; a file is never changed once renamed, so a snapshot hard-links it instead of
copying gigabytes (``rundir.snapshot_write``). A crash leaves a temp file, removed at the next
start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import io
import os
import queue
import secrets
import threading
from pathlib import Path

import numpy as np

from holdemd.rundir.atomic import fsync_dir, link_or_copy
from holdemd.rundir.store import writer_alive
from holdemd.solver.later_sums import LaterSums

LATER_SUMS_DIR = "later_sums"
CURRENT_FILE = "current.npy"
TEMP_PREFIX = ".tmp-sums-"
QUEUED_CHUNKS = 2  # chunks a writer thread may have waiting: bounds the pass's memory


def current_path(run_dir: Path) -> Path:
    return run_dir / LATER_SUMS_DIR / CURRENT_FILE


def npy_header(dtype: np.dtype, entries: int) -> bytes:
    """The ``.npy`` header of a 1-D array of ``entries`` values (written before the values)."""
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {**header, "shape": (entries,)})
    return buffer.getvalue()


class SumsReader:
    """Reads ranges of entries of a sums file with ``pread`` (no mapping: the pass streams
    gigabytes that must not count as the supervisor's memory), asking the kernel to read
    ahead of the range it will want next."""

    def __init__(self, path: Path, dtype: np.dtype) -> None:
        self.dtype = dtype
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, stored = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, _, stored = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"{path} is a .npy file of version {version}, not 1.0 or 2.0")
            self.offset = handle.tell()
        if stored != dtype or len(shape) != 1:
            raise ValueError(f"{path} holds {stored}{list(shape)}, not a 1-D {dtype} array")
        self.entries = int(shape[0])
        self.fd = os.open(path, os.O_RDONLY)

    def read(self, lo: int, hi: int, ahead: int = 0) -> np.ndarray:
        """Entries ``lo:hi``; then the kernel starts reading the ``ahead`` entries after them."""
        out = np.empty(max(hi - lo, 0), dtype=self.dtype)
        view = memoryview(out.data).cast("B")
        done, start = 0, self.offset + lo * self.dtype.itemsize
        while done < len(view):
            got = os.preadv(self.fd, [view[done:]], start + done)
            if got == 0:
                ends = lo + done // self.dtype.itemsize
                raise OSError(errno.EIO, f"the sums file ends at entry {ends:,}, before {hi:,}")
            done += got
        if ahead > 0 and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(
                self.fd, start + len(view), ahead * self.dtype.itemsize, os.POSIX_FADV_WILLNEED
            )
        return out

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class SumsWriter:
    """Writes a new sums file of ``entries`` values in order, then publishes it atomically.

    Threaded (big files): chunks go to a thread through a queue of `QUEUED_CHUNKS`, so that
    neither the disk nor a final fsync of gigabytes ever holds up the event loop; `room` says
    whether a chunk may be handed over now. Otherwise every call writes at once.
    The file's sha256 is computed on the way, for the snapshots that will link it.
    """

    def __init__(self, directory: Path, dtype: np.dtype, entries: int, threaded: bool) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.target = directory / CURRENT_FILE
        self.temp = directory / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.npy"
        self.fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.hash = hashlib.sha256()
        self.error: OSError | None = None
        self.published = False
        self.threaded = threaded
        self._queue: queue.Queue[np.ndarray | None] | None = None
        self._thread: threading.Thread | None = None
        try:
            self._write(npy_header(dtype, entries))
        except BaseException:
            self.abort()
            raise
        if threaded:
            self._queue = queue.Queue(maxsize=QUEUED_CHUNKS)
            self._thread = threading.Thread(target=self._drain, name="later-sums", daemon=True)
            self._thread.start()

    @property
    def room(self) -> bool:
        return self._queue is None or not self._queue.full()

    def write(self, values: np.ndarray) -> None:
        """The next values (waits for room when threaded and the queue is full)."""
        if self._queue is None:
            self._write(values)
        else:
            self._queue.put(values)

    def close(self) -> None:
        """No more values: fsync and publish (in the thread when threaded; see `done`)."""
        if self._queue is None:
            self._publish()
        else:
            self._queue.put(None)

    def done(self, wait: bool) -> bool:
        """Whether the file is published or has failed (``error``); ``wait``: until it is."""
        if self._thread is not None:
            if wait:
                self._thread.join()
            if self._thread.is_alive():
                return False
        return self.published or self.error is not None

    def abort(self) -> None:
        """Stop writing and remove the temp file (a run that ends mid-pass)."""
        if self._queue is not None and self._thread is not None and self._thread.is_alive():
            # The thread discards what is queued once it sees an error, so the put gets room.
            self.error = self.error or OSError(errno.ECANCELED, "the pass was abandoned")
            self._queue.put(None)
            self._thread.join()
        self._close_fd()
        if not self.published:
            self.temp.unlink(missing_ok=True)

    def _drain(self) -> None:
        assert self._queue is not None
        while True:
            values = self._queue.get()
            if self.error is not None:
                if values is None:
                    return
                continue  # drain what is queued, so that the event loop never waits on a put
            try:
                if values is None:
                    self._publish()
                    return
                self._write(values)
            except OSError as exc:
                self.error = exc

    def _write(self, data: bytes | np.ndarray) -> None:
        try:
            view = memoryview(data if isinstance(data, bytes) else data.data).cast("B")
            self.hash.update(view)
            done = 0
            while done < len(view):
                done += os.write(self.fd, view[done:])
        except OSError as exc:
            self.error = exc
            raise

    def _publish(self) -> None:
        try:
            os.fsync(self.fd)
            self._close_fd()
            os.rename(self.temp, self.target)
            fsync_dir(self.target.parent)
        except OSError as exc:
            self.error = exc
            raise
        self.published = True

    def _close_fd(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def adopt(later: LaterSums, run_dir: Path) -> LaterSums:
    """``later`` with its file as the run's current one: a resumed snapshot's file is linked
    (or copied) into ``run_dir`` so that the run's snapshots can link it after retention has
    removed the snapshot it came from."""
    if later.path is None:
        return later
    target = current_path(run_dir)
    with contextlib.suppress(OSError):
        if os.path.samefile(later.path, target):
            return dataclasses.replace(later, path=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.npy")
    try:
        link_or_copy(later.path, temp)
        os.rename(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return dataclasses.replace(later, path=target)


def remove_stale_temps(run_dir: Path) -> list[str]:
    """Remove the temp files of passes whose process is gone (a crash mid-pass)."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in (run_dir / LATER_SUMS_DIR).iterdir():
            if not entry.name.startswith(TEMP_PREFIX):
                continue
            pid = entry.name[len(TEMP_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and writer_alive(int(pid)):
                continue
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed
