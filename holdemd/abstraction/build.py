"""Building an abstraction: the passes in order, with progress, timings and peak memory.

1. Turn pass over the canonical turn boards: every turn hand's 50-bin final-equity CDF, and
   the raw-hand-weighted distribution of river equity (:mod:`holdemd.abstraction.histograms`).
2. Flop pass: every flop hand's CDF, summed from the turn rows.
3. Turn, then flop: EMD k-medians fitted on a sample of random deals, then every index
   assigned to its nearest centre (:mod:`holdemd.abstraction.kmeans`).
4. River: equal-mass cuts of the equity distribution from step 1, then the river pass writes
   every river hand's bucket (:mod:`holdemd.abstraction.river`); the same pass rebuilds the
   river table on first use of a bundle that ships without it.

Peak memory is the turn rows (13,960,050 x 49 bytes, 0.7 GB) plus the tables, about 1 GB for
either preset. Kernels run in chunks so that progress is drawn between calls.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from holdemd import __version__
from holdemd.abstraction.boards import canonical_boards
from holdemd.abstraction.equity import EQUITY_DENOMINATOR, NUM_EQUITY_VALUES
from holdemd.abstraction.histograms import flop_pass, mean_equities, row_total, turn_pass
from holdemd.abstraction.kmeans import assign, kmedians, row_sums
from holdemd.abstraction.model import STREETS, AbstractionError, CardAbstraction, table_dtype
from holdemd.abstraction.presets import Preset, get_preset
from holdemd.abstraction.progress import Progress
from holdemd.abstraction.river import equal_mass_lut, river_pass
from holdemd.abstraction.sampling import sample_indices
from holdemd.abstraction.store import cache_dir, display_path, save_abstraction
from holdemd.cards import num_indices

FLOP, TURN, RIVER = 1, 2, 3
_STEPS = 100  # kernel calls per pass: progress granularity
_ASSIGN_SPAN = 1 << 20  # points per assignment call


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


@contextmanager
def use_threads(threads: int | None) -> Iterator[int]:
    """Run numba's parallel kernels on ``threads`` threads (default: all); yields the count."""
    previous = numba.get_num_threads()
    if threads is not None:
        limit: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        if not 1 <= threads <= limit:
            raise AbstractionError(f"--threads must be 1..{limit} on this machine, got {threads}")
        numba.set_num_threads(threads)
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(previous)


def _spans(total: int, steps: int) -> Iterator[tuple[int, int]]:
    for step in range(steps):
        lo, hi = total * step // steps, total * (step + 1) // steps
        if hi > lo:
            yield lo, hi


