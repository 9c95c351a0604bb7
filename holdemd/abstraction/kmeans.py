"""k-medians clustering of cumulative histograms under the earth mover's distance.

For distributions on the same equal-width bins, the earth mover's distance is the L1 distance
between their cumulative histograms (times the bin width, a constant we drop). Rows here are
those cumulative counts (uint8, see :mod:`holdemd.abstraction.histograms`), so:

* the distance is a plain sum of absolute differences (:func:`emd`), which vectorises;
* the centre minimising the summed L1 distance of a cluster is its coordinate-wise median,
  and the median of non-decreasing rows is non-decreasing, i.e. still a CDF. With median
  updates (k-medians), every Lloyd step can only lower the objective, and the centres stay
  uint8 rows of the same kind as the points;
* ``|sum(a) - sum(b)| <= emd(a, b)``: the row sum (the mean equity, up to sign and scale)
  bounds the distance from below. :func:`assign` visits the centres in order of row sum,
  outward from the point's own, and stops when the bound shows no closer centre is left.
  The answer is the exact nearest centre (ties to the lower index), at a fraction of the
  cost of trying all of them.

Initialisation is k-medians++ (each new centre drawn with probability proportional to the
distance to the nearest centre so far), on a random sample of the points; Lloyd iterations
run on that sample; one pass of :func:`assign` then labels every point. Randomness comes from
a seeded :class:`numpy.random.Generator`, so results are deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import prange

from holdemd.jit import inline_kernel, kernel, parallel_kernel

LEVELS = 256  # rows are uint8


@inline_kernel
def emd(points: np.ndarray, i: int, centers: np.ndarray, j: int) -> int:
    """L1 distance between ``points[i]`` and ``centers[j]``.

    Parameters
    ----------
    points : uint8[n, d]
    i : int
    centers : uint8[k, d]
    j : int
    """
    total = 0
    for b in range(points.shape[1]):
        total += abs(np.int32(points[i, b]) - np.int32(centers[j, b]))
    return total


@kernel
def row_sums(rows: np.ndarray) -> np.ndarray:
    """int64[n] sums of the uint8[n, d] rows."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    for i in range(rows.shape[0]):
        total = 0
        for b in range(rows.shape[1]):
            total += np.int64(rows[i, b])  # widen: uint8 sums would wrap in plain Python
        out[i] = total
    return out


