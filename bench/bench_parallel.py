"""Parallel training throughput: 1 vs N workers, the supervisor's own CPU share, merge speed.

For each game (Leduc, HUNL quick) it runs the real supervisor with real worker processes,
waits until every worker is ready and a couple of seconds more, then measures over a window:
iterations/s, the supervisor process's CPU time (all its threads, ZeroMQ's I/O thread
included) as a share of one core, and merges/s and delta MB/s. The ratio N-workers/1-worker
is measured in the same run. Targets (issue #4): ratio >= 1.8 on 2 cores; supervisor <= 5% of
one core.

Run: .venv/bin/python bench/bench_parallel.py [--window 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from holdemd.config.binder import apply_overrides
from holdemd.config.loader import load_config
from holdemd.config.schema import Config
from holdemd.training.run import RunOptions, TrainingRun

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Measurement:
    iterations_per_s: float
    supervisor_cpu_share: float
    merges_per_s: float
    delta_mb_per_s: float


def _computed(supervisor: TrainingRun) -> int:
    """Iterations the workers report in heartbeats (about every second): merged counts move in
    whole batches, which would quantize a short window's rate with large batches."""
    return sum(slot.incarnation_iterations for slot in supervisor.slots)


async def _measure(supervisor: TrainingRun, warm: float, window: float) -> Measurement:
    while not all(slot.state == "running" for slot in supervisor.slots):
        await asyncio.sleep(0.1)
    await asyncio.sleep(warm)
    t0, cpu0 = time.monotonic(), time.process_time()
    it0, merges0, bytes0 = (
        _computed(supervisor),
        supervisor.merger.merges,
        supervisor.merger.delta_bytes,
    )
    await asyncio.sleep(window)
    dt, cpu = time.monotonic() - t0, time.process_time() - cpu0
    supervisor.request_stop("measured")
    return Measurement(
        iterations_per_s=(_computed(supervisor) - it0) / dt,
        supervisor_cpu_share=cpu / dt,
        merges_per_s=(supervisor.merger.merges - merges0) / dt,
        delta_mb_per_s=(supervisor.merger.delta_bytes - bytes0) / dt / 1e6,
    )


def run(config: Config, workers: int, warm: float, window: float) -> Measurement:
    config = apply_overrides(
        config,
        {
            "training.iterations": 0,
            "training.time_budget": "1h",
            "training.eval_interval": 0,
            "training.tensorboard": False,
        },
        source="bench",
    )

    async def go() -> Measurement:
        with tempfile.TemporaryDirectory() as run_dir:
            options = RunOptions(num_workers=workers)
            supervisor = TrainingRun(config, Path(run_dir), options)
            measuring = asyncio.create_task(_measure(supervisor, warm, window))
            await supervisor.run()
            return await measuring

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warm", type=float, default=2.0, help="seconds skipped after ready")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hunl-batch", type=int, help="override HUNL quick's batch size")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    games = [
        ("Leduc", ROOT / "configs" / "leduc.yaml"),
        ("HUNL quick", ROOT / "configs" / "hunl_quick.yaml"),
    ]
    rows = []
    for name, path in games:
        config = load_config(path)
        if args.hunl_batch and name.startswith("HUNL"):
            config = apply_overrides(
                config, {"training.batch_size": args.hunl_batch}, source="--hunl-batch"
            )
        one = run(config, 1, args.warm, args.window)
        many = run(config, args.workers, args.warm, args.window)
        rows.append((name, config.training.batch_size, one, many))
    n = args.workers
    print(f"\nparallel training, real supervisor and worker processes, {args.window:.0f} s windows")
    print(
        f"{'game':12}{'batch':>8}{'1 worker it/s':>15}{f'{n} workers it/s':>16}{'ratio':>8}"
        f"{'supervisor CPU':>16}{'merges/s':>10}{'delta MB/s':>12}"
    )
    for name, batch, one, many in rows:
        print(
            f"{name:12}{batch:>8,}{one.iterations_per_s:>15,.0f}{many.iterations_per_s:>16,.0f}"
            f"{many.iterations_per_s / one.iterations_per_s:>7.2f}x"
            f"{100 * many.supervisor_cpu_share:>14.1f} %{many.merges_per_s:>10.1f}"
            f"{many.delta_mb_per_s:>12.1f}"
        )
    print("\n(supervisor CPU: share of one core with", n, "workers, all threads)")
    for name, _, one, many in rows:
        ratio = many.iterations_per_s / one.iterations_per_s
        print(
            f"{name}: ratio >= 1.8: {'met' if ratio >= 1.8 else 'NOT met'} ({ratio:.2f}); "
            f"supervisor <= 5% of a core: "
            f"{'met' if many.supervisor_cpu_share <= 0.05 else 'NOT met'} "
            f"({100 * many.supervisor_cpu_share:.1f} %)"
        )


if __name__ == "__main__":
    main()
