"""Many short strings in two arrays: what a cached game keeps its node histories in.

A six-player tree has millions of nodes, and a tuple of that many ``str`` objects is hundreds of
megabytes of private memory in every process that holds the game, built at start-up. Packed,
the histories are one UTF-8 byte array plus offsets, which a process can memory-map from the
game cache and share with every other process on the host; a history is decoded only when it
is read (exporters and look-ups read a few, workers none).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np


class PackedStrings(Sequence[str]):
    """A read-only sequence of strings stored as ``data[offsets[i]:offsets[i + 1]]`` (UTF-8)."""

    __slots__ = ("data", "offsets")

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        self.data = data  # uint8[total bytes]
        self.offsets = offsets  # int64[n + 1], offsets[0] == 0, non-decreasing

    @classmethod
    def pack(cls, strings: Sequence[str]) -> PackedStrings:
        encoded = [s.encode() for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        return cls(data, offsets)

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("history index out of range")
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        return bytes(self.data[start:end]).decode()

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        # Equal to any sequence of the same strings (a built game's tuple included), so a
        # cached game compares like the one it was built as.
        if isinstance(other, PackedStrings):
            return np.array_equal(self.offsets, other.offsets) and np.array_equal(
                self.data, other.data
            )
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable buffers: not hashable, like a list

    def __repr__(self) -> str:
        return f"PackedStrings({len(self)} strings, {int(self.data.shape[0])} bytes)"
