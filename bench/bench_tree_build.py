"""Building a no-limit betting tree: the numba builder against the record builder it replaced.

Run: ``.venv/bin/python bench/bench_tree_build.py [--rounds N] [--skip-old] [--skip-big]``

Each measurement is a fresh subprocess that imports holdemd, builds one tiny tree first (so the
numba kernels are compiled or loaded from their cache before the clock starts), then builds the
tree and prints one JSON line: CPU seconds (``time.process_time``) and wall seconds of the
build, the peak resident memory of the whole process (``VmHWM``) and its peak over the resident
memory just before the build (what the build itself needs), and the bytes of what it returns
(node arrays and histories).

Trees: ``configs/6max_mid.yaml`` (2.1M nodes) by both builders, alternating, and a 6-max tree of
19.9M nodes (100 bb; pot-sized bets preflop and on the river, half-pot and pot on the flop and
turn; two raises per street), generated here, by the numba builder alone: the record builder
would need about 7 minutes and 30 GB for it. Printed: medians over rounds and the record/numba
ratios of CPU time and peak memory, measured in the same run. The machine may be shared:
compare ratios and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MID = ROOT / "configs" / "6max_mid.yaml"
BIG = "6max_20m"
BUCKETS = (169, 200, 200, 200)


def status_kb(field: str) -> int:
    """A ``Vm*`` field of /proc/self/status in kB (VmRSS now, VmHWM the peak so far)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def rules_of(tree: str) -> Any:
    from holdemd.config.loader import load_config
    from holdemd.games.factory import nolimit_rules
    from holdemd.games.nolimit import NoLimitRules

    if tree != BIG:
        return nolimit_rules(load_config(Path(tree)).game)
    pot, two = ((1.0,),), ((0.5, 1.0),)
    return NoLimitRules(6, 10_000, 50, 100, 0, (pot, two, two, pot), (2, 2, 2, 2))


def child(builder: str, tree: str) -> None:
    """Build ``tree`` with ``builder`` (new or old); print one JSON line."""
    import numpy as np

    from holdemd.games.betting import build_game_arrays, build_record_arrays
    from holdemd.games.compiled import DEAL_HOLDEM
    from holdemd.games.nolimit import NoLimitRules

    build = build_game_arrays if builder == "new" else build_record_arrays
    tiny = NoLimitRules(2, 500, 50, 100, 0, ((((1.0,),),) * 4), (1, 1, 1, 1))
    build(tiny, (1, 1, 1, 1), DEAL_HOLDEM, tuple(range(52)), 9)  # kernels compiled or loaded
    rules = rules_of(tree)
    rss_before = status_kb("VmRSS")
    cpu, wall = time.process_time(), time.perf_counter()
    arrays, histories, _ = build(rules, BUCKETS, DEAL_HOLDEM, tuple(range(52)), 17)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    from holdemd.games.packed import PackedStrings

    node_bytes = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    history_bytes = None  # the record builder's tuple of str: not measured
    if isinstance(histories, PackedStrings):
        history_bytes = histories.data.nbytes + histories.offsets.nbytes
    report = {
        "builder": builder,
        "tree": Path(tree).stem,
        "nodes": int(arrays.node_player.shape[0]),
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_mb": status_kb("VmHWM") / 1024,
        "build_peak_mb": (status_kb("VmHWM") - rss_before) / 1024,
        "node_arrays_mb": node_bytes / 2**20,
        "histories_mb": history_bytes / 2**20 if history_bytes is not None else None,
    }
    print(json.dumps(report), flush=True)


def measure(builder: str, tree: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", builder, tree]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def show(label: str, rows: list[dict[str, Any]]) -> None:
    histories = rows[0]["histories_mb"]
    print(
        f"{label:<22} {rows[0]['nodes']:>11,} {median(rows, 'cpu_s'):>8.2f} "
        f"{median(rows, 'wall_s'):>8.2f} {median(rows, 'peak_mb'):>9,.0f} "
        f"{median(rows, 'build_peak_mb'):>10,.0f} {rows[0]['node_arrays_mb']:>9,.0f} "
        f"{'' if histories is None else format(histories, ',.0f'):>9}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="rounds of each measurement")
    parser.add_argument("--skip-old", action="store_true", help="no record builder (~40 s)")
    parser.add_argument("--skip-big", action="store_true", help="no 19.9M-node tree")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows: dict[str, list[dict[str, Any]]] = {"new": [], "old": [], "big": []}
    for _ in range(args.rounds):
        rows["new"].append(measure("new", str(MID)))
        if not args.skip_old:
            rows["old"].append(measure("old", str(MID)))
        if not args.skip_big:
            rows["big"].append(measure("new", BIG))
    print(
        f"{'tree / builder':<22} {'nodes':>11} {'CPU s':>8} {'wall s':>8} {'peak MB':>9} "
        f"{'build MB':>10} {'arrays MB':>9} {'hist. MB':>9}"
    )
    show("6max_mid / numba", rows["new"])
    if rows["old"]:
        show("6max_mid / records", rows["old"])
    if rows["big"]:
        show(f"{BIG} / numba", rows["big"])
    print(f"(medians of {args.rounds} round(s), each a fresh process; build MB = peak over RSS")
    print(" before the build; kernels compiled or loaded before the clock starts)")
    if rows["old"]:
        cpu = median(rows["old"], "cpu_s") / median(rows["new"], "cpu_s")
        peak = median(rows["old"], "build_peak_mb") / median(rows["new"], "build_peak_mb")
        print(f"6max_mid, records / numba: CPU x{cpu:.1f}, build memory x{peak:.1f}")
    if rows["big"]:
        big = rows["big"]
        print(
            f"{BIG}: {median(big, 'cpu_s'):.1f} s CPU (target <= 60), peak "
            f"{median(big, 'peak_mb') / 1024:.2f} GiB (target <= 2), of which the node arrays "
            f"{big[0]['node_arrays_mb'] / 1024:.2f} GiB"
        )


if __name__ == "__main__":
    main()
