"""Control-command latency of ``holdemd serve`` while training keeps every core busy.

Starts a real daemon (in a temporary state dir, socket under /tmp), measures ``ping`` and
``status`` round trips from a client connection while the daemon is idle (the reference, same
run), then starts HUNL quick with one worker per core and measures again. Prints p50/p99 for
both and the busy/idle ratio. Target (issue #5): p99 <= 10 ms while training.

Run: .venv/bin/python bench/bench_control_latency.py [--requests 2000] [--config configs/hunl_quick.yaml]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from holdemctl.connection import ControlClient, NotRunning

ROOT = Path(__file__).resolve().parents[1]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _measure(client: ControlClient, cmd: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.request(cmd)
        times.append(1000 * (time.perf_counter() - t0))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "hunl_quick.yaml")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="hdbench"))
    runtime = Path(tempfile.mkdtemp(prefix="hdb", dir="/tmp"))
    sock = runtime / "control.sock"
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holdemd.cli",
            "serve",
            "--state-dir",
            str(state),
            "--runtime-dir",
            str(runtime),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = ControlClient(sock, timeout=10)
                break
            except NotRunning:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        results = {}
        for cmd in ("ping", "status"):
            results[("idle", cmd)] = _percentiles(_measure(client, cmd, args.requests))
        client.request(
            "start",
            {
                "config": str(args.config.resolve()),
                "overrides": {"time_budget": "10m", "num_workers": 0},
            },
            timeout=3600,  # start answers once the game is loaded: minutes on a cold cache
        )
        while True:  # every worker computing, kernels compiled
            run = client.request("status")["run"]
            running = run and all(w["state"] == "running" for w in run["workers"])
            if running and run["iterations"] > 0:
                break
            time.sleep(0.5)
        time.sleep(2.0)
        workers = len(run["workers"])
        for cmd in ("ping", "status"):
            results[("training", cmd)] = _percentiles(_measure(client, cmd, args.requests))
        client.request("stop", {"wait": True})
        client.close()
        print(
            f"control latency, {args.requests} requests each, {workers} workers on "
            f"{os.cpu_count()} cores ({args.config.name})"
        )
        print(
            f"{'command':<8} {'idle p50':>9} {'idle p99':>9} {'busy p50':>9} {'busy p99':>9} "
            f"{'p99 ratio':>9}"
        )
        for cmd in ("ping", "status"):
            i50, i99 = results[("idle", cmd)]
            b50, b99 = results[("training", cmd)]
            print(
                f"{cmd:<8} {i50:>7.2f}ms {i99:>7.2f}ms {b50:>7.2f}ms {b99:>7.2f}ms "
                f"{b99 / i99:>8.1f}x"
            )
        worst = max(results[("training", c)][1] for c in ("ping", "status"))
        print(
            f"target p99 <= 10 ms while training: {'met' if worst <= 10 else 'NOT met'} "
            f"({worst:.2f} ms)"
        )
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=120)
        except subprocess.TimeoutExpired:
            daemon.kill()
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)


if __name__ == "__main__":
    main()
