"""Domain exceptions, and the exit codes the command line turns them into.

Every error a user can cause derives from :class:`HoldemdError`. At the process edge
(``holdemd.cli``) such an error becomes one line on stderr, ``holdemd: <message>``, and the
exit code of its class; it never becomes a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes shared by every ``holdemd`` subcommand."""

    OK = 0
    FAILURE = 1  # the job ran and failed (a worker could not run, a write failed, ...)
    USAGE = 2  # the user asked for something invalid: bad flag, bad config, missing file
    INTERRUPTED = 130  # a second Ctrl-C forced the exit


class HoldemdError(Exception):
    """Base of every error that is shown to a user as one line."""

    exit_code: ExitCode = ExitCode.FAILURE


class UsageError(HoldemdError):
    """A command-line argument or an input path is wrong."""

    exit_code = ExitCode.USAGE


class ConfigError(HoldemdError):
    """A config file is missing, unreadable, or has an unknown key or a bad value.

    The message names the file, the dotted key and what is allowed.
    """

    exit_code = ExitCode.USAGE


class SnapshotError(HoldemdError):
    """A snapshot on disk is missing or corrupt: the user names another one."""

    exit_code = ExitCode.USAGE


class SnapshotWriteError(SnapshotError):
    """A snapshot could not be written (a full disk, a bad name); ``errno`` is the OS error's."""

    exit_code = ExitCode.FAILURE

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class GameError(HoldemdError):
    """A game definition cannot be compiled (e.g. no legal action at a decision node)."""

    exit_code = ExitCode.USAGE


class BlueprintError(HoldemdError):
    """A blueprint file is missing, truncated, altered or written by a newer holdemd, or the card
    abstraction it refers to cannot be found; the message names the file and what to do."""

    exit_code = ExitCode.USAGE