@parallel_kernel
def assign(
    points: np.ndarray,
    centers: np.ndarray,
    lo: int,
    hi: int,
    chunks: int,
    labels: np.ndarray,
    distances: np.ndarray,
) -> None:
    """Nearest centre of each point in ``lo..hi-1`` under the L1 distance.

    Parameters
    ----------
    points : uint8[n, d]
    centers : uint8[k, d]
    lo, hi : int
        Range of points to label.
    chunks : int
        Work units (one per thread).
    labels : int[n], out
        Index of the nearest centre; among equally near centres, the lowest index. Any
        integer dtype that holds ``k - 1`` (a bucket table can be filled directly).
    distances : int64[>= hi - lo], out
        ``distances[i - lo]``: distance of point ``i`` to its centre.
    """
    k = centers.shape[0]
    center_sum = row_sums(centers)
    by_sum = np.argsort(center_sum, kind="mergesort")
    sorted_sum = center_sum[by_sum]
    n = hi - lo
    for unit in prange(chunks):
        for i in range(lo + n * unit // chunks, lo + n * (unit + 1) // chunks):
            s = 0
            for b in range(points.shape[1]):
                s += np.int64(points[i, b])  # widen (see row_sums)
            up = np.searchsorted(sorted_sum, s)
            down = up - 1
            best = np.iinfo(np.int64).max
            best_j = k
            while down >= 0 or up < k:
                # Take the side whose row-sum gap (a lower bound on the distance) is smaller.
                gap_down = s - sorted_sum[down] if down >= 0 else np.iinfo(np.int64).max
                gap_up = sorted_sum[up] - s if up < k else np.iinfo(np.int64).max
                if gap_down <= gap_up:
                    gap = gap_down
                    j = by_sum[down]
                    down -= 1
                else:
                    gap = gap_up
                    j = by_sum[up]
                    up += 1
                if gap > best:
                    break
                d = emd(points, i, centers, j)
                if d < best or (d == best and j < best_j):
                    best = d
                    best_j = j
            labels[i] = best_j
            distances[i - lo] = best


@kernel
def median_centers(points: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate-wise (lower) median of each cluster.

    Parameters
    ----------
    points : uint8[n, d]
    labels : int32[n]
        Cluster of each point, 0..k-1.
    k : int

    Returns
    -------
    centers : uint8[k, d]
        Medians; rows of empty clusters are zero.
    sizes : int64[k]
        Points per cluster.
    """
    d = points.shape[1]
    counts = np.zeros((k, d, LEVELS), dtype=np.int32)
    sizes = np.zeros(k, dtype=np.int64)
    for i in range(points.shape[0]):
        c = labels[i]
        sizes[c] += 1
        for b in range(d):
            counts[c, b, points[i, b]] += 1
    centers = np.zeros((k, d), dtype=np.uint8)
    for c in range(k):
        half = (sizes[c] + 1) // 2
        for b in range(d):
            seen = 0
            for v in range(LEVELS):
                seen += counts[c, b, v]
                if seen >= half:
                    centers[c, b] = v
                    break
    return centers, sizes


@kernel
def _min_distance_update(
    points: np.ndarray, centers: np.ndarray, j: int, nearest: np.ndarray
) -> None:
    """``nearest[i] = min(nearest[i], emd(points[i], centers[j]))`` for every point.

    Parameters
    ----------
    points : uint8[n, d]
    centers : uint8[k, d]
    j : int
        The centre just added.
    nearest : int64[n], in/out
        Each point's distance to its nearest centre so far.
    """
    for i in range(points.shape[0]):
        d = emd(points, i, centers, j)
        if d < nearest[i]:
            nearest[i] = d


def init_plus_plus(
    points: npt.NDArray[np.uint8], k: int, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """k-medians++ seeding: uint8[k, d] centres drawn from ``points``.

    The first centre is uniform; each next one is a point drawn with probability proportional
    to its distance to the nearest centre so far (distinct points only, while any remain).
    """
    n = points.shape[0]
    centers = np.empty((k, points.shape[1]), dtype=np.uint8)
    centers[0] = points[rng.integers(n)]
    nearest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for j in range(1, k):
        _min_distance_update(points, centers, j - 1, nearest)
        total = float(nearest.sum())
        if total == 0:  # fewer distinct points than clusters: repeat one (its cluster stays empty)
            centers[j] = points[rng.integers(n)]
            continue
        target = rng.random() * total
        pick = int(np.searchsorted(np.cumsum(nearest), target, side="right"))
        centers[j] = points[min(pick, n - 1)]
    return centers


@dataclass(frozen=True)
class KMeansResult:
    """Centres (ordered by decreasing row sum, i.e. increasing strength) and the sample fit."""

    centers: npt.NDArray[np.uint8]
    objective: tuple[int, ...]  # summed distance on the sample after each assignment
    iterations: int


Progress = Callable[[int, int], None]


def kmedians(
    points: npt.NDArray[np.uint8],
    k: int,
    *,
    seed: int,
    max_iterations: int,
    tolerance: float = 0.0,
    chunks: int,
    progress: Progress | None = None,
) -> KMeansResult:
    """Cluster ``points`` (uint8[n, d] cumulative histograms) into ``k`` EMD k-medians.

    Lloyd iterations stop when no label changes, when the objective improves by less than
    ``tolerance`` (a fraction), or after ``max_iterations``. Empty clusters
    are re-seeded with the point farthest from its centre, so all ``k`` centres are used when
    the data allows. Centres are returned sorted by decreasing row sum: weakest hands first.
    """
    if points.ndim != 2 or points.dtype != np.uint8:
        raise ValueError("points must be a uint8[n, d] array")
    n = points.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n} (the number of points), got {k}")
    rng = np.random.default_rng(seed)
    centers = init_plus_plus(points, k, rng)
    labels = np.full(n, -1, dtype=np.int32)
    new_labels = np.empty(n, dtype=np.int32)
    distances = np.empty(n, dtype=np.int64)
    objective: list[int] = []
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        assign(points, centers, 0, n, chunks, new_labels, distances)
        objective.append(int(distances.sum()))
        if progress is not None:
            progress(iterations, max_iterations)
        if np.array_equal(new_labels, labels):
            break
        if len(objective) > 1 and objective[-2] - objective[-1] <= tolerance * objective[-2]:
            break
        labels, new_labels = new_labels, labels
        centers, sizes = median_centers(points, labels, k)
        for empty in np.flatnonzero(sizes == 0):
            far = int(np.argmax(distances))
            centers[empty] = points[far]
            distances[far] = 0
    order = np.argsort(-row_sums(centers), kind="stable")
    return KMeansResult(np.ascontiguousarray(centers[order]), tuple(objective), iterations)


def objective_of(points: npt.NDArray[np.uint8], centers: npt.NDArray[np.uint8], chunks: int) -> int:
    """Summed distance of ``points`` to their nearest centre."""
    n = points.shape[0]
    labels = np.empty(n, dtype=np.int32)
    distances = np.empty(n, dtype=np.int64)
    assign(points, centers, 0, n, chunks, labels, distances)
    return int(distances.sum())