def _seed(seed: int, street: int, purpose: int) -> int:
    """An independent 63-bit seed per (street, purpose) from the user's seed."""
    state = np.random.SeedSequence([seed, street, purpose]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def build_river_table(
    lut: npt.NDArray[Any], *, chunks: int, progress: bool, label: str = "river buckets"
) -> npt.NDArray[Any]:
    """The bucket of every canonical river hand, from the equity-to-bucket table ``lut``."""
    boards, _ = canonical_boards(5)
    table = np.empty(num_indices(RIVER), dtype=lut.dtype)
    sentinel = np.iinfo(lut.dtype).max
    checkable = int(lut.max()) < sentinel
    if checkable:
        table.fill(sentinel)
    river_pass(boards, 0, 0, chunks, lut, table)  # compile (or load) before the clock starts
    bar = Progress(label, len(boards), enabled=progress)
    for lo, hi in _spans(len(boards), _STEPS):
        river_pass(boards, lo, hi, chunks, lut, table)
        bar.update(hi)
    bar.close()
    if checkable and (table == sentinel).any():
        raise RuntimeError("river pass left hands without a bucket (a bug in holdemd)")
    return table


def _turn_and_river_counts(
    bins: int, chunks: int, progress: bool
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    boards, class_sizes = canonical_boards(4)
    rows = np.empty((num_indices(TURN), bins - 1), dtype=np.uint8)
    rows[:, 0] = 255  # impossible for a turn row (counts <= 46): marks rows not yet written
    river_counts = np.zeros((chunks, NUM_EQUITY_VALUES), dtype=np.int64)
    turn_pass(boards[:0], class_sizes[:0], bins, chunks, rows, river_counts)  # compile first
    bar = Progress("turn histograms", len(boards), enabled=progress)
    for lo, hi in _spans(len(boards), _STEPS):
        turn_pass(boards[lo:hi], class_sizes[lo:hi], bins, chunks, rows, river_counts)
        bar.update(hi)
    bar.close()
    if (rows[:, 0] == 255).any():
        raise RuntimeError("turn pass left hands without a histogram (a bug in holdemd)")
    return rows, river_counts.sum(axis=0)


def _flop_rows(
    turn_rows: npt.NDArray[np.uint8], chunks: int, progress: bool
) -> npt.NDArray[np.uint8]:
    total = num_indices(FLOP)
    rows = np.empty((total, turn_rows.shape[1]), dtype=np.uint8)
    flop_pass(turn_rows, 0, 0, chunks, rows)  # compile first
    bar = Progress("flop histograms", total, enabled=progress)
    for lo, hi in _spans(total, _STEPS):
        flop_pass(turn_rows, lo, hi, chunks, rows)
        bar.update(hi)
    bar.close()
    return rows


def _cluster(
    street: int,
    rows: npt.NDArray[np.uint8],
    k: int,
    sample: int,
    preset: Preset,
    seed: int,
    dtype: type[np.unsignedinteger[Any]],
    chunks: int,
    progress: bool,
) -> tuple[npt.NDArray[Any], dict[str, Any]]:
    """Bucket table of one street, and statistics for the manifest."""
    name = STREETS[street]
    sample_ids = sample_indices(street, sample, _seed(seed, street, 0))
    points = rows[sample_ids]
    bar = Progress(
        f"{name} k-medians (k={k}, {sample:,} deals)", preset.iterations, enabled=progress
    )
    fit = kmedians(
        points,
        k,
        seed=_seed(seed, street, 1),
        max_iterations=preset.iterations,
        tolerance=preset.tolerance,
        chunks=chunks,
        progress=lambda done, _total: bar.update(done),
    )
    bar.close()
    table = np.empty(rows.shape[0], dtype=dtype)
    distances = np.empty(_ASSIGN_SPAN, dtype=np.int64)
    total_distance = 0
    bar = Progress(f"{name} assignment ({rows.shape[0]:,} hands)", rows.shape[0], enabled=progress)
    for lo in range(0, rows.shape[0], _ASSIGN_SPAN):
        hi = min(lo + _ASSIGN_SPAN, rows.shape[0])
        assign(rows, fit.centers, lo, hi, chunks, table, distances)
        total_distance += int(distances[: hi - lo].sum())
        bar.update(hi)
    bar.close()
    # Number buckets from the weakest up by their members' mean equity over the sample (the
    # centres' order approximates it; members are what training sees). Mean equity falls as
    # the row sum grows, and exact integer sums keep the order the same on every machine.
    sample_labels = table[sample_ids]
    point_sums = row_sums(points)
    mass = np.bincount(sample_labels, minlength=k)
    member_sums = np.bincount(sample_labels, weights=point_sums, minlength=k)
    center_sums = row_sums(fit.centers).astype(np.float64)
    mean_sum = np.where(mass > 0, member_sums / np.maximum(mass, 1), center_sums)
    order = np.argsort(-mean_sum, kind="stable")
    rank = np.empty(k, dtype=dtype)
    rank[order] = np.arange(k)
    table = rank[table]
    sample_labels = rank[sample_labels]
    equity = mean_equities(points, row_total(street))
    mass = np.bincount(sample_labels, minlength=k)
    total = np.bincount(sample_labels, weights=equity, minlength=k)
    stats = {
        "iterations": fit.iterations,
        "sample_objective": list(fit.objective),
        "mean_emd_per_index": round(total_distance / rows.shape[0], 3),
        "empty_buckets": int((np.bincount(table, minlength=k) == 0).sum()),
        # Mean final equity of each bucket over the sample of deals (None: no sampled deal).
        "mean_equity": [
            round(float(t / m), 5) if m else None for t, m in zip(total, mass, strict=True)
        ],
    }
    return table, stats


def _river_stats(lut: npt.NDArray[Any], counts: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Mass share (relative to an equal split) and mean equity of each river bucket."""
    k = int(lut.max()) + 1
    mass = np.bincount(lut, weights=counts, minlength=k)
    equity = np.bincount(lut, weights=counts * np.arange(NUM_EQUITY_VALUES), minlength=k)
    return {
        "bucket_mass_min": round(float(mass.min() / mass.sum() * k), 4),
        "bucket_mass_max": round(float(mass.max() / mass.sum() * k), 4),
        "mean_equity": [
            round(float(e / m / EQUITY_DENOMINATOR), 5) if m else None
            for e, m in zip(equity, mass, strict=True)
        ],
    }


def build_abstraction(
    preset: str,
    *,
    out: Path | None = None,
    seed: int = 0,
    threads: int | None = None,
    progress: bool = True,
) -> CardAbstraction:
    """Build the ``preset`` abstraction, write its bundle and manifest to ``out`` (default:
    ``<cache dir>/<preset>.npz``) and its river table to the cache; return it."""
    spec = get_preset(preset)
    out = Path(out) if out is not None else cache_dir() / f"{spec.name}.npz"
    dtype = table_dtype(spec.counts)
    started = time.monotonic()
    phases: dict[str, float] = {}
    with use_threads(threads) as chunks:
        mark = time.monotonic()
        turn_rows, river_counts = _turn_and_river_counts(spec.bins, chunks, progress)
        phases["turn_histograms"] = time.monotonic() - mark
        mark = time.monotonic()
        flop_rows = _flop_rows(turn_rows, chunks, progress)
        phases["flop_histograms"] = time.monotonic() - mark
        mark = time.monotonic()
        turn, turn_stats = _cluster(
            TURN,
            turn_rows,
            spec.counts[TURN],
            spec.turn_sample,
            spec,
            seed,
            dtype,
            chunks,
            progress,
        )
        del turn_rows
        phases["turn_clustering"] = time.monotonic() - mark
        mark = time.monotonic()
        flop, flop_stats = _cluster(
            FLOP,
            flop_rows,
            spec.counts[FLOP],
            spec.flop_sample,
            spec,
            seed,
            dtype,
            chunks,
            progress,
        )
        del flop_rows
        phases["flop_clustering"] = time.monotonic() - mark
        mark = time.monotonic()
        lut = equal_mass_lut(river_counts, spec.counts[RIVER]).astype(dtype)
        river = build_river_table(lut, chunks=chunks, progress=progress)
        phases["river"] = time.monotonic() - mark
        preflop = np.arange(169, dtype=dtype)
        tables = (preflop, flop, turn, river)
        mark = time.monotonic()
        metadata = {
            "preset": spec.name,
            "seed": seed,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "package_version": __version__,
            "threads": chunks,
            "build_seconds": round(mark - started, 2),
            "phase_seconds": {name: round(s, 2) for name, s in phases.items()},
            "peak_rss_bytes": peak_rss_bytes(),
            "stats": {
                "flop": flop_stats,
                "turn": turn_stats,
                "river": _river_stats(lut, river_counts),
            },
        }
        manifest = save_abstraction(
            out,
            counts=spec.counts,
            method=spec.method,
            tables=tables,
            river_lut=lut,
            metadata=metadata,
        )
        manifest["phase_seconds"]["write"] = round(time.monotonic() - mark, 2)
        digest = str(manifest["digest"])
    if progress:
        print(
            f"buckets {spec.name}: wrote {display_path(out)} in "
            f"{manifest['build_seconds']:.0f} s (digest {digest[:16]})",
            file=sys.stderr,
        )
    manifest["file"] = str(out)
    return CardAbstraction(spec.counts, tables, digest, manifest)
