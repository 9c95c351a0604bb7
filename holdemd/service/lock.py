"""``STATE/holdemd.lock``: one daemon per state directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from holdemd.errors import HoldemdError

LOCK_FILE = "holdemd.lock"


class DaemonLock:
    """Held with flock for the daemon's life; the kernel drops it when the process dies,
    however it dies, so a stale file never blocks a restart."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        f = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise HoldemdError(
                f"another holdemd serve (pid {holder}) holds {self.path}; stop it "
                "(holdemctl shutdown) or give this one another --state-dir"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
