"""Checksums of snapshot files: computed on the way out, verified on the way in."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

HASH_CHUNK = 1 << 20


class HashingWriter:
    """A file wrapper that hashes and counts what ``np.save`` writes through it.

    Hashing on the way out avoids reading multi-gigabyte tables back just to checksum them.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.bytes += memoryview(data).nbytes
        return self._raw.write(data)


def sha256_file(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
