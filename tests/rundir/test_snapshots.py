"""Tests of holdemd.rundir.snapshots, snapshot_write, snapshot_read and store: atomic writes, verified reads, listing, retention, cleanup."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdemd.errors import ExitCode, SnapshotError
from holdemd.rundir import snapshot_write, snapshots
from holdemd.rundir.checksums import sha256_file
from holdemd.rundir.snapshot_read import read_manifest, read_snapshot
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.rundir.snapshots import FORMAT_VERSION, SnapshotInfo, snapshot_name
from holdemd.rundir.store import (
    find_snapshot,
    latest_snapshot,
    list_snapshots,
    prune_snapshots,
    remove_stale_temp_dirs,
)


def pick(path: Path) -> str:
    """The hint of a read error: where the run's other snapshots are."""
    return f"use another snapshot in {path.parent}"


def sample_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "regret": rng.standard_normal((5, 3)).astype(np.float32),
        "strategy_sum": rng.random((4, 2, 3)),  # float64, 3-d
        "visits": np.arange(6, dtype=np.int32),
        "count": np.array(42, dtype=np.int64),  # 0-d
        "empty": np.zeros((0, 4), dtype=np.float32),
        "mask": np.array([True, False, True]),
        "fortran": np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
        "big_endian": np.arange(3, dtype=">f8"),
    }


def write(run_dir: Path, iteration: int, **manifest: Any) -> SnapshotInfo:
    arrays = {"regret": np.full((2, 2), float(iteration), dtype=np.float32)}
    return write_snapshot(
        run_dir, snapshot_name(iteration), arrays, {"iteration": iteration, **manifest}
    )


def dir_names(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "snapshots").iterdir())


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def snapshot_error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SnapshotError) as info:
        call(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# ----------------------------------------------------------------------------------------------
# Names


def test_snapshot_name_is_zero_padded_and_sorts_like_iterations() -> None:
    assert snapshot_name(1_000_000) == "it-000001000000"
    assert snapshot_name(0) == "it-000000000000"
    iterations = [5, 1_000, 20, 999_999_999]
    assert sorted(map(snapshot_name, iterations)) == [snapshot_name(i) for i in sorted(iterations)]
    with pytest.raises(ValueError, match="iteration must be >= 0"):
        snapshot_name(-1)


# ----------------------------------------------------------------------------------------------
# Write and read


def test_round_trip_keeps_values_dtypes_and_shapes(tmp_path: Path) -> None:
    arrays = sample_arrays()
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    info = write_snapshot(
        tmp_path, "first", arrays, {"iteration": np.int64(1000), "config": {"game": "leduc"}}
    )
    assert info.name == "first"
    assert info.path == tmp_path / "snapshots" / "first"
    assert info.iteration == 1000 and isinstance(info.iteration, int)
    assert info.bytes == sum((info.path / f"{key}.npy").stat().st_size for key in arrays)
    assert info.seconds > 0

    loaded, manifest = read_snapshot(info.path)
    assert loaded.keys() == arrays.keys()
    for key, array in arrays.items():
        assert loaded[key].dtype == array.dtype, key
        assert loaded[key].shape == array.shape, key
        np.testing.assert_array_equal(loaded[key], array)
    assert manifest["iteration"] == 1000
    assert manifest["config"] == {"game": "leduc"}
    assert manifest["format_version"] == FORMAT_VERSION
    assert before <= datetime.fromisoformat(manifest["written_at"]) <= datetime.now(timezone.utc)
    assert manifest["files"]["regret"]["file"] == "regret.npy"
    assert manifest["files"]["regret"]["dtype"] == "float32"
    assert manifest["files"]["regret"]["shape"] == [5, 3]
    assert manifest["files"]["count"]["shape"] == []
    assert len(manifest["files"]["regret"]["sha256"]) == 64
    assert read_manifest(info.path) == manifest
    assert dir_names(tmp_path) == ["first"]  # no temp dir left behind


def test_read_without_verify(tmp_path: Path) -> None:
    info = write(tmp_path, 3)
    loaded, _ = read_snapshot(info.path, verify=False)
    np.testing.assert_array_equal(loaded["regret"], np.full((2, 2), 3.0, dtype=np.float32))


def test_written_manifest_keys_replace_given_ones(tmp_path: Path) -> None:
    info = write_snapshot(
        tmp_path, "a", {"x": np.zeros(1)}, {"files": "mine", "format_version": 99}
    )
    manifest = read_manifest(info.path)
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["files"]) == {"x"}


