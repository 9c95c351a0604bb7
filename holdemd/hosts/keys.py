"""CURVE key directories: what ``holdemd keys init`` writes, and what the head and nodes load.

One flat layout, made on the head (or an administrator's machine) by
``holdemd keys init DIR --hosts NAME...``::

    DIR/                  0700
      head.key            the head's public key        -> the head and every node (they pin it)
      head.key_secret     the head's secret key, 0600  -> the head only
      NAME.key            host NAME's public key       -> the head only: the hosts it accepts
      NAME.key_secret     host NAME's secret key, 0600 -> host NAME only: move it there

The head reads ``head.key_secret`` and every ``NAME.key`` (its authorized hosts: delete one to
refuse that host). Node NAME reads ``head.key`` and ``NAME.key_secret``: the two files that
systemd's ``LoadCredential=`` puts in ``$CREDENTIALS_DIRECTORY``, or the head's whole DIR when
everything runs on one machine. The files are ZeroMQ certificates in the czmq/pyzmq format
(``public-key = "<Z85>"``, and ``secret-key`` in a secret file), so zmq's own tools read them.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from zmq.utils import z85

from holdemd.errors import ExitCode, HoldemdError
from holdemd.protocol.paths import directory_problem
from holdemd.rundir.atomic import fsync_dir

HEAD = "head"
PUBLIC_SUFFIX = ".key"
SECRET_SUFFIX = ".key_secret"
Z85_KEY_LENGTH = 40  # a 32-byte CURVE key in Z85

# Host names become file names and ZAP user ids: no path separators, no leading dot.
_HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KEY_LINE = re.compile(r'(public|secret)-key\s*=\s*"([^"]*)"')
_PRIVATE_BITS = stat.S_IRWXG | stat.S_IRWXO
_INIT = "holdemd keys init DIR --hosts NAME..."


class KeysError(HoldemdError):
    """A key directory or key file is missing, unsafe or malformed; the message names the file
    and what to do."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class HeadKeys:
    """What the head needs: its own pair and the hosts it accepts."""

    directory: Path
    public: bytes  # Z85, 40 bytes
    secret: bytes = field(repr=False)  # Z85; never in a log line
    hosts: Mapping[bytes, str] = field(default_factory=dict)  # a host's Z85 public key -> name


@dataclass(frozen=True)
class NodeKeys:
    """What node ``name`` needs: its own pair and the head's public key, which it pins."""

    directory: Path
    name: str
    public: bytes
    secret: bytes = field(repr=False)
    head_public: bytes = b""


@dataclass(frozen=True)
class KeyEntry:
    """One name's files in a key directory (``holdemd keys list``)."""

    name: str
    public: bytes
    has_public_file: bool
    has_secret_file: bool

    @property
    def is_head(self) -> bool:
        return self.name == HEAD

    @property
    def public_file(self) -> str:
        return self.name + PUBLIC_SUFFIX

    @property
    def secret_file(self) -> str:
        return self.name + SECRET_SUFFIX

    @property
    def files(self) -> list[str]:
        """The names of its files that are present."""
        present = (
            (self.public_file, self.has_public_file),
            (self.secret_file, self.has_secret_file),
        )
        return [name for name, there in present if there]


@dataclass(frozen=True)
class InitResult:
    directory: Path
    made: list[str]  # names whose key pair was made now ("head" first when it was)
    kept: list[str]  # names that already had keys: left as they were


def check_host_name(name: str) -> str:
    if name == HEAD or not _HOST_NAME.fullmatch(name):
        raise KeysError(
            f"host name {name!r}: a host name is 1-64 letters, digits, '-', '_' or '.', starts "
            f"with a letter or digit, and is not {HEAD!r}; choose another"
        )
    return name


def public_path(directory: Path, name: str) -> Path:
    return directory / f"{name}{PUBLIC_SUFFIX}"


def secret_path(directory: Path, name: str) -> Path:
    return directory / f"{name}{SECRET_SUFFIX}"


# --- making keys -------------------------------------------------------------------------------


def init_keys(directory: Path, hosts: Sequence[str]) -> InitResult:
    """Make the head's key pair and one per host in ``directory`` unless they exist.

    Never replaces a file: a name that already has keys is kept as it is (a missing public
    file is restored from its secret one), so re-running with more names only adds them.
    """
    names = list(dict.fromkeys(check_host_name(name) for name in hosts))
    if directory.exists() and not directory.is_dir():
        raise KeysError(f"{directory}: not a directory; give keys init a directory to make")
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    _check_directory(directory)
    made: list[str] = []
    kept: list[str] = []
    for name in [HEAD, *names]:
        (made if _ensure_pair(directory, name) else kept).append(name)
    fsync_dir(directory)
    return InitResult(directory, made, kept)


