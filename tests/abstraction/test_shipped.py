"""The shipped quick bundle: intact, small, and its buckets make poker sense.

These read the bundle directly (no river table needed, so no first-use build); the full load
of the preset is a slow test.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from holdemd.abstraction.equity import board_equities
from holdemd.abstraction.store import (
    abstraction_digest,
    cards_fingerprint,
    manifest_path,
    read_bundle,
    shipped_dir,
    table_sha256,
)
from holdemd.cards import index_hands, num_indices, parse_cards

QUICK = shipped_dir() / "quick.npz"


@pytest.fixture(scope="module")
def quick() -> tuple[dict[str, np.ndarray], dict]:
    return read_bundle(QUICK, "holdemd buckets build --preset quick")


def test_shipped_assets_are_small():
    total = sum(p.stat().st_size for p in shipped_dir().iterdir() if p.is_file())
    assert total < 25 * 2**20


@pytest.mark.parametrize(("name", "k"), [("quick", 50), ("mid", 200)])
def test_shipped_bundle_is_intact(name: str, k: int):
    path = shipped_dir() / f"{name}.npz"
    arrays, manifest = read_bundle(path, f"holdemd buckets build --preset {name}")
    counts = (169, k, k, k)
    assert manifest["counts"] == list(counts) and manifest["preset"] == name
    shas = {table: table_sha256(arrays[table]) for table in ("preflop", "flop", "turn")}
    for table, sha in shas.items():
        assert manifest["tables"][table]["sha256"] == sha
    shas["river"] = manifest["tables"]["river"]["sha256"]
    assert abstraction_digest(counts, manifest["method"], shas) == manifest["digest"]
    assert manifest["river_lut_sha256"] == table_sha256(arrays["river_lut"])
    assert manifest["cards_fingerprint"] == cards_fingerprint()
    np.testing.assert_array_equal(arrays["preflop"], np.arange(169))
    for table, street in (("flop", 1), ("turn", 2)):
        assert arrays[table].dtype == np.uint8 and arrays[table].shape == (num_indices(street),)
        assert len(np.unique(arrays[table])) == k  # every bucket used, ids 0..k-1
    assert len(np.unique(arrays["river_lut"])) == k
    assert json.loads(manifest_path(path).read_text())["digest"] == manifest["digest"]


def test_suit_isomorphic_hands_share_a_bucket(quick):
    arrays, _ = quick
    rng = np.random.default_rng(5)
    for name, street, width in (("flop", 1, 5), ("turn", 2, 6)):
        hands = np.argsort(rng.random((200, 52)), axis=1)[:, :width]
        perm = rng.permutation(4)
        relabelled = 4 * (hands >> 2) + perm[hands & 3]
        table = arrays[name]
        np.testing.assert_array_equal(
            table[index_hands(street, hands)], table[index_hands(street, relabelled)]
        )


def test_bucket_ids_go_from_weak_to_strong(quick):
    _, manifest = quick
    for street in ("flop", "turn", "river"):
        means = manifest["stats"][street]["mean_equity"]
        assert all(m is not None for m in means)
        assert all(a < b for a, b in itertools.pairwise(means)), street
        assert means[0] < 0.25 and means[-1] > 0.85


def test_river_equity_increases_with_bucket(quick):
    arrays, _ = quick
    lut = arrays["river_lut"]
    assert (np.diff(lut.astype(int)) >= 0).all() and lut[0] == 0 and lut[-1] == 49
    rng = np.random.default_rng(2)
    equity_sum = np.zeros(50)
    hands = np.zeros(50)
    for _ in range(40):
        _, _, numer = board_equities(rng.permutation(52)[:5].astype(np.int64))
        np.add.at(equity_sum, lut[numer], numer / 1980)
        np.add.at(hands, lut[numer], 1)
    seen = hands > 0
    means = equity_sum[seen] / hands[seen]
    assert seen.sum() >= 45
    assert (np.diff(means) > 0).all()


def test_aces_land_in_stronger_flop_buckets_than_seven_deuce(quick):
    arrays, manifest = quick
    flop_equity = np.array(manifest["stats"]["flop"]["mean_equity"])
    rng = np.random.default_rng(8)

    def mean_bucket_equity(hole: str) -> float:
        cards = parse_cards(hole)
        rest = np.setdiff1d(np.arange(52), cards)
        boards = np.array([rng.choice(rest, 3, replace=False) for _ in range(300)])
        hands = np.column_stack([np.tile(cards, (300, 1)), boards])
        return float(flop_equity[arrays["flop"][index_hands(1, hands)]].mean())

    aces = mean_bucket_equity("AsAh")
    seven_deuce = mean_bucket_equity("7c2d")
    assert aces > 0.75 and seven_deuce < 0.4
    assert aces > seven_deuce + 0.3