def test_checksum_corruption_is_detected(tmp_path: Path) -> None:
    info = write(tmp_path, 1)
    file = info.path / "regret.npy"
    data = bytearray(file.read_bytes())
    data[-1] ^= 0xFF  # flip bits in the last element: the header still parses
    file.write_bytes(bytes(data))
    message = snapshot_error(read_snapshot, info.path)
    assert message == (
        f"snapshot {info.path} is corrupt: regret.npy does not match its sha256 in "
        f"manifest.json; {pick(info.path)}"
    )
    read_snapshot(info.path, verify=False)  # the cheap path trusts the bytes


def test_truncated_array_file_is_detected_without_verify(tmp_path: Path) -> None:
    info = write(tmp_path, 1)
    file = info.path / "regret.npy"
    file.write_bytes(file.read_bytes()[:-4])
    message = snapshot_error(read_snapshot, info.path, verify=False)
    assert message.startswith(f"snapshot {info.path} is corrupt: regret.npy cannot be loaded (")
    assert message.endswith(f"); {pick(info.path)}")


def test_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "snapshots" / "nope"
    assert snapshot_error(read_snapshot, path) == (
        f"snapshot {path}: no such snapshot directory; {pick(path)}"
    )


def test_missing_manifest(tmp_path: Path) -> None:
    info = write(tmp_path, 1)
    (info.path / "manifest.json").unlink()
    assert snapshot_error(read_snapshot, info.path) == (
        f"snapshot {info.path}: manifest.json is missing (an incomplete snapshot); {pick(info.path)}"
    )


def test_corrupt_manifest_json(tmp_path: Path) -> None:
    info = write(tmp_path, 1)
    (info.path / "manifest.json").write_text('{"files": {\n  "x": [}\n')
    assert snapshot_error(read_manifest, info.path) == (
        f"snapshot {info.path} is corrupt: manifest.json is not valid JSON (line 2, column 9); "
        f"{pick(info.path)}"
    )


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ([1, 2], "manifest.json is not a JSON object"),
        ({"files": {}}, "manifest.json has no valid 'format_version'"),
        ({"format_version": 1}, "manifest.json has no 'files' section"),
        (
            {"format_version": 1, "files": {"x": {"file": "../../etc/passwd"}}},
            "manifest.json has a malformed entry for array 'x'",
        ),
    ],
)
def test_malformed_manifest(tmp_path: Path, manifest: Any, problem: str) -> None:
    info = write(tmp_path, 1)
    (info.path / "manifest.json").write_text(json.dumps(manifest))
    assert snapshot_error(read_snapshot, info.path) == (
        f"snapshot {info.path} is corrupt: {problem}; {pick(info.path)}"
    )


def test_manifest_from_a_newer_version(tmp_path: Path) -> None:
    info = write(tmp_path, 1)
    manifest = read_manifest(info.path)
    manifest["format_version"] = FORMAT_VERSION + 1
    (info.path / "manifest.json").write_text(json.dumps(manifest))
    assert snapshot_error(read_snapshot, info.path) == (
        f"snapshot {info.path}: written by a newer holdemd (format_version {FORMAT_VERSION + 1}, "
        f"this one reads up to {FORMAT_VERSION}); upgrade holdemd or {pick(info.path)}"
    )


@pytest.mark.parametrize("verify", [True, False])
def test_missing_array_file(tmp_path: Path, verify: bool) -> None:
    info = write(tmp_path, 1)
    (info.path / "regret.npy").unlink()
    assert snapshot_error(read_snapshot, info.path, verify=verify) == (
        f"snapshot {info.path}: array file regret.npy is missing; {pick(info.path)}"
    )


