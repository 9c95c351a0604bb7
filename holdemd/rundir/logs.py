"""Log files that a full disk cannot turn into a crash or a flood.

``logging.FileHandler`` reports a failed write by printing a traceback to stderr, for every
record: on a full disk that is megabytes of tracebacks a minute in the journal. This handler
drops the record, counts it, and says so on stderr at most once a minute; the next record
tries the disk again, so logging resumes by itself when space returns.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from pathlib import Path

REPORT_EVERY_SECONDS = 60.0
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ResilientFileHandler(logging.FileHandler):
    def __init__(self, filename: str, encoding: str = "utf-8") -> None:
        super().__init__(filename, encoding=encoding)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lost = 0  # records that could not be written
        self._reported_at = -float("inf")

    def handleError(self, record: logging.LogRecord) -> None:
        self.lost += 1
        now = time.monotonic()
        if now - self._reported_at >= REPORT_EVERY_SECONDS:
            self._reported_at = now
            error = sys.exc_info()[1]
            why = getattr(error, "strerror", None) or error or "unknown error"
            with contextlib.suppress(OSError):
                sys.stderr.write(
                    f"holdemd: cannot write {self.baseFilename}: {why} "
                    f"({self.lost} log record(s) lost so far; logging resumes when it can)\n"
                )


class RunLog:
    """A run's ``logs/train.log``, added to the ``holdemd`` logger while the run lasts (the
    daemon's runs: ``holdemd train`` sets its log file up itself)."""

    def __init__(self) -> None:
        self.handler: logging.Handler | None = None

    def attach(self, run_dir: Path) -> None:
        self.detach()
        path = run_dir / "logs" / "train.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handler = ResilientFileHandler(str(path))
        logging.getLogger("holdemd").addHandler(self.handler)

    def detach(self) -> None:
        if self.handler is not None:
            logging.getLogger("holdemd").removeHandler(self.handler)
            self.handler.close()
            self.handler = None


def reopen_log_files() -> None:
    """Close every log file of the ``holdemd`` logger; the next record reopens it by its path
    (after logrotate moved it: SIGHUP)."""
    for handler in logging.getLogger("holdemd").handlers:
        if isinstance(handler, logging.FileHandler):
            handler.acquire()
            try:
                handler.close()
            finally:
                handler.release()
