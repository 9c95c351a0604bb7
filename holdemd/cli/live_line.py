"""The live progress line of ``holdemd train`` in a terminal, and log lines printed above it.

The line is redrawn in place (``\\r``, then erase to the end of the line) and cut to the
terminal's width, so an update never wraps onto a new line in an 80-column terminal. A log
record printed while the line is shown first erases it, prints the record on a clean line, and
draws the line again below it: log lines are never split by the progress line.
"""

from __future__ import annotations

import logging
import shutil
import sys
from typing import TYPE_CHECKING, TextIO

ERASE_LINE = "\r\x1b[K"


class LiveLine:
    """One line at the bottom of a terminal, redrawn in place."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self.text = ""  # what is shown now; "" when nothing is

    @property
    def stream(self) -> TextIO:
        # Looked up when used, so a test's replacement of sys.stderr is seen.
        return self._stream if self._stream is not None else sys.stderr

    def show(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        # One column short of the width: a character in the last column wraps on some terminals.
        self.text = text[: max(width - 1, 10)]
        self.stream.write(ERASE_LINE + self.text)
        self.stream.flush()

    def hide(self) -> None:
        if self.text:
            self.stream.write(ERASE_LINE)

    def redraw(self) -> None:
        if self.text:
            self.stream.write(self.text)
            self.stream.flush()

    def finish(self) -> None:
        """Leave the last line on screen and move below it."""
        if self.text:
            self.stream.write("\n")
            self.stream.flush()
            self.text = ""


LIVE_LINE = LiveLine()

if TYPE_CHECKING:
    _StreamHandler = logging.StreamHandler[TextIO]
else:  # not subscriptable at run time before Python 3.11
    _StreamHandler = logging.StreamHandler


class LiveLineHandler(_StreamHandler):
    """A stderr log handler that prints records above the live line instead of into it."""

    def __init__(self, live: LiveLine = LIVE_LINE) -> None:
        super().__init__(live.stream)
        self.live = live

    def emit(self, record: logging.LogRecord) -> None:
        self.live.hide()
        super().emit(record)
        self.live.redraw()
