"""``STATE/holdemd.lock``: one daemon per state directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from holdemd.errors import HoldemdError

LOCK_FILE = "holdemd.lock"


class PidLock:
    """A file held with flock for the process's life, holding its pid: the kernel drops the
    lock when the process dies, however it dies, so a stale file never blocks a restart. The
    file is left in place: removing it would race with a process that is just locking it.

    ``taken`` words the error when another process holds it (``{pid}`` is its pid)."""

    def __init__(self, path: Path, taken: str) -> None:
        self.path = path
        self.taken = taken
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        f = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise HoldemdError(self.taken.format(pid=holder)) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class DaemonLock(PidLock):
    """``STATE/holdemd.lock``: one daemon per state directory."""

    def __init__(self, state_dir: Path) -> None:
        path = state_dir / LOCK_FILE
        super().__init__(
            path,
            f"another holdemd serve (pid {{pid}}) holds {path}; stop it (holdemctl shutdown) "
            "or give this one another --state-dir",
        )

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        super().acquire()
