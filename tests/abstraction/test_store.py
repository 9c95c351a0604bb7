"""Bundles on disk: round trip, lookup by preset name, and one-line errors for every way a
file can be missing, damaged or wrong."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from holdemd.abstraction import (
    AbstractionError,
    CardAbstraction,
    check_compatible,
    load_abstraction,
    table_dtype,
)
from holdemd.abstraction.equity import NUM_EQUITY_VALUES
from holdemd.abstraction.store import (
    cache_dir,
    manifest_path,
    read_river,
    river_cache_path,
    save_abstraction,
    table_sha256,
)
from holdemd.cards import num_indices

COUNTS = (169, 50, 50, 50)
METHOD = "test-method"


def make_tables(counts: tuple[int, int, int, int], seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    dtype = table_dtype(counts)
    return (
        np.arange(169, dtype=dtype),
        rng.integers(0, counts[1], num_indices(1), dtype=dtype),
        rng.integers(0, counts[2], num_indices(2), dtype=dtype),
        rng.integers(0, counts[3], num_indices(3), dtype=dtype),
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private XDG cache for this module (river tables land there)."""
    root = tmp_path_factory.mktemp("xdg")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(root))
        yield root


@pytest.fixture(scope="module")
def bundle(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple]:
    """A saved bundle with random tables; its river table is in the module's cache."""
    path = tmp_path_factory.mktemp("bundle") / "random.npz"
    tables = make_tables(COUNTS)
    lut = np.sort(np.random.default_rng(1).integers(0, 50, NUM_EQUITY_VALUES)).astype(np.uint8)
    save_abstraction(
        path,
        counts=COUNTS,
        method=METHOD,
        tables=tables,
        river_lut=lut,
        metadata={"preset": "quick", "seed": 3},
    )
    return path, tables


def copy_bundle(path: Path, to: Path) -> Path:
    target = to / path.name
    shutil.copy(path, target)
    shutil.copy(manifest_path(path), manifest_path(target))
    return target


def assert_one_line_error(excinfo: pytest.ExceptionInfo[AbstractionError], file: Path) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    assert str(file) in message or file.name in message
    assert "holdemd buckets build" in message
    assert excinfo.value.exit_code == 2
    return message


def test_round_trip(bundle: tuple[Path, tuple]):
    path, tables = bundle
    loaded = load_abstraction(path, progress=False)  # a Path works as well as a str
    assert isinstance(loaded, CardAbstraction)
    assert loaded.counts == COUNTS
    for got, want in zip(loaded.tables, tables, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)
    assert loaded.digest == loaded.manifest["digest"]
    assert loaded.manifest["seed"] == 3 and loaded.manifest["file"] == str(path)
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["tables"]["river"]["sha256"] == table_sha256(tables[3])
    assert len(loaded.digest) == 64
    # The digest is a function of content only: saving again elsewhere gives the same one.
    again = save_abstraction(
        path.with_name("again.npz"),
        counts=COUNTS,
        method=METHOD,
        tables=tables,
        river_lut=np.load(path)["river_lut"],
        metadata={},
    )
    assert again["digest"] == loaded.digest


def test_preset_name_finds_the_cache(bundle: tuple[Path, tuple], cache: Path):
    target = cache_dir() / "quick.npz"
    copy_bundle(bundle[0], target.parent)
    (target.parent / bundle[0].name).rename(target)
    manifest_path(target.parent / bundle[0].name).rename(manifest_path(target))
    try:
        loaded = load_abstraction("quick", progress=False)
        assert loaded.manifest["file"] == str(target)
    finally:
        target.unlink()
        manifest_path(target).unlink()


def test_missing_file(cache: Path, tmp_path: Path):
    with pytest.raises(AbstractionError) as excinfo:
        load_abstraction(str(tmp_path / "nothing.npz"))
    message = assert_one_line_error(excinfo, tmp_path / "nothing.npz")
    assert "not found" in message


def test_missing_preset_names_where_to_build_it(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("holdemd.abstraction.load.shipped_dir", lambda: tmp_path)  # none shipped
    with pytest.raises(AbstractionError) as excinfo:
        load_abstraction("mid")
    message = assert_one_line_error(excinfo, cache_dir() / "mid.npz")
    assert "--preset mid" in message


def test_unknown_spec():
    with pytest.raises(AbstractionError, match="neither a bucket preset"):
        load_abstraction("fast")


def test_corrupt_file(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(AbstractionError) as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, path)


def test_truncated_file(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(AbstractionError, match="unreadable") as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, path)


def test_edited_table_is_a_digest_mismatch(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["turn"][12345] ^= 1
    np.savez_compressed(path, **arrays)
    with pytest.raises(AbstractionError, match="digest mismatch") as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, path)


def test_edited_manifest_is_a_digest_mismatch(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    manifest = json.loads(manifest_path(path).read_text())
    manifest["method"] = "something else"
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(AbstractionError, match="digest mismatch") as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, path)


def test_missing_and_unreadable_manifest(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    manifest_path(path).write_text("{not json")
    with pytest.raises(AbstractionError, match="unreadable manifest") as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, manifest_path(path))
    manifest_path(path).unlink()
    with pytest.raises(AbstractionError, match="manifest not found") as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, manifest_path(path))


def test_counts_that_do_not_fit_the_tables(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    manifest = json.loads(manifest_path(path).read_text())
    manifest["counts"] = [169, 50, 40, 50]  # turn ids reach 49
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(AbstractionError) as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, path)
    manifest["counts"] = [169, 50, 300, 50]  # would need uint16 tables
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(AbstractionError, match="expected uint16") as excinfo:
        load_abstraction(str(path))


def test_check_compatible(bundle: tuple[Path, tuple]):
    loaded = load_abstraction(str(bundle[0]), progress=False)
    check_compatible(loaded, (169, 50, 50, 50), "configs/x.yaml")
    with pytest.raises(AbstractionError) as excinfo:
        check_compatible(loaded, (169, 200, 200, 200), "configs/hunl_mid.yaml: abstraction")
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("configs/hunl_mid.yaml: abstraction: expects 169/200/200/200")
    assert "169/50/50/50" in message and "holdemd buckets build --preset mid" in message


def test_damaged_river_cache_is_ignored(bundle: tuple[Path, tuple]):
    sha = table_sha256(bundle[1][3])
    assert read_river(sha) is not None
    assert read_river("0" * 64) is None
    river = river_cache_path(sha)
    kept = river.read_bytes()
    try:
        river.write_bytes(kept[:-10] + bytes(10))
        assert read_river(sha) is None
    finally:
        river.write_bytes(kept)


def test_table_dtype():
    assert table_dtype((169, 50, 50, 50)) == np.uint8
    assert table_dtype((169, 256, 256, 256)) == np.uint8
    assert table_dtype((169, 200, 1000, 200)) == np.uint16


def test_tables_from_another_hand_indexer_are_refused(bundle: tuple[Path, tuple], tmp_path: Path):
    path = copy_bundle(bundle[0], tmp_path)
    manifest = json.loads(manifest_path(path).read_text())
    manifest["cards_fingerprint"] = "0123456789abcdef"
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(AbstractionError, match="hand indexer") as excinfo:
        load_abstraction(str(path))
    assert_one_line_error(excinfo, path)
