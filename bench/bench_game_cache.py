"""A worker's game set-up: building the game (before issue 15) against mapping the game cache.

Run: ``.venv/bin/python bench/bench_game_cache.py [--config configs/hunl_mid.yaml] [--rounds N]``

Each measurement is a fresh subprocess that imports holdemd, then gets the game as a worker
does, and reports the CPU seconds and wall seconds of that step and its memory from
``/proc/self/smaps_rollup``: ``Anonymous`` (memory that is this process's alone and cannot be
dropped or shared: what the build leaves behind) as growth over the same process just before
the step, and the peak resident memory during the step (VmHWM over the RSS before it). Rounds alternate build, map, map (the two maps run at the same
time, as two workers on a host, so their mapped pages show up as shared). The first round's
build also writes the cache entry (timed apart: the supervisor's one-off cost), into a
temporary cache directory removed at the end. The supervisor's second run (``load_or_build``
finding the entry) is timed in this process.

Also, read by this process while the measured ones hold their game, each one's whole private
memory (``Private_Clean + Private_Dirty``: RSS minus shared pages; imports included).

Printed: medians over rounds, and the build/map ratios of CPU time and private memory,
measured in the same run. The machine may be shared: compare ratios, CPU seconds over wall.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("Rss", "Pss", "Anonymous", "Private_Clean", "Private_Dirty", "Shared_Clean")


def memory(pid: int | str = "self") -> dict[str, int]:
    """kB per field of /proc/PID/smaps_rollup."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        if name in FIELDS:
            values[name] = int(rest.split()[0])
    return values


def rss_kb(field: str) -> int:
    """A ``Vm*`` field of /proc/self/status in kB (VmRSS now, VmHWM the peak so far)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def child(mode: str, config_path: str, entry: str) -> None:
    """One worker's game set-up; prints one JSON line, then holds the game until stdin closes."""
    from holdemd.config.loader import load_config
    from holdemd.games.cache import open_game, publish

    config = load_config(Path(config_path))
    before, rss_before = memory(), rss_kb("VmRSS")
    cpu, wall = time.process_time(), time.monotonic()
    game = open_game(config.game, config.abstraction.buckets, entry if mode == "map" else "")
    report: dict[str, Any] = {
        "cpu": time.process_time() - cpu,
        "wall": time.monotonic() - wall,
        "nodes": game.num_nodes,
    }
    after = memory()
    report["peak_kb"] = rss_kb("VmHWM") - rss_before
    report["grew_kb"] = {name: after[name] - before.get(name, 0) for name in FIELDS}
    if mode == "build" and not entry:
        started = time.monotonic()
        report["entry"] = str(publish(game, config.game))
        report["publish_wall"] = time.monotonic() - started
    print(json.dumps(report), flush=True)
    sys.stdin.read()  # hold the game (and its mappings) until the parent is done measuring


def spawn(mode: str, config: str, entry: str, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--child", mode, "--config", config, "--entry", entry]
    return subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )


def result(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"measurement process failed (exit {process.wait()})")
    return dict(json.loads(line))


def private_kb(processes: list[subprocess.Popen[str]], rows: list[dict[str, Any]]) -> None:
    """Each process's whole private memory (Private_Clean + Private_Dirty: RSS minus what it
    shares), read while all of them hold their game: two workers mapping the cache share it."""
    for process, row in zip(processes, rows, strict=True):
        fields = memory(process.pid)
        row["private_kb"] = fields["Private_Clean"] + fields["Private_Dirty"]


def finish(*processes: subprocess.Popen[str]) -> None:
    for process in processes:
        assert process.stdin is not None
        process.stdin.close()
        process.wait()


def median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def median_kb(rows: list[dict[str, Any]], field: str) -> float:
    return statistics.median(row["grew_kb"][field] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/hunl_mid.yaml")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=("build", "map"))
    parser.add_argument("--entry", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.config, args.entry)
        return
    with tempfile.TemporaryDirectory(prefix="holdemd-game-cache-") as root:
        env = dict(os.environ, HOLDEMD_GAME_CACHE=root)
        builds: list[dict[str, Any]] = []
        maps: list[dict[str, Any]] = []
        entry = ""
        for _ in range(args.rounds):
            process = spawn("build", args.config, entry, env)
            builds.append(result(process))
            private_kb([process], builds[-1:])
            finish(process)
            entry = entry or builds[0]["entry"]
            pair = [spawn("map", args.config, entry, env) for _ in range(2)]
            maps.extend(result(p) for p in pair)
            private_kb(pair, maps[-2:])
            finish(*pair)
        os.environ["HOLDEMD_GAME_CACHE"] = root
        from holdemd.config.loader import load_config
        from holdemd.games.cache import load_or_build

        config = load_config(Path(args.config))
        started, wall = time.process_time(), time.monotonic()
        _, found = load_or_build(config.game, config.abstraction.buckets)
        supervisor = (time.process_time() - started, time.monotonic() - wall)
        assert str(found) == entry, "the supervisor did not find the entry"
        size = sum(f.stat().st_size for f in Path(root).rglob("*") if f.is_file())
    print(f"{args.config}: {builds[0]['nodes']:,} nodes; cache entry {size / 2**20:,.0f} MiB")
    print(
        f"  supervisor, first run: write the entry after the build {builds[0]['publish_wall']:.1f} s"
    )
    print(f"  supervisor, next runs: load_or_build from the cache  {supervisor[0]:.2f} s CPU")
    print(
        "  per worker (median)     CPU s   wall s   anonymous MiB   peak MiB   process private MiB"
    )
    for label, rows in (("build (before)", builds), ("map the cache", maps)):
        print(
            f"  {label:<22}{median(rows, 'cpu'):7.2f}{median(rows, 'wall'):9.2f}"
            f"{median_kb(rows, 'Anonymous') / 1024:14.0f}{median(rows, 'peak_kb') / 1024:11.0f}"
            f"{median(rows, 'private_kb') / 1024:22.0f}"
        )
    cpu_ratio = median(builds, "cpu") / max(median(maps, "cpu"), 1e-9)
    private_ratio = median(builds, "private_kb") / median(maps, "private_kb")
    print(f"  ratio build/map: CPU {cpu_ratio:.1f}x, process private memory {private_ratio:.1f}x")
    print(f"  rounds: {args.rounds} (build, then two maps at once); raw: {json.dumps(maps[:2])}")


if __name__ == "__main__":
    main()