def test_array_that_disagrees_with_the_manifest(tmp_path: Path) -> None:
    info = write(tmp_path, 1)
    # A well-formed .npy file of another shape, with a matching checksum: only the shape differs.
    np.save(info.path / "regret.npy", np.zeros(3, dtype=np.float32))
    manifest = read_manifest(info.path)
    manifest["files"]["regret"]["sha256"] = sha256_file(info.path / "regret.npy")
    manifest["manifest_sha256"] = snapshots.manifest_checksum(manifest)  # a thorough forger
    (info.path / "manifest.json").write_text(json.dumps(manifest))
    assert snapshot_error(read_snapshot, info.path) == (
        f"snapshot {info.path} is corrupt: regret.npy holds float32[3], the manifest says "
        f"float32[2, 2]; {pick(info.path)}"
    )


# ----------------------------------------------------------------------------------------------
# Refusals before any I/O


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    first = write(tmp_path, 1)
    path = tmp_path / "snapshots" / snapshot_name(1)
    message = snapshot_error(
        write_snapshot, tmp_path, snapshot_name(1), {"regret": np.zeros(1)}, {"iteration": 1}
    )
    assert message == (
        f"could not write snapshot {path}: it already exists; pick another name or pass "
        "overwrite=True"
    )
    np.testing.assert_array_equal(read_snapshot(first.path)[0]["regret"], np.full((2, 2), 1.0))

    info = write_snapshot(
        tmp_path, snapshot_name(1), {"other": np.ones(2)}, {"iteration": 1}, overwrite=True
    )
    loaded, _ = read_snapshot(info.path)
    assert list(loaded) == ["other"]
    assert dir_names(tmp_path) == [snapshot_name(1)]  # the old copy set aside is gone


def test_object_dtype_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "snapshots" / "s"
    arrays = {"ok": np.zeros(2), "bad": np.array([{"a": 1}, None], dtype=object)}
    message = snapshot_error(write_snapshot, tmp_path, "s", arrays, {})
    assert message == (
        f"could not write snapshot {path}: array 'bad' has dtype object, which cannot be saved "
        "without pickling"
    )
    assert not (tmp_path / "snapshots").exists()  # refused before touching the disk


def test_structured_dtype_with_object_field_is_rejected(tmp_path: Path) -> None:
    array = np.zeros(2, dtype=[("x", "f8"), ("y", object)])
    with pytest.raises(SnapshotError, match="cannot be saved without pickling"):
        write_snapshot(tmp_path, "s", {"rows": array}, {})


def test_manifest_must_be_json(tmp_path: Path) -> None:
    path = tmp_path / "snapshots" / "s"
    message = snapshot_error(write_snapshot, tmp_path, "s", {}, {"when": object()})
    assert message.startswith(
        f"could not write snapshot {path}: the manifest is not JSON-serialisable: object "
    )


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "..", "tab\tname"])
def test_bad_snapshot_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(SnapshotError, match="the name must be letters, digits"):
        write_snapshot(tmp_path, name, {}, {})


def test_bad_array_name(tmp_path: Path) -> None:
    path = tmp_path / "snapshots" / "s"
    message = snapshot_error(write_snapshot, tmp_path, "s", {"../x": np.zeros(1)}, {})
    assert message == f"could not write snapshot {path}: array name '../x' is not a plain file name"


# ----------------------------------------------------------------------------------------------
# Atomicity: a failure mid-write leaves the previous snapshots intact and no temp dir


def assert_only_previous_snapshot(tmp_path: Path, previous: SnapshotInfo) -> None:
    assert dir_names(tmp_path) == [previous.name]
    loaded, manifest = read_snapshot(previous.path)
    np.testing.assert_array_equal(loaded["regret"], np.full((2, 2), 1.0, dtype=np.float32))
    assert manifest["iteration"] == 1


