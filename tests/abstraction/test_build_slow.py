"""Full builds and first-use loads (slow: about a minute each on 2 cores; run with -m slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from holdemd.abstraction import build_abstraction, load_abstraction
from holdemd.abstraction.store import manifest_path, river_cache_path, shipped_dir
from holdemd.cards import index_hands
from tests.abstraction.reference import river_numerator

pytestmark = pytest.mark.slow


def test_quick_build_is_reproducible_and_matches_the_shipped_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # One thread here, all cores for the shipped bundle: the result must not depend on it.
    built = build_abstraction("quick", out=tmp_path / "q.npz", threads=1, progress=False)
    shipped = json.loads(manifest_path(shipped_dir() / "quick.npz").read_text())
    assert built.digest == shipped["digest"]
    assert built.manifest["build_seconds"] < 240  # the budget is 120 s on 2 cores
    assert built.manifest["peak_rss_bytes"] < 4 * 2**30


def test_first_use_of_the_shipped_quick_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    abstraction = load_abstraction("quick", progress=False)
    assert abstraction.manifest["file"] == str(shipped_dir() / "quick.npz")
    river_sha = abstraction.manifest["tables"]["river"]["sha256"]
    assert river_cache_path(river_sha).is_file()
    again = load_abstraction("quick", progress=False)  # from the cache this time
    assert again.digest == abstraction.digest
    np.testing.assert_array_equal(again.tables[3], abstraction.tables[3])

    with np.load(shipped_dir() / "quick.npz") as npz:
        lut = npz["river_lut"]
    river = abstraction.tables[3]
    rng = np.random.default_rng(4)
    for _ in range(30):
        cards = rng.permutation(52)[:7]
        index = index_hands(3, cards[None, :])[0]
        assert river[index] == lut[river_numerator(cards[:2], cards[2:])]
    # Random deals reach every river bucket (equal-mass buckets: about 400 deals each).
    hands = np.argsort(rng.random((20000, 52)), axis=1)[:, :7]
    buckets = river[index_hands(3, hands)]
    assert len(np.unique(buckets)) == 50
