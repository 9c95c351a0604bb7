"""EMD k-medians: the distance, the pruned assignment, the median update, and the fit."""

from __future__ import annotations

import numpy as np
import pytest

from holdemd.abstraction.kmeans import (
    assign,
    emd,
    init_plus_plus,
    kmedians,
    median_centers,
    objective_of,
)


def transport_cost(p: np.ndarray, q: np.ndarray) -> int:
    """Earth mover's distance of two histograms of equal mass on the bins 0..B-1, by moving
    mass greedily left to right (optimal in one dimension) — no CDFs involved."""
    p = p.astype(np.int64).copy()
    q = q.astype(np.int64).copy()
    i = j = 0
    cost = 0
    while i < len(p) and j < len(q):
        moved = min(p[i], q[j])
        cost += moved * abs(i - j)
        p[i] -= moved
        q[j] -= moved
        if p[i] == 0:
            i += 1
        if q[j] == 0:
            j += 1
    return cost


def random_histograms(rng: np.random.Generator, n: int, bins: int, total: int) -> np.ndarray:
    """n histograms of ``total`` samples each, from a few random 'hand types' (clustered data)."""
    types = rng.dirichlet(np.full(bins, 0.3), size=8)
    return np.stack([rng.multinomial(total, types[rng.integers(8)]) for _ in range(n)])


def cdf_rows(histograms: np.ndarray) -> np.ndarray:
    return np.cumsum(histograms, axis=1)[:, :-1].astype(np.uint8)


def test_emd_is_the_transport_cost():
    rng = np.random.default_rng(0)
    hist = random_histograms(rng, 40, 12, 46)
    rows = cdf_rows(hist)
    for a in range(0, 40, 3):
        for b in range(1, 40, 7):
            assert emd(rows, a, rows, b) == transport_cost(hist[a], hist[b])


def brute_assign(points: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.abs(points[:, None, :].astype(np.int64) - centers[None, :, :]).sum(axis=2)
    return d.argmin(axis=1), d.min(axis=1)  # argmin: first (lowest) index among ties


@pytest.mark.parametrize("k", [1, 2, 7, 40])
def test_pruned_assignment_is_exact(k: int):
    rng = np.random.default_rng(k)
    points = cdf_rows(random_histograms(rng, 3000, 16, 46))
    centers = points[rng.choice(len(points), k, replace=False)].copy()
    centers[-1] = centers[0]  # a duplicate centre: ties must go to the lower index
    labels = np.empty(len(points), dtype=np.int32)
    distances = np.empty(len(points), dtype=np.int64)
    assign(points, centers, 0, len(points), 2, labels, distances)
    want_labels, want_distances = brute_assign(points, centers)
    np.testing.assert_array_equal(distances, want_distances)
    np.testing.assert_array_equal(labels, want_labels)


def test_assignment_of_a_range_into_a_bucket_table():
    rng = np.random.default_rng(5)
    points = cdf_rows(random_histograms(rng, 500, 10, 46))
    centers = points[:6].copy()
    table = np.full(len(points), 255, dtype=np.uint8)
    distances = np.empty(100, dtype=np.int64)
    assign(points, centers, 200, 300, 2, table, distances)
    want_labels, want_distances = brute_assign(points[200:300], centers)
    np.testing.assert_array_equal(table[200:300], want_labels)
    np.testing.assert_array_equal(distances, want_distances)
    assert (table[:200] == 255).all() and (table[300:] == 255).all()


def test_median_centers_are_lower_medians():
    rng = np.random.default_rng(2)
    points = cdf_rows(random_histograms(rng, 301, 9, 46))
    labels = rng.integers(0, 5, len(points)).astype(np.int32)
    labels[labels == 4] = 3  # cluster 4 stays empty
    centers, sizes = median_centers(points, labels, 5)
    assert sizes.tolist() == np.bincount(labels, minlength=5).tolist()
    for c in range(4):
        members = np.sort(points[labels == c], axis=0)
        np.testing.assert_array_equal(centers[c], members[(len(members) - 1) // 2])
    assert (centers[4] == 0).all()
    # Medians of CDF rows are CDF rows (non-decreasing).
    assert (np.diff(centers[:4].astype(int), axis=1) >= 0).all()


def test_kmedians_lowers_its_objective_and_is_deterministic():
    rng = np.random.default_rng(9)
    points = cdf_rows(random_histograms(rng, 4000, 20, 46))
    fit = kmedians(points, 12, seed=4, max_iterations=50, chunks=2)
    assert fit.iterations >= 2
    assert all(a >= b for a, b in zip(fit.objective, fit.objective[1:], strict=False))
    assert fit.objective[-1] < fit.objective[0]
    again = kmedians(points, 12, seed=4, max_iterations=50, chunks=1)
    np.testing.assert_array_equal(fit.centers, again.centers)
    assert fit.objective == again.objective
    other = kmedians(points, 12, seed=5, max_iterations=50, chunks=2)
    assert not np.array_equal(fit.centers, other.centers)
    # Weakest first: row sums (mass at low equity) decrease along the centres.
    sums = fit.centers.sum(axis=1, dtype=np.int64)
    assert (np.diff(sums) <= 0).all()
    # The fit beats its own seeding.
    seeds = init_plus_plus(points, 12, np.random.default_rng(4))
    assert objective_of(points, fit.centers, 2) <= objective_of(points, seeds, 2)


def test_kmedians_with_fewer_distinct_points_than_clusters():
    points = np.repeat(cdf_rows(random_histograms(np.random.default_rng(1), 3, 6, 46)), 10, 0)
    fit = kmedians(points, 5, seed=0, max_iterations=10, chunks=2)
    assert fit.objective[-1] == 0


def test_kmedians_rejects_bad_input():
    with pytest.raises(ValueError):
        kmedians(np.zeros((5, 3), dtype=np.int32), 2, seed=0, max_iterations=3, chunks=1)
    with pytest.raises(ValueError):
        kmedians(np.zeros((5, 3), dtype=np.uint8), 6, seed=0, max_iterations=3, chunks=1)