def test_disk_full_during_np_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = write(tmp_path, 1)
    real_save = np.save
    calls = []

    def save_then_fill_disk(file: Any, array: Any, **kwargs: Any) -> None:
        calls.append(array)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_save(file, array, **kwargs)

    monkeypatch.setattr(np, "save", save_then_fill_disk)
    path = tmp_path / "snapshots" / snapshot_name(2)
    with pytest.raises(SnapshotError) as info:
        write_snapshot(tmp_path, snapshot_name(2), sample_arrays(), {"iteration": 2})
    assert str(info.value) == f"could not write snapshot {path}: No space left on device"
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.__cause__.errno == errno.ENOSPC
    assert info.value.exit_code == ExitCode.FAILURE
    assert_only_previous_snapshot(tmp_path, previous)


def test_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = write(tmp_path, 1)

    def no_rename(src: Any, dst: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "rename", no_rename)
    with pytest.raises(SnapshotError, match="No space left on device"):
        write(tmp_path, 2)
    monkeypatch.undo()
    assert_only_previous_snapshot(tmp_path, previous)


def test_overwrite_that_fails_restores_the_old_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = write(tmp_path, 1)
    real_rename = os.rename

    def fail_moving_the_new_one_in(src: Any, dst: Any) -> None:
        if Path(src).name.startswith(".tmp-"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", fail_moving_the_new_one_in)
    with pytest.raises(SnapshotError, match="Input/output error"):
        write_snapshot(
            tmp_path, previous.name, {"regret": np.zeros(1)}, {"iteration": 1}, overwrite=True
        )
    monkeypatch.undo()
    assert_only_previous_snapshot(tmp_path, previous)


def test_interrupt_mid_write_removes_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = write(tmp_path, 1)

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot_write, "_write_json", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write(tmp_path, 2)
    assert_only_previous_snapshot(tmp_path, previous)


def test_cannot_create_the_snapshots_dir(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.write_text("a file where the run directory should be")
    message = snapshot_error(write_snapshot, run_dir, "s", {}, {})
    assert message.startswith(f"could not write snapshot {run_dir}/snapshots/s: ")


# ----------------------------------------------------------------------------------------------
# Listing and finding


def test_list_orders_by_iteration_then_name_and_skips_debris(tmp_path: Path) -> None:
    write_snapshot(tmp_path, "b-late", {}, {"iteration": 30})
    write_snapshot(tmp_path, "z-early", {}, {"iteration": 10})
    write_snapshot(tmp_path, "a-tie", {}, {"iteration": 30})
    write_snapshot(tmp_path, "no-iteration", {}, {})
    snapshots_dir = tmp_path / "snapshots"
    (snapshots_dir / ".tmp-c-123-abcd").mkdir()  # a crashed write
    (snapshots_dir / "no-manifest").mkdir()  # not a snapshot
    (snapshots_dir / "stray-file.txt").write_text("x")
    broken = write_snapshot(tmp_path, "broken", {}, {"iteration": 99})
    (broken.path / "manifest.json").write_text("{")

    listed = list_snapshots(tmp_path)
    assert [(s.name, s.iteration) for s in listed] == [
        ("no-iteration", None),
        ("z-early", 10),
        ("a-tie", 30),
        ("b-late", 30),
    ]
    assert all(s.seconds == 0.0 for s in listed)
    latest = latest_snapshot(tmp_path)
    assert latest is not None and latest.name == "b-late"  # the corrupt newer one is skipped


def test_list_of_a_run_without_snapshots(tmp_path: Path) -> None:
    assert list_snapshots(tmp_path / "never-ran") == []
    assert latest_snapshot(tmp_path / "never-ran") is None


def test_find_latest_and_by_name(tmp_path: Path) -> None:
    write(tmp_path, 2)
    write(tmp_path, 10)
    latest = find_snapshot(tmp_path, None)
    assert latest.name == snapshot_name(10) and latest.iteration == 10
    assert latest.bytes == (latest.path / "regret.npy").stat().st_size
    assert find_snapshot(tmp_path, snapshot_name(2)).iteration == 2


def test_find_in_a_run_without_snapshots(tmp_path: Path) -> None:
    expected = f"no snapshots in {tmp_path}/snapshots; train first with `holdemd train`"
    assert snapshot_error(find_snapshot, tmp_path, None) == expected
    assert snapshot_error(find_snapshot, tmp_path, "it-1") == expected


def test_find_unknown_name_lists_the_available_ones(tmp_path: Path) -> None:
    write(tmp_path, 2)
    write(tmp_path, 10)
    assert snapshot_error(find_snapshot, tmp_path, "it-3") == (
        f"no snapshot 'it-3' in {tmp_path}/snapshots; available: it-000000000002, it-000000000010"
    )
    assert "no snapshot '../x'" in snapshot_error(find_snapshot, tmp_path, "../x")


def test_find_unknown_name_shows_only_the_newest_of_many(tmp_path: Path) -> None:
    for iteration in range(13):
        write_snapshot(tmp_path, f"s{iteration:02d}", {}, {"iteration": iteration})
    assert snapshot_error(find_snapshot, tmp_path, "x") == (
        f"no snapshot 'x' in {tmp_path}/snapshots; available: "
        "s03, s04, s05, s06, s07, s08, s09, s10, s11, s12 (and 3 older)"
    )


def test_find_a_named_but_broken_snapshot_says_why(tmp_path: Path) -> None:
    info = write(tmp_path, 2)
    (info.path / "manifest.json").unlink()
    assert snapshot_error(find_snapshot, tmp_path, info.name) == (
        f"snapshot {info.path}: manifest.json is missing (an incomplete snapshot); {pick(info.path)}"
    )


# ----------------------------------------------------------------------------------------------
# Retention


def test_prune_keeps_the_newest_and_every_nth(tmp_path: Path) -> None:
    for iteration in range(10):
        write(tmp_path, iteration * 100)
    removed = prune_snapshots(tmp_path, keep_last=3, keep_every=4)
    # Positions 0, 4, 8 (every 4th) and 7, 8, 9 (the newest three) stay.
    assert removed == [snapshot_name(i * 100) for i in (1, 2, 3, 5, 6)]
    assert [s.iteration for s in list_snapshots(tmp_path)] == [0, 400, 700, 800, 900]
    assert dir_names(tmp_path) == [snapshot_name(i * 100) for i in (0, 4, 7, 8, 9)]
    # Without a stored "sequence", positions shift after a prune (400 is now position 1), so a
    # second prune thins the "every 4th" keepers: writers should store "sequence" (next test).
    assert prune_snapshots(tmp_path, keep_last=3, keep_every=4) == [snapshot_name(400)]


def test_prune_uses_the_sequence_from_the_manifest(tmp_path: Path) -> None:
    # After an earlier prune, positions shift; the stored sequence keeps "every 4th" stable.
    for sequence in (3, 4, 5, 7, 8, 9):
        write(tmp_path, sequence * 10, sequence=sequence)
    removed = prune_snapshots(tmp_path, keep_last=1, keep_every=4)
    assert removed == [snapshot_name(30), snapshot_name(50), snapshot_name(70)]
    assert [s.sequence for s in list_snapshots(tmp_path)] == [4, 8, 9]


def test_prune_never_removes_the_newest(tmp_path: Path) -> None:
    for iteration in (1, 2, 3):
        write(tmp_path, iteration)
    assert prune_snapshots(tmp_path, keep_last=0, keep_every=0) == [
        snapshot_name(1),
        snapshot_name(2),
    ]
    assert [s.iteration for s in list_snapshots(tmp_path)] == [3]
    assert prune_snapshots(tmp_path, keep_last=0, keep_every=0) == []


def test_prune_of_an_empty_run(tmp_path: Path) -> None:
    assert prune_snapshots(tmp_path, keep_last=2, keep_every=10) == []


def test_prune_rejects_negative_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        prune_snapshots(tmp_path, keep_last=-1, keep_every=0)


# ----------------------------------------------------------------------------------------------
# Crash leftovers


def test_remove_stale_temp_dirs(tmp_path: Path) -> None:
    keep = write(tmp_path, 1)
    snapshots_dir = tmp_path / "snapshots"
    dead, alive = dead_pid(), os.getppid()
    stale = [
        f".tmp-it-000000000002-{dead}-ab12cd34",  # a writer that died
        f".tmp-it-000000000003-{os.getpid()}-ab12cd34",  # an earlier process with our pid
        ".tmp-unparsable",
    ]
    for name in stale:
        (snapshots_dir / name).mkdir()
        (snapshots_dir / name / "regret.npy").write_bytes(b"partial")
    live = snapshots_dir / f".tmp-it-000000000004-{alive}-ab12cd34"  # still being written
    live.mkdir()

    assert remove_stale_temp_dirs(tmp_path) == sorted(stale)
    assert dir_names(tmp_path) == [live.name, keep.name]
    assert remove_stale_temp_dirs(tmp_path / "never-ran") == []


def test_remove_stale_restores_a_snapshot_set_aside_by_a_crashed_overwrite(tmp_path: Path) -> None:
    first, second = write(tmp_path, 1), write(tmp_path, 2)
    snapshots_dir = tmp_path / "snapshots"
    dead = dead_pid()
    # Crash between "old aside" and "new in": the old one must come back under its name.
    aside = snapshots_dir / f".old-{first.name}-{dead}-0badf00d"
    os.rename(first.path, aside)
    # Crash after "new in": the aside copy is obsolete.
    obsolete = snapshots_dir / f".old-{second.name}-{dead}-0badf00d"
    obsolete.mkdir()

    assert remove_stale_temp_dirs(tmp_path) == [obsolete.name]
    assert dir_names(tmp_path) == [first.name, second.name]
    assert read_snapshot(first.path)[1]["iteration"] == 1


def test_a_format_1_snapshot_still_loads(tmp_path: Path) -> None:
    """Format 2 added lazily allocated tables; what format 1 wrote reads as before."""
    info = write(tmp_path, 1)
    manifest = read_manifest(info.path)
    manifest["format_version"] = 1
    del manifest[snapshots.MANIFEST_CHECKSUM]
    manifest[snapshots.MANIFEST_CHECKSUM] = snapshots.manifest_checksum(manifest)
    (info.path / "manifest.json").write_text(json.dumps(manifest))
    arrays, loaded = read_snapshot(info.path)
    assert loaded["format_version"] == 1 and arrays


def _npy_file(path: Path, values: np.ndarray) -> snapshots.LinkedFile:
    np.save(path, values)
    return snapshots.LinkedFile(path, str(values.dtype), values.shape, sha256_file(path))


def test_a_linked_file_is_hard_linked_in_and_reads_back_like_an_array(tmp_path: Path) -> None:
    values = np.arange(10, dtype=np.float32)
    linked = _npy_file(tmp_path / "sums.npy", values)
    info = write_snapshot(tmp_path, "a", {"x": np.zeros(2)}, {}, linked={"later_sums": linked})
    file = info.path / "later_sums.npy"
    assert file.samefile(tmp_path / "sums.npy")  # no second copy of gigabytes
    arrays, manifest = read_snapshot(info.path)
    np.testing.assert_array_equal(arrays["later_sums"], values)
    assert manifest["files"]["later_sums"]["sha256"] == sha256_file(file)
    assert info.bytes == file.stat().st_size + manifest["files"]["x"]["bytes"]


def test_a_linked_file_across_file_systems_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = np.arange(5, dtype=np.float64)
    linked = _npy_file(tmp_path / "sums.npy", values)

    def cross_device(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    info = write_snapshot(tmp_path, "a", {}, {}, linked={"later_sums": linked})
    assert not (info.path / "later_sums.npy").samefile(tmp_path / "sums.npy")
    np.testing.assert_array_equal(read_snapshot(info.path)[0]["later_sums"], values)
