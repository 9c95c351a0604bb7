"""Who is on the other end of a Unix socket: the kernel's word, not the client's.

Linux gives (pid, uid, gid) with ``SO_PEERCRED``; macOS gives uid and groups with
``LOCAL_PEERCRED``. Supplementary groups come from ``/proc/<pid>/status`` on Linux. Where
nothing can be read, :func:`peer_credentials` returns None and the caller must refuse what
needs an identity.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
from dataclasses import dataclass, field
from typing import Protocol

_SOL_LOCAL = 0  # macOS <sys/un.h>
_LOCAL_PEERCRED = 1
_XUCRED = struct.Struct("=IIh16I")  # cr_version, cr_uid, cr_ngroups, cr_groups[NGROUPS]


@dataclass(frozen=True)
class PeerCredentials:
    uid: int
    gid: int
    pid: int | None = None
    groups: frozenset[int] = field(default_factory=frozenset)  # includes gid

    def in_group(self, gid: int) -> bool:
        return gid == self.gid or gid in self.groups


class _HasSockopt(Protocol):
    def getsockopt(self, level: int, option: int, buflen: int) -> bytes: ...


def peer_credentials(sock: _HasSockopt) -> PeerCredentials | None:
    try:
        if hasattr(socket, "SO_PEERCRED"):
            raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid, uid, gid = struct.unpack("3i", raw)
            return PeerCredentials(uid, gid, pid, frozenset({gid, *_proc_groups(pid)}))
        if sys.platform == "darwin":
            raw = sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, _XUCRED.size)
            fields = _XUCRED.unpack(raw[: _XUCRED.size].ljust(_XUCRED.size, b"\0"))
            uid, count = fields[1], fields[2]
            groups = frozenset(fields[3 : 3 + max(0, min(count, 16))])
            gid = fields[3] if count > 0 else -1
            return PeerCredentials(uid, gid, None, groups)
    except OSError:
        return None
    return None


def _proc_groups(pid: int) -> set[int]:
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"Groups:"):
                return {int(g) for g in line.split()[1:]}
    return set()
