"""Heads-up no-limit Hold'em MCCFR throughput for one worker (one core), and table memory.

Prints, for configs/hunl_quick.yaml (or --config): iterations/s, nodes visited/s and nodes per
iteration of the single-process kernel, and the table bytes per (infoset, action) pair. The
reference measured in the same run is the same kernel on Leduc (nodes/s), so the ratio shows
what Hold'em's deals, bucket look-ups and showdowns cost per node. The old trainer this project
replaces cannot run here; its figure (12-13 iterations/s in one process on this machine kind,
REFERENCE.md) is quoted, not measured, and labelled as such.

Targets (issue #3): >= 20M nodes/s per worker, >= 100x the old trainer's iterations/s, tables at
most 8 bytes per (infoset, action).

Also measured: the same HUNL kernel on int32 regret tables, as a ratio to float32.

Run: .venv/bin/python bench/bench_hunl.py [--seconds 10] [--config configs/hunl_quick.yaml]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from holdemd.config.loader import load_config
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game, make_game
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables, row_num_actions

OLD_TRAINER_IT_PER_S = 12.5  # quoted: REFERENCE.md, "12-13 iterations/s in one process"
ROOT = Path(__file__).resolve().parents[1]


def measure(
    game: Game, seconds: float, seed: int, regret_dtype: str | None = None
) -> tuple[float, float, float]:
    """(iterations/s, nodes/s, nodes per iteration) over about ``seconds`` of training."""
    tables = Tables.zeros(game, "float32", regret_dtype)
    solver = ExternalSamplingMCCFR(game, tables, seed=seed)
    solver.run(10)  # compile or load the kernels outside the timing
    chunk = 1_000
    done = 0
    nodes_before = solver.nodes_visited
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        solver.run(chunk)
        done += chunk
    elapsed = time.perf_counter() - start
    nodes = solver.nodes_visited - nodes_before
    return done / elapsed, nodes / elapsed, nodes / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "hunl_quick.yaml")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    config = load_config(args.config)
    hunl = build_game(config.game, config.abstraction.buckets)
    print(
        f"{args.config.name}: {hunl.num_nodes:,} nodes, {hunl.num_rows:,} infoset rows "
        f"(loaded with buckets '{config.abstraction.buckets}' in {time.perf_counter() - t0:.1f} s)"
    )
    leduc = make_game("leduc")

    # Interleave so that machine noise hits all alike; report the better of two rounds each.
    rounds = [
        (
            measure(hunl, args.seconds, args.seed),
            measure(leduc, args.seconds / 4, args.seed),
            measure(hunl, args.seconds, args.seed, "int32"),
        )
        for _ in range(2)
    ]
    h_it, h_nodes, h_per = max((r[0] for r in rounds), key=lambda m: m[1])
    l_it, l_nodes, l_per = max((r[1] for r in rounds), key=lambda m: m[1])
    i_it, _, _ = max((r[2] for r in rounds), key=lambda m: m[1])

    tables = Tables.zeros(hunl, "float32")
    dense = (tables.regret.nbytes + tables.strategy_sum.nbytes) / tables.regret.size
    legal = int(row_num_actions(hunl).sum())
    per_legal = (tables.regret.nbytes + tables.strategy_sum.nbytes) / legal

    print()
    print("one worker (one core), external-sampling MCCFR, same run")
    print(f"{'':28}{'HUNL quick':>14}{'Leduc':>14}{'ratio':>10}")
    print(f"{'iterations/s':28}{h_it:>14,.0f}{l_it:>14,.0f}")
    print(f"{'nodes visited/s':28}{h_nodes:>14,.0f}{l_nodes:>14,.0f}{h_nodes / l_nodes:>9.2f}x")
    print(f"{'nodes per iteration':28}{h_per:>14,.1f}{l_per:>14,.1f}")
    print(
        f"HUNL quick with int32 regrets (solver.regret_dtype): {i_it:,.0f} it/s, "
        f"{i_it / h_it:.2f}x float32's"
    )
    print()
    speedup = h_it / OLD_TRAINER_IT_PER_S
    print(
        f"vs the old trainer (quoted {OLD_TRAINER_IT_PER_S} it/s, not measured here): "
        f"{speedup:,.0f}x its iterations/s"
    )
    print(
        f"table memory: {dense:.1f} bytes per (infoset, action) slot, "
        f"{per_legal:.1f} per legal (infoset, action) pair "
        f"({(tables.regret.nbytes + tables.strategy_sum.nbytes) / 2**20:.1f} MiB)"
    )
    print()
    print(
        f"target >= 20M nodes/s per worker: {'met' if h_nodes >= 20e6 else 'NOT met'} "
        f"({h_nodes / 1e6:.1f}M)"
    )
    print(f"target >= 100x the old trainer's it/s: {'met' if speedup >= 100 else 'NOT met'}")
    print(f"target <= 8 bytes per (infoset, action): {'met' if dense <= 8 else 'NOT met'}")


if __name__ == "__main__":
    main()
