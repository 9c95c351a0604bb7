"""What the shipped configs' comments promise holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from holdemd.abstraction.presets import PRESETS
from holdemd.abstraction.store import shipped_dir
from holdemd.config.loader import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_no_config_asks_to_build_buckets_that_ship(path: Path) -> None:
    buckets = load_config(path).abstraction.buckets
    if buckets not in PRESETS or not (shipped_dir() / f"{buckets}.npz").is_file():
        pytest.skip(f"{buckets} does not ship")
    comments = [line for line in path.read_text().splitlines() if line.lstrip().startswith("#")]
    stale = [line for line in comments if "buckets build" in line or "uild the buckets" in line]
    assert stale == []
