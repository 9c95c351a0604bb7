"""Where the daemon keeps its state and its control socket, and where clients look for it.

One module, standard library only, shared by ``holdemd serve`` and ``holdemctl`` so both agree
without configuration. The order is documented in docs/control.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SOCKET_NAME = "control.sock"
SYSTEM_SOCKET = Path("/run/holdemd") / SOCKET_NAME  # the system-wide systemd unit's
SOCKET_ENV = "HOLDEMD_SOCKET"


def _first(env: str) -> Path | None:
    # systemd passes a colon-separated list when a unit names several directories.
    value = os.environ.get(env, "")
    first = value.split(":")[0]
    return Path(first) if first else None


def _macos_base() -> Path:
    return Path.home() / "Library" / "Application Support" / "holdemd"


def default_state_dir() -> Path:
    """$STATE_DIRECTORY (systemd), else the platform's per-user state directory."""
    if (path := _first("STATE_DIRECTORY")) is not None:
        return path
    if sys.platform == "darwin":
        return _macos_base()
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "holdemd"


def default_runtime_dir() -> Path:
    """$RUNTIME_DIRECTORY (systemd), else the platform's per-user runtime directory."""
    if (path := _first("RUNTIME_DIRECTORY")) is not None:
        return path
    if sys.platform == "darwin":
        return _macos_base() / "run"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    return Path(xdg) / "holdemd" if xdg else Path(f"/tmp/holdemd-{os.getuid()}")


def socket_candidates(explicit: str | None) -> list[tuple[Path, str]]:
    """Sockets to try, in order, each with where it came from. A socket the user named
    (``--socket`` or $HOLDEMD_SOCKET) is the only candidate: guessing past it would hide a typo."""
    if explicit:
        return [(Path(explicit), "--socket")]
    if os.environ.get(SOCKET_ENV):
        return [(Path(os.environ[SOCKET_ENV]), f"${SOCKET_ENV}")]
    found: list[tuple[Path, str]] = []
    if (path := _first("RUNTIME_DIRECTORY")) is not None:
        found.append((path / SOCKET_NAME, "$RUNTIME_DIRECTORY"))
    saved = os.environ.pop("RUNTIME_DIRECTORY", None)
    try:
        found.append((default_runtime_dir() / SOCKET_NAME, "default runtime dir"))
    finally:
        if saved is not None:
            os.environ["RUNTIME_DIRECTORY"] = saved
    found.append((SYSTEM_SOCKET, "system service"))
    unique: list[tuple[Path, str]] = []
    for path, origin in found:
        if all(path != seen for seen, _ in unique):
            unique.append((path, origin))
    return unique
