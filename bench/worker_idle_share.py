"""The share of its time a worker waits, per merge mode (issue 14's cost of repeatable runs).

1 - (the batches' compute seconds, as the worker reports them) / (wall time between the slot's
merges, from the supervisor's merge log), skipping the first batches. Modes: one worker
pipelined (the pre-issue-14 worker, switched back on for the measurement) or in lockstep (the
default); two workers asynchronous (the default) or ``deterministic`` (rounds).

Run: .venv/bin/python bench/worker_idle_share.py
"""

import asyncio
import dataclasses
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from holdemd.config.binder import apply_overrides
from holdemd.config.loader import load_config
from holdemd.training import run as run_module
from holdemd.training.dispatch import Dispatcher
from holdemd.training.run import RunOptions, TrainingRun

log: list[tuple[int, float, float]] = []  # (slot, when merged, batch compute seconds)
orig = Dispatcher.merge_delta


def merge_delta(self: Any, slot: Any, delta: Any, now: float, **kw: Any) -> bool:
    log.append((slot.slot, time.monotonic(), delta.batch_seconds))
    return orig(self, slot, delta, now, **kw)


Dispatcher.merge_delta = merge_delta  # type: ignore[method-assign]
spec = run_module.worker_spec


def measure(name: str, workers: int, mode: str, seconds: float) -> None:
    cfg = load_config(Path("configs") / f"{name}.yaml")
    cfg = apply_overrides(
        cfg,
        {
            "training.iterations": 0,
            "training.time_budget": seconds,
            "training.eval_interval": 0,
            "training.tensorboard": False,
            "training.deterministic": mode == "deterministic",
        },
        source="x",
    )
    run_module.worker_spec = (
        spec
        if mode != "pipelined"
        else (lambda *a, **k: dataclasses.replace(spec(*a, **k), lockstep=False))
    )
    log.clear()
    with tempfile.TemporaryDirectory() as d:
        asyncio.run(TrainingRun(cfg, Path(d), RunOptions(num_workers=workers)).run())
    shares = []
    for s in range(workers):
        entries = [e for e in log if e[0] == s][2:]  # skip warm-up batches
        if len(entries) < 3:
            continue
        wall = entries[-1][1] - entries[0][1]
        busy = sum(e[2] for e in entries[1:])
        shares.append(1 - busy / wall)
    print(
        f"{name:11} workers {workers} {mode:13} batches {len(log):5}  idle share per worker "
        + " ".join(f"{100 * x:5.1f}%" for x in shares),
        flush=True,
    )


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    for name, secs in (("kuhn", 8), ("leduc", 8), ("hunl_quick", 40)):
        for workers, mode in (
            (1, "pipelined"),
            (1, "lockstep"),
            (2, "async"),
            (2, "deterministic"),
        ):
            measure(name, workers, mode, secs)


if __name__ == "__main__":
    main()
