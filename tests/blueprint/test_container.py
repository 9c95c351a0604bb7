"""The blueprint file's container: round trip, and damaged files refused with one line."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from holdemd.blueprint.container import HEADER_SIZE, MAGIC, Container, write_container
from holdemd.errors import BlueprintError

ARRAYS: dict[str, np.ndarray] = {
    "small": np.arange(5, dtype=np.int8),
    "matrix": np.arange(12, dtype=np.float64).reshape(3, 4),
    "empty": np.zeros(0, dtype=np.int64),
    "wide": np.arange(1000, dtype=np.uint16),
}


@pytest.fixture
def written(tmp_path):
    path = tmp_path / "x.bp"
    size = write_container(path, {"format": "test", "note": "é"}, ARRAYS)
    assert path.stat().st_size == size
    return path


def test_round_trip_is_zero_copy_aligned_and_read_only(written):
    container = Container.open(written)
    assert container.manifest["note"] == "é"
    for name, array in ARRAYS.items():
        got = container.array(name)
        np.testing.assert_array_equal(got, array)
        assert got.dtype == array.dtype.newbyteorder("<") and not got.flags.writeable
        assert container.sections[name].offset % 64 == 0
    raw = written.read_bytes()
    assert raw[:8] == MAGIC
    _, version, header, size, offset, length, _ = struct.unpack_from("<8sIIQQQ32s", raw)
    assert (version, header, size) == (1, HEADER_SIZE, len(raw))
    manifest = json.loads(raw[offset : offset + length])
    entry = manifest["sections"]["matrix"]
    start = entry["offset"]
    np.testing.assert_array_equal(
        np.frombuffer(raw[start : start + entry["length"]], dtype="<f8").reshape(3, 4),
        ARRAYS["matrix"],
    )


def _refused(path, fragment, verify=True):
    with pytest.raises(BlueprintError) as error:
        Container.open(path, verify=verify)
    message = str(error.value)
    assert str(path) in message and "\n" not in message
    assert fragment in message, message


def test_truncated_and_extended_files(written):
    data = written.read_bytes()
    written.write_bytes(data[:-10])
    _refused(written, "truncated")
    written.write_bytes(data[:100])
    _refused(written, "too short for a blueprint header")
    written.write_bytes(data + b"\0")
    _refused(written, "longer than written")
    written.write_bytes(b"")
    _refused(written, "too short")


def test_altered_bytes_anywhere(written):
    data = bytearray(written.read_bytes())
    container = Container.open(written)
    offset = container.sections["wide"].offset + 7
    del container
    altered = data.copy()
    altered[offset] ^= 1
    written.write_bytes(bytes(altered))
    _refused(written, "section 'wide' does not match its sha256")
    Container.open(written, verify=False)  # structure only: opens, the bytes are not hashed
    altered = data.copy()
    altered[-3] ^= 1  # inside the manifest
    written.write_bytes(bytes(altered))
    _refused(written, "the manifest does not match its sha256", verify=False)
    altered = data.copy()
    altered[100] = 1  # the header's reserved zeros
    written.write_bytes(bytes(altered))
    _refused(written, "the header is not valid")


def test_not_a_blueprint_newer_format_and_missing(tmp_path, written):
    data = bytearray(written.read_bytes())
    other = tmp_path / "other.bp"
    other.write_bytes(b"PK" + bytes(200))
    _refused(other, "not a holdemd blueprint file")
    newer = data.copy()
    newer[8:12] = struct.pack("<I", 99)
    other.write_bytes(bytes(newer))
    _refused(other, "written by a newer holdemd (format 99")
    _refused(tmp_path / "missing.bp", "no such blueprint file")
    _refused(tmp_path, "a directory")
