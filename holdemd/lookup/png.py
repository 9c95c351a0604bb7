"""A minimal PNG writer: 8-bit RGB, no filtering, zlib-compressed (PNG spec, ISO 15948).

Enough for a chart of flat colored cells, which compresses to a few kilobytes, without making
an imaging library a dependency.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(pixels: np.ndarray) -> bytes:
    """The PNG file of ``pixels``: uint8[height, width, 3] RGB."""
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected uint8[height, width, 3], got {pixels.dtype}{pixels.shape}")
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    # Each scanline starts with its filter type; 0 (none) keeps the writer trivial.
    raw = np.zeros((height, 1 + 3 * width), dtype=np.uint8)
    raw[:, 1:] = pixels.reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolor
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
        + _chunk(b"IEND", b"")
    )


def write_png(path: Path, pixels: np.ndarray) -> None:
    path.write_bytes(encode_png(pixels))