def _ensure_pair(directory: Path, name: str) -> bool:
    """Make ``name``'s pair if it has none; True when it was made."""
    public_file, secret_file = public_path(directory, name), secret_path(directory, name)
    if secret_file.exists():
        if not public_file.exists():  # e.g. an earlier run stopped between the two writes
            public, _ = _read_secret(secret_file, _fix_for(name))
            _write_new(public_file, _key_text(name, public), 0o644)
        return False
    if public_file.exists():
        if name == HEAD:  # a node's copy of the head's key, or the head's secret was lost
            raise KeysError(
                f"{public_file}: there is no {secret_file.name} beside it: this is a node's key "
                f"directory, or the head's secret key was removed; run keys init in the head's "
                f"key directory, or delete {public_file} to make a new head key (then copy the "
                f"new head.key to every host)"
            )
        return False  # the host's secret was moved to the host, as it should be
    public, secret = zmq.curve_keypair()
    _write_new(secret_file, _key_text(name, public, secret), 0o600)
    _write_new(public_file, _key_text(name, public), 0o644)
    return True


def _key_text(name: str, public: bytes, secret: bytes | None = None) -> str:
    who = "the head" if name == HEAD else f"host {name}"
    if secret is None:
        use = (
            "Every node needs it: it connects only to the head that holds the matching secret."
            if name == HEAD
            else f"The head accepts host {name} while its key directory holds this file."
        )
        kind = "public"
    else:
        use = (
            "Keep it on the head only."
            if name == HEAD
            else f"Move it to host {name} (mode 0600) and delete it here."
        )
        kind = "SECRET"
    made = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        f"#   holdemd: the {kind} CURVE key of {who}, made {made} by holdemd keys init.",
        f"#   {use}",
        "",
        "metadata",
        "curve",
        f'    public-key = "{public.decode("ascii")}"',
    ]
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode("ascii")}"')
    return "\n".join(lines) + "\n"


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create ``path`` (never replace it) with ``mode``; on a failed write, remove what was made."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise KeysError(f"{path}: appeared while keys init ran; run it again") from exc
    except OSError as exc:
        raise KeysError(f"{path}: cannot create it ({exc.strerror}); check the directory") from exc
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeysError(f"{path}: cannot write it ({exc.strerror}); check the disk") from exc


# --- loading keys ------------------------------------------------------------------------------


def load_head_keys(directory: Path) -> HeadKeys:
    """The head's pair (``head.key_secret``) and every authorized host (``NAME.key``)."""
    _check_directory(directory)
    public, secret = _read_secret(secret_path(directory, HEAD), _fix_for(HEAD))
    _check_matches(public_path(directory, HEAD), public)
    hosts: dict[bytes, str] = {}
    for name, path in _names(directory, PUBLIC_SUFFIX):
        if name == HEAD:
            continue
        key = _read_public(path, "remove it, or put the host's own NAME.key in its place")
        if key in hosts:
            raise KeysError(
                f"{path}: the same key as {public_path(directory, hosts[key]).name}; two hosts "
                f"cannot share a key: remove one and make it new keys with keys init"
            )
        hosts[key] = name
    if not hosts:
        raise KeysError(
            f"{directory}: no host keys (NAME.key) to accept; add hosts with "
            f"holdemd keys init {directory} --hosts NAME..."
        )
    return HeadKeys(directory, public, secret, hosts)


def load_node_keys(directory: Path, name: str) -> NodeKeys:
    """Node ``name``'s pair (``NAME.key_secret``) and the head's public key (``head.key``)."""
    check_host_name(name)
    _check_directory(directory)
    public, secret = _read_secret(secret_path(directory, name), _fix_for(name))
    _check_matches(public_path(directory, name), public)
    head_public = _read_public(
        public_path(directory, HEAD), "copy head.key from the head's key directory"
    )
    return NodeKeys(directory, name, public, secret, head_public)


