"""How a training run goes: startup -> main loop -> shutdown (``TrainingRun.run``).

Startup checks that a first worker gets ready (and starts the training clock then); the main
loop ticks ten times a second: budget, workers' health, the schedule, rates, and the periodic
chores (progress, status, metrics, quality, snapshots); shutdown stops the workers at their
batch boundaries, merges what they send, and writes the final snapshot, waiting for disk space
if it must. SIGINT/SIGTERM stop the run the same way; a second one forces.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import TYPE_CHECKING

from holdemd.durations import format_bytes, format_duration, parse_duration
from holdemd.errors import HoldemdError
from holdemd.rundir.later_sums import remove_stale_temps
from holdemd.rundir.status import status_line
from holdemd.rundir.store import remove_stale_temp_dirs
from holdemd.solver.lazy_tables import LazyTables
from holdemd.training.clock import Every
from holdemd.training.options import TrainingResult

if TYPE_CHECKING:
    from holdemd.training.run import TrainingRun

log = logging.getLogger("holdemd.supervisor")

TICK_SECONDS = 0.1


async def run_to_end(run: TrainingRun) -> TrainingResult:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if run.options.handle_signals else ()
    for sig in signals:
        loop.add_signal_handler(sig, _on_signal, run, sig)
    receiver = asyncio.create_task(run.link.receive())
    hosts = asyncio.create_task(run.hosts.receive()) if run.hosts is not None else None
    placing = asyncio.create_task(run.placement.keep_placed()) if run.placement else None
    try:
        await _startup(run)
        stopped_by = await _main_loop(run)
        return await _shutdown(run, stopped_by)
    except HoldemdError as exc:
        # Scripts read status.json: it must say the run failed, and why.
        if not run.problems:
            run.problems["failed"] = str(exc)
        run.state = "failed"
        run.status_file.write_now(run.status())
        raise
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        receiver.cancel()
        if hosts is not None:
            hosts.cancel()
        if placing is not None:  # before run.close() removes what it placed
            placing.cancel()
        await run.pool.kill_all(0.5)
        run.close()


def _on_signal(run: TrainingRun, signum: int) -> None:
    if run.stop_requested:
        log.warning(
            "second %s: stopping now, without a final snapshot", signal.Signals(signum).name
        )
        run.force = True
        return
    run.stop_requested = True
    log.info(
        "stop requested (%s): finishing the batches and writing a final snapshot; "
        "press Ctrl-C again to force",
        signal.Signals(signum).name,
    )


async def _startup(run: TrainingRun) -> None:
    remove_stale_temp_dirs(run.run_dir)
    remove_stale_temps(run.run_dir)
    tables = run.tables
    log.info(
        "training %s: %s infoset rows x %d actions (%s), %d worker process(es), "
        "batch %s iterations, ZeroMQ ROUTER at %s, tables in shared memory",
        run.game.name,
        f"{run.game.num_rows:,}",
        run.game.max_actions,
        f"lazy: {format_bytes(tables.allocated_bytes)} allocated so far"
        if isinstance(tables, LazyTables)
        else format_bytes(tables.nbytes),
        len(run.pool.slots),
        f"{run.config.training.batch_size:,}",
        run.link.endpoint,
    )
    if budget_spent(run) is not None:
        # A resumed run that had spent its budget: not one more batch.
        run.pool.stop_sent = True
    elif await run.pool.start(
        stopping=lambda: run.stop_requested,
        forced=lambda: run.force,
        log_path=run.run_dir / "logs" / "train.log",
    ):
        # The budget is for training, not for start-up (a first start compiles the
        # kernels for half a minute or more): its clock starts with the first worker.
        _start_clock(run)
        await run.pool.start_the_others()
    if not run.clock.started:  # stopped while starting: nothing trained, nothing to time
        _start_clock(run)
    run.state = "paused" if run.clock.paused else "running"


def _start_clock(run: TrainingRun) -> None:
    run.clock.start()
    run.rate_meter.reset()


async def _main_loop(run: TrainingRun) -> str:
    cfg = run.config.training
    now = time.monotonic()
    quality = parse_duration(cfg.quality_interval) if cfg.quality_interval else None
    progress = Every(cfg.progress_interval, now)
    status = Every(run.options.status_interval, now, first=0.0)
    metrics = Every(run.options.metrics_interval, now, first=0.0)
    periodic_quality = Every(quality, now)
    snapshot = Every(cfg.snapshot_interval_seconds, now)
    every = cfg.eval_interval  # iterations between exact evaluations
    next_exact = (run.iteration // every + 1) * every if every else None
    while True:
        await asyncio.sleep(TICK_SECONDS)
        run.last_tick = now = time.monotonic()
        run.link.poke()
        if run.hosts is not None:
            run.hosts.tick(now)
        if run.force:
            raise KeyboardInterrupt
        if run.stop_requested:
            return "interrupted"
        spent = budget_spent(run)
        if spent is not None:
            return spent
        await run.pool.watch()
        run.dispatch.merge_round_if_complete(now)
        run.dispatch.apply_schedule()
        if run.clock.paused:
            run.rate_meter.reset()  # a paused run trains nothing, and shows it at once
        run.rate = run.rate_meter.add(now, run.iteration)
        run.pool.update_rates(now, run.clock.paused)
        if next_exact is not None and run.iteration >= next_exact:
            await run.quality.exact(run.iteration, run.dense_strategy_sum)
            next_exact += every
        if progress.due(now):
            run.options.show_progress(status_line(run.status()))
        if status.due(now):
            await run.status_file.write(run.status())
        if metrics.due(now):
            run.log_metrics()
        if periodic_quality.due(now):
            run.quality.start_periodic(run.iteration, run.dense_strategy_sum)
        if snapshot.due(now) or run.snapshotter.retry_due(now):
            await run.snapshot_now()


def budget_spent(run: TrainingRun) -> str | None:
    """What ended the run, if its iteration target or time budget is reached."""
    cfg = run.config.training
    if cfg.iterations and run.iteration >= cfg.iterations:
        return "iterations"
    budget = cfg.time_budget_seconds
    if budget is not None and run.elapsed() >= budget:
        return "time budget"
    return None


async def _shutdown(run: TrainingRun, stopped_by: str) -> TrainingResult:
    run.state = "stopping"
    if not run.pool.stop_sent:
        run.pool.send_stop(stopped_by)
    # A deterministic round still held: merged now, so that its workers get their acks and stop.
    run.dispatch.merge_round_if_complete(time.monotonic())
    await run.pool.stop(stopped_by, forced=lambda: run.force)
    if run.hosts is not None:
        # Their updates say the run is stopping: each stops its workers and sends its last work.
        await run.hosts.stop(run.options.stop_timeout, forced=lambda: run.force)
    elapsed = run.elapsed()
    log.info(
        "stopping (%s) after %s iterations in %s",
        stopped_by,
        f"{run.iteration:,}",
        format_duration(elapsed),
    )
    await run.quality.finish_periodic()
    # The tick that ended the loop (a spent time budget) checked no schedule, and the workers'
    # last batches moved the clock on: what is due by now goes into the final snapshot.
    run.dispatch.apply_schedule()
    run.schedule.before_the_end(run.iteration)
    exploitability, value = await run.quality.exact(run.iteration, run.dense_strategy_sum)
    snapshot = await run.snapshotter.final(
        run.iteration,
        run.elapsed(),
        len(run.pool.slots),
        run.schedule.finish,
        forced=lambda: run.force,
        patience=run.final_snapshot_patience,
        waiting=lambda: run.status_file.write_now(run.status()),
    )
    if snapshot is not None:
        await run.litmus.final(snapshot.name)
    await run.status_file.write(run.status())  # a write that works again clears it
    run.state = "finished" if run.degraded_reason is None else "degraded"
    run.status_file.write_now(run.status())
    run.log_metrics()
    return TrainingResult(run.iteration, elapsed, stopped_by, snapshot, exploitability, value)
