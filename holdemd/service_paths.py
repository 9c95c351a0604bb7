"""Where the daemon keeps its state and its control socket, and where clients look for it.

One module, standard library only, shared by ``holdemd serve`` and ``holdemctl`` so both agree
without configuration. The order is documented in docs/control.md. Every function reads
``os.environ`` when it is called (nothing is cached), so tests can set variables with
``monkeypatch`` and a long-lived process sees what it was started with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SOCKET_NAME = "control.sock"
SYSTEM_SOCKET = Path("/run/holdemd") / SOCKET_NAME  # the system-wide systemd unit's
SOCKET_ENV = "HOLDEMD_SOCKET"


def _env_dir(name: str) -> Path | None:
    """The first entry of a colon-separated directory list in $name, or None if unset/empty.

    systemd passes ``RuntimeDirectory=a b`` as ``$RUNTIME_DIRECTORY=/run/a:/run/b``; the first
    one is the unit's own.
    """
    first = os.environ.get(name, "").split(":")[0]
    return Path(first) if first else None


def _xdg_dir(name: str) -> Path | None:
    # The XDG base-directory spec says to ignore a relative value: it would depend on the cwd.
    value = os.environ.get(name, "")
    return Path(value) if os.path.isabs(value) else None


def _macos_base() -> Path:
    return Path.home() / "Library" / "Application Support" / "holdemd"


def default_state_dir() -> Path:
    """$STATE_DIRECTORY (systemd), else the platform's per-user state directory."""
    if (path := _env_dir("STATE_DIRECTORY")) is not None:
        return path
    if sys.platform == "darwin":
        return _macos_base()
    xdg = _xdg_dir("XDG_STATE_HOME")
    return (xdg if xdg is not None else Path.home() / ".local" / "state") / "holdemd"


def _platform_runtime_dir() -> Path:
    """The per-user runtime directory when systemd did not choose one."""
    if sys.platform == "darwin":
        return _macos_base() / "run"
    xdg = _xdg_dir("XDG_RUNTIME_DIR")
    # /tmp/holdemd-UID as a fallback (no login session, e.g. cron or a container): per user,
    # so two users' daemons never meet; the daemon creates it 0700.
    return xdg / "holdemd" if xdg is not None else Path(f"/tmp/holdemd-{os.getuid()}")


def default_runtime_dir() -> Path:
    """$RUNTIME_DIRECTORY (systemd), else the platform's per-user runtime directory."""
    if (path := _env_dir("RUNTIME_DIRECTORY")) is not None:
        return path
    return _platform_runtime_dir()


def socket_candidates(explicit: str | None) -> list[tuple[Path, str]]:
    """Sockets to try, in order, each with where it came from, without duplicates.

    A socket the user named (``explicit``, i.e. ``--socket``, or $HOLDEMD_SOCKET) is the only
    candidate: falling back to another daemon would hide a typo and drive the wrong one.
    """
    if explicit:
        return [(Path(explicit), "--socket")]
    if named := os.environ.get(SOCKET_ENV):
        return [(Path(named), f"${SOCKET_ENV}")]
    found: list[tuple[Path, str]] = []
    if (path := _env_dir("RUNTIME_DIRECTORY")) is not None:
        found.append((path / SOCKET_NAME, "$RUNTIME_DIRECTORY"))
    found.append((_platform_runtime_dir() / SOCKET_NAME, "default runtime dir"))
    found.append((SYSTEM_SOCKET, "system service"))
    unique: list[tuple[Path, str]] = []
    for path, origin in found:
        if all(path != seen for seen, _ in unique):
            unique.append((path, origin))
    return unique