def list_keys(directory: Path) -> list[KeyEntry]:
    """Every name with a key file in ``directory``, the head first, then by name."""
    _check_directory(directory)
    names = {name for name, _ in _names(directory, PUBLIC_SUFFIX)}
    names |= {name for name, _ in _names(directory, SECRET_SUFFIX)}
    entries = []
    for name in sorted(names, key=lambda name: (name != HEAD, name)):
        public_file, secret_file = public_path(directory, name), secret_path(directory, name)
        if secret_file.exists():
            public, _ = _read_secret(secret_file, _fix_for(name))
            _check_matches(public_file, public)
        else:
            public = _read_public(public_file, "remove it or restore it")
        entries.append(KeyEntry(name, public, public_file.exists(), secret_file.exists()))
    return entries


def _names(directory: Path, suffix: str) -> Iterable[tuple[str, Path]]:
    for path in sorted(directory.glob(f"*{suffix}")):
        name = path.name[: -len(suffix)]
        if name != HEAD and not _HOST_NAME.fullmatch(name):
            raise KeysError(
                f"{path}: {name!r} is not a host name (letters, digits, '-', '_', '.'); "
                f"rename or remove the file"
            )
        yield name, path


def _fix_for(name: str) -> str:
    if name == HEAD:
        return f"give --keys the head's key directory (made by {_INIT})"
    return f"copy {name}.key_secret from the head's key directory (made by {_INIT})"


def _check_directory(directory: Path) -> None:
    if not directory.is_dir():
        what = "not a directory" if directory.exists() else "no such directory"
        raise KeysError(f"{directory}: {what}; make the keys with {_INIT} on the head")
    try:
        problem = directory_problem(directory, {os.getuid(), 0})
    except OSError as exc:
        raise KeysError(f"{directory}: cannot examine it ({exc.strerror})") from exc
    if problem is not None:  # someone else could plant a NAME.key there, or swap head.key
        raise KeysError(f"key directory {problem}")


def _read_public(path: Path, fix: str) -> bytes:
    public, _ = _parse(path, fix, secret=False)
    return public


def _read_secret(path: Path, fix: str) -> tuple[bytes, bytes]:
    public, secret = _parse(path, fix, secret=True)
    assert secret is not None  # _parse checked it
    if zmq.curve_public(secret) != public:
        raise KeysError(f"{path}: its secret-key does not match its public-key; {fix}")
    return public, secret


def _check_matches(public_file: Path, public: bytes) -> None:
    """A public file beside a secret one must hold the same key (a copy from elsewhere?)."""
    fix = f"remove it (keys init restores it from {public_file.name}_secret)"
    if public_file.exists() and _read_public(public_file, fix) != public:
        raise KeysError(
            f"{public_file}: not the public key of {public_file.name}_secret beside it; remove "
            f"{public_file} (keys init restores it from the secret)"
        )


def _parse(path: Path, fix: str, *, secret: bool) -> tuple[bytes, bytes | None]:
    advice = f"; {fix}" if fix else ""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            text = handle.read()
    except FileNotFoundError as exc:
        raise KeysError(f"{path}: missing{advice}") from exc
    except OSError as exc:
        raise KeysError(f"{path}: cannot read it ({exc.strerror}){advice}") from exc
    if secret and mode & _PRIVATE_BITS and not _is_credential(path):
        raise KeysError(
            f"{path}: a secret key readable by others (mode {stat.S_IMODE(mode):04o}); "
            f"run chmod 600 {path}"
        )
    keys: dict[str, bytes] = {}
    for line in text.splitlines():
        match = _KEY_LINE.fullmatch(line.strip())
        if match is not None:
            keys.setdefault(match.group(1), match.group(2).encode("ascii", "replace"))
    wanted = ["public", "secret"] if secret else ["public"]
    for kind in wanted:
        if kind not in keys:
            raise KeysError(f"{path}: no {kind}-key line, not a CURVE key file{advice}")
        if not _is_z85_key(keys[kind]):
            raise KeysError(f"{path}: its {kind}-key is not a 40-character Z85 key{advice}")
    return keys["public"], keys.get("secret")


def _is_credential(path: Path) -> bool:
    """Is ``path`` in the credentials directory systemd made for this service? There, a file
    is 0400 plus an ACL for the service's user, and the ACL mask shows as group bits (0440):
    only root and that user can read it, whatever the mode says."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    return bool(credentials) and path.parent.resolve() == Path(str(credentials)).resolve()


def _is_z85_key(text: bytes) -> bool:
    if len(text) != Z85_KEY_LENGTH:
        return False
    with contextlib.suppress(Exception):  # z85.decode raises KeyError, ValueError, struct.error
        return len(z85.decode(text)) == 32
    return False
