"""Where the daemon keeps its state and its control socket, and where clients look for it.

One module, standard library only, shared by ``holdemd serve`` and ``holdemctl`` so both agree
without configuration. The order is documented in docs/control.md. Every function reads
``os.environ`` when it is called (nothing is cached), so tests can set variables with
``monkeypatch`` and a long-lived process sees what it was started with.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Collection
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


def per_user_runtime_dir() -> Path:
    """The runtime directory that belongs to the caller by its name (``/tmp/holdemd-UID``,
    ``$XDG_RUNTIME_DIR/holdemd``, macOS' own): a client trusts it only if the caller or root
    owns it, since anyone may create ``/tmp/holdemd-UID`` first."""
    return _platform_runtime_dir()


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


# -- who may be trusted with a directory ------------------------------------------------------
# Whoever can write to the directory that holds control.sock can put their own socket there and
# answer in the daemon's name; whoever can write to the state directory can plant an active-run
# record. Both sides therefore check, like OpenSSH and tmux do (docs/control.md).

_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


def _whom(trusted: Collection[int]) -> str:
    me = os.getuid()
    names = [
        f"you (uid {me})" if uid == me else "root" if uid == 0 else f"uid {uid}"
        for uid in sorted(set(trusted), key=lambda uid: (uid != me, uid))
    ]
    return " or ".join(names)


def directory_problem(path: Path, trusted: Collection[int], whom: str = "") -> str | None:
    """Why ``path`` cannot be trusted and what to do, or None: it must be a directory owned by
    one of the ``trusted`` uids (``whom`` says who they are, in words) and writable by nobody
    else (group *traverse*, 0710, is fine). A symbolic link is followed, but must itself belong
    to a trusted uid, or its owner could re-point it. Raises OSError when ``path`` cannot be
    examined (missing, permission denied)."""
    whom = whom or _whom(trusted)
    link = os.lstat(path)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in trusted:
        return f"{path} is a symbolic link owned by uid {link.st_uid}, not {whom}; remove it"
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory; remove it"
    if info.st_uid not in trusted:
        return f"{path} is owned by uid {info.st_uid}, not {whom}; remove it"
    if info.st_mode & _WRITABLE_BY_OTHERS:
        who = {stat.S_IWGRP: "its group", stat.S_IWOTH: "others"}
        writers = " and ".join(w for bit, w in who.items() if info.st_mode & bit)
        mode = stat.S_IMODE(info.st_mode)
        return f"{path} is writable by {writers} (mode {mode:04o}); chmod go-w {path}"
    return None


def private_dir_problem(path: Path) -> str | None:
    """For the daemon: create ``path`` (mode 0700) if it is missing, then say why it may not
    keep its state or its socket there, or None. Raises OSError if it cannot be created."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory_problem(path, {os.getuid(), 0})


def socket_problem(socket_path: Path) -> str | None:
    """For a client: why it must not talk to ``socket_path``, or None (docs/control.md).

    The socket's directory must be writable by nobody but its owner, and that owner must be
    root or the socket's owner; a per-user runtime directory must moreover be the caller's or
    root's. Raises OSError when the socket or its directory cannot be examined (ENOENT: no
    daemon there; EACCES: the caller may not look).
    """
    real = Path(os.path.realpath(socket_path))
    owner = os.stat(real).st_uid
    whom = "root" if owner == 0 else f"root or the socket's owner (uid {owner})"
    problem = directory_problem(real.parent, {0, owner}, whom)
    named = Path(os.path.abspath(socket_path)).parent
    if problem is None and named == per_user_runtime_dir():
        # By its name, not where it leads: a squatter's symlink at /tmp/holdemd-UID pointing
        # at an innocent directory is refused too (they could re-point it after this check).
        problem = directory_problem(named, {os.getuid(), 0})
    return problem
