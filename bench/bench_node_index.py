"""Finding each delta row's decision node in a 6-max game: the coarse table against numpy's
binary search over every node's first row, in the same run.

Builds (or maps from the game cache) ``--config``'s game, takes ``--rows`` rows as a worker's
delta holds them (random, distinct, sorted or not) and times ``NodeBlocks.node_index`` against
``np.searchsorted(row_base, rows, side="right") - 1``, alternating, median of ``--rounds``.
Prints both and the ratio.

Run: .venv/bin/python bench/bench_node_index.py [--config configs/6max_mid.yaml] [--rows 500000]
     [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from holdemd.config.loader import load_config
from holdemd.games.cache import load_or_build
from holdemd.solver.lazy_tables import NodeBlocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/6max_mid.yaml")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    config = load_config(Path(args.config))
    game, _ = load_or_build(config.game, config.abstraction.buckets)
    blocks = NodeBlocks.of(game)
    rng = np.random.default_rng(1)
    for order in ("random", "sorted"):
        rows = rng.choice(game.num_rows, size=args.rows, replace=False).astype(np.int64)
        if order == "sorted":
            rows.sort()
        assert np.array_equal(
            blocks.node_index(rows), np.searchsorted(blocks.row_base, rows, side="right") - 1
        )
        coarse, numpy_search = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            blocks.node_index(rows)
            coarse.append(time.perf_counter() - start)
            start = time.perf_counter()
            np.searchsorted(blocks.row_base, rows, side="right")
            numpy_search.append(time.perf_counter() - start)
        a, b = statistics.median(coarse), statistics.median(numpy_search)
        print(
            f"{game.name}, {args.rows:,} {order} rows of {game.num_rows:,}, "
            f"{blocks.row_base.size:,} nodes: coarse table {a * 1e3:.1f} ms, "
            f"np.searchsorted {b * 1e3:.1f} ms: {b / a:.1f}x faster"
        )


if __name__ == "__main__":
    main()
