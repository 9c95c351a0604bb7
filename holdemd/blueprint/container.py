"""The blueprint file's container: a fixed header, aligned little-endian array sections and a
JSON manifest, read through one memory map.

Byte layout (every integer little-endian; ``docs/blueprint.md`` says it for other languages)::

    offset   size  field
         0      8  magic b"HOLDEMBP"
         8      4  u32 format version (1)
        12      4  u32 header size (128)
        16      8  u64 file size in bytes (a truncated or extended file is refused at once)
        24      8  u64 manifest offset
        32      8  u64 manifest length
        40     32  sha256 of the manifest bytes
        72     56  zero
       128      …  sections, each starting at a multiple of 64, zero bytes between them
  manifest      …  UTF-8 JSON, the last bytes of the file

The manifest's ``"sections"`` maps a name to ``{"offset", "length", "dtype", "shape",
"sha256"}``: a C-order array of a numpy dtype string (``"<u1"``, ``"<i4"``, ``"<f8"`` …) at a byte
offset from the start of the file. Opening checks the header, the file size, the manifest's
sha256 and every section's bounds; with ``verify`` (the default) also every section's sha256
(about 1.6 GB/s on this machine's SHA extensions: a few milliseconds for a Hold'em blueprint),
so a look-up never reads an altered byte. Arrays are read-only views of the map: opening copies
nothing and a look-up touches only the pages it reads.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from holdemd.errors import BlueprintError
from holdemd.rundir.atomic import write_atomic

MAGIC = b"HOLDEMBP"
FORMAT_VERSION = 1
HEADER_SIZE = 128
ALIGNMENT = 64
_HEADER = struct.Struct("<8sIIQQQ32s")  # 72 bytes; the rest of the header is zero
_DTYPE_KINDS = "biuf"  # plain numbers only: nothing that would need pickling
EXPORT_AGAIN = "export it again with `holdemd blueprint export`"


@dataclass(frozen=True)
class Section:
    name: str
    offset: int
    length: int
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    sha256: str


def _little_endian(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    if array.dtype.kind not in _DTYPE_KINDS:
        raise ValueError(f"cannot store dtype {array.dtype} in a blueprint section")
    return array.astype(array.dtype.newbyteorder("<"), copy=False)


def _bytes(array: np.ndarray) -> memoryview:
    return array.reshape(-1).view(np.uint8).data


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


def write_container(
    path: Path, manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
) -> int:
    """Write ``arrays`` as sections and ``manifest`` (plus ``"sections"``) to ``path``,
    atomically; returns the file size."""
    stored = {name: _little_endian(array) for name, array in arrays.items()}
    sections: dict[str, dict[str, Any]] = {}
    offset = HEADER_SIZE
    for name, array in stored.items():
        offset = _aligned(offset)
        sections[name] = {
            "offset": offset,
            "length": array.nbytes,
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "sha256": hashlib.sha256(_bytes(array)).hexdigest(),
        }
        offset += array.nbytes
    manifest_offset = _aligned(offset)
    text = json.dumps({**manifest, "sections": sections}, indent=1, sort_keys=True)
    body = text.encode("utf-8")
    size = manifest_offset + len(body)
    header = _HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        HEADER_SIZE,
        size,
        manifest_offset,
        len(body),
        hashlib.sha256(body).digest(),
    ).ljust(HEADER_SIZE, b"\0")

    def write(handle: BinaryIO) -> None:
        handle.write(header)
        position = HEADER_SIZE
        for name, array in stored.items():
            start = sections[name]["offset"]
            handle.write(b"\0" * (start - position))
            handle.write(_bytes(array))
            position = start + array.nbytes
        handle.write(b"\0" * (manifest_offset - position))
        handle.write(body)

    write_atomic(path, write)
    return size


class Container:
    """An open blueprint file: its manifest and its sections as read-only arrays."""

    def __init__(self, path: Path, buffer: mmap.mmap, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self.size = len(buffer)
        self._buffer = buffer
        self.sections = _sections(path, manifest, self.size)

    @classmethod
    def open(cls, path: Path, *, verify: bool = True) -> Container:
        """Map ``path`` and check it (see the module docstring); a `BlueprintError` naming the
        file says what is wrong."""
        try:
            with open(path, "rb") as handle:
                size = _file_size(handle)
                if size < HEADER_SIZE:
                    raise _corrupt(path, f"{size} bytes, too short for a blueprint header")
                buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError as exc:
            raise BlueprintError(
                f"{path}: no such blueprint file; write one with `holdemd blueprint export`"
            ) from exc
        except IsADirectoryError as exc:
            raise BlueprintError(f"{path}: a directory, not a blueprint file") from exc
        except OSError as exc:
            raise BlueprintError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        manifest = _read_manifest(path, buffer)
        container = cls(path, buffer, manifest)
        if verify:
            container.verify()
        return container

    def has(self, name: str) -> bool:
        return name in self.sections

    def array(self, name: str) -> np.ndarray:
        """The section ``name`` as a read-only array (a view of the map, no copy)."""
        section = self.sections.get(name)
        if section is None:
            raise _corrupt(self.path, f"no section {name!r}")
        count = section.length // max(section.dtype.itemsize, 1)
        flat = np.frombuffer(self._buffer, dtype=section.dtype, count=count, offset=section.offset)
        return flat.reshape(section.shape)

    def raw(self, name: str) -> bytes:
        """The bytes of a ``<u1`` section (e.g. an embedded file), copied."""
        return self.array(name).tobytes()

    def verify(self, names: list[str] | None = None) -> None:
        """Check the sha256 of the sections ``names`` (default: all)."""
        for name in names if names is not None else list(self.sections):
            section = self.sections[name]
            view = memoryview(self._buffer)[section.offset : section.offset + section.length]
            try:
                actual = hashlib.sha256(view).hexdigest()
            finally:
                view.release()
            if actual != section.sha256:
                raise _corrupt(self.path, f"section {name!r} does not match its sha256")


def _file_size(handle: BinaryIO) -> int:
    handle.seek(0, 2)
    return handle.tell()


def _corrupt(path: Path, problem: str) -> BlueprintError:
    return BlueprintError(f"blueprint {path} is damaged: {problem}; {EXPORT_AGAIN}")


def _read_manifest(path: Path, buffer: mmap.mmap) -> dict[str, Any]:
    magic, version, header_size, size, offset, length, digest = _HEADER.unpack_from(buffer, 0)
    if magic != MAGIC:
        raise BlueprintError(
            f"{path}: not a holdemd blueprint file (it does not start with {MAGIC.decode()}); "
            "write one with `holdemd blueprint export`"
        )
    if version > FORMAT_VERSION:
        raise BlueprintError(
            f"blueprint {path}: written by a newer holdemd (format {version}; this one reads "
            f"up to {FORMAT_VERSION}); upgrade holdemd"
        )
    if version < 1 or header_size != HEADER_SIZE or any(buffer[_HEADER.size : HEADER_SIZE]):
        raise _corrupt(path, "the header is not valid")
    if size != len(buffer):
        what = "truncated" if len(buffer) < size else "longer than written"
        raise _corrupt(path, f"{what} ({len(buffer):,} bytes, the header says {size:,})")
    if not HEADER_SIZE <= offset <= size or offset + length != size:
        raise _corrupt(path, "the header's manifest offset is out of bounds")
    body = buffer[offset : offset + length]
    if hashlib.sha256(body).digest() != digest:
        raise _corrupt(path, "the manifest does not match its sha256")
    try:
        manifest = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _corrupt(path, "the manifest is not JSON") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sections"), dict):
        raise _corrupt(path, "the manifest has no section table")
    manifest["_manifest_offset"] = offset
    return manifest


def _sections(path: Path, manifest: dict[str, Any], size: int) -> dict[str, Section]:
    end = manifest.pop("_manifest_offset", size)
    out: dict[str, Section] = {}
    for name, entry in manifest["sections"].items():
        try:
            dtype = np.dtype(entry["dtype"])
            shape = tuple(int(n) for n in entry["shape"])
            offset, length, sha = int(entry["offset"]), int(entry["length"]), entry["sha256"]
        except (KeyError, TypeError, ValueError) as exc:
            raise _corrupt(path, f"section {name!r} has a malformed entry") from exc
        if dtype.kind not in _DTYPE_KINDS or dtype.byteorder == ">" or not isinstance(sha, str):
            raise _corrupt(path, f"section {name!r} has a malformed entry")
        if length != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise _corrupt(path, f"section {name!r}: its length does not match its shape")
        if offset % ALIGNMENT or offset < HEADER_SIZE or offset + length > end:
            raise _corrupt(path, f"section {name!r} lies outside the file's sections")
        out[name] = Section(name, offset, length, dtype, shape, sha)
    return out
