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
