"""The memory of a training run over time: every process of its tree, shared memory included.

Samples ``/proc/<pid>/smaps_rollup`` of a process and its descendants (the supervisor and its
workers) every few seconds until the process ends, and writes a CSV: PSS summed over the tree
(proportional set size: a page shared by k processes counts 1/k in each, so the sum counts
shared memory, the tables' tmpfs segments and the memory-mapped game once), split into anonymous,
file-backed (the game cache) and shared-memory pages; the largest worker's private memory (what
it holds beyond what it shares); and the system's MemAvailable and Shmem. Linux only.

Run:  holdemd train --config configs/6max_pluribus.yaml --time-budget 30m &
      .venv/bin/python bench/memory_watch.py $! memory.csv --every 10
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

FIELDS = (
    "t_s",
    "pss",
    "pss_anon",
    "pss_file",
    "pss_shmem",
    "worker_private_max",
    "processes",
    "mem_available",
    "shmem",
)


def descendants(pid: int) -> list[int]:
    try:
        kids = [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    found = []
    for kid in kids:
        found += [kid, *descendants(kid)]
    return found


def rollup(pid: int) -> dict[str, int]:
    """``smaps_rollup`` in bytes; empty if the process is gone."""
    values: dict[str, int] = {}
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and parts[0].endswith(":"):
            values[parts[0][:-1]] = int(parts[1]) * 1024
    return values


def meminfo() -> dict[str, int]:
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":")
        values[key] = int(value.split()[0]) * 1024
    return values


def sample(root: int, started: float) -> list[float]:
    rollups = [rollup(pid) for pid in [root, *descendants(root)]]
    private = [r.get("Private_Clean", 0) + r.get("Private_Dirty", 0) for r in rollups]
    system = meminfo()
    return [
        round(time.monotonic() - started, 1),
        sum(r.get("Pss", 0) for r in rollups),
        sum(r.get("Pss_Anon", 0) for r in rollups),
        sum(r.get("Pss_File", 0) for r in rollups),
        sum(r.get("Pss_Shmem", 0) for r in rollups),
        max(private[1:] or [0]),
        len(rollups),
        system["MemAvailable"],
        system["Shmem"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pid", type=int, help="the run's process (holdemd train or serve)")
    parser.add_argument("out", type=Path, help="CSV file to write")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    started = time.monotonic()
    peak = 0.0
    with open(args.out, "w") as out:
        out.write(",".join(FIELDS) + "\n")
        while os.path.exists(f"/proc/{args.pid}"):
            row = sample(args.pid, started)
            peak = max(peak, row[1])
            out.write(",".join(str(v) for v in row) + "\n")
            out.flush()
            time.sleep(args.every)
    print(f"peak PSS of the run's processes: {peak / 2**30:.2f} GiB ({args.out})")


if __name__ == "__main__":
    main()
