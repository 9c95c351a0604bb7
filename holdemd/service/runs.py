"""The daemon's one active run: started (a ``start`` command, or a recorded run resumed when the
daemon starts), trained to its end, stopped with a final snapshot.

What a run leaves behind decides what the next daemon does: the active-run record
(``active_run``) stays while the run is not over (a daemon shutdown, a failure), so the next
daemon resumes it from its last good snapshot; a run that spent its budget, or a user's stop,
clears it. The daemon's lifecycle and its command surface are ``daemon.Service``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.config.overrides import dotted_overrides
from holdemd.errors import HoldemdError
from holdemd.protocol.errors import E_BUSY
from holdemd.rundir.status import status_to_dict, utc_now_iso
from holdemd.service.control_server import CommandError
from holdemd.training.plan import build_run, plan_game, plan_run
from holdemd.training.run import TrainingResult, TrainingRun

if TYPE_CHECKING:
    from holdemd.service.daemon import Service

log = logging.getLogger("holdemd.service")

FINAL_SNAPSHOT_EXTENSION = 120.0  # seconds asked of systemd while the final snapshot is written


async def recover(service: Service) -> None:
    """Resume the run a previous daemon left active (crash, kill, reboot)."""
    record = service.record.read()
    if record is None:
        return
    run_dir = Path(record["run_dir"])
    try:
        from holdemd.rundir.store import latest_snapshot

        snapshot = latest_snapshot(run_dir) if run_dir.is_dir() else None
        if snapshot is None:
            log.warning("active run %s has no snapshot yet: starting it again", run_dir)
            await start_run(
                service, Path(record["config"]), record.get("overrides", {}), None, run_dir
            )
            service.resumed_from = None
        else:
            log.info("resuming the active run %s", run_dir)
            sup = await start_run(service, None, {}, run_dir, None)
            # The snapshot used: the newest that verified, maybe not the newest on disk.
            service.resumed_from = str(sup.resumed_from) if sup.resumed_from else None
    except (HoldemdError, KeyError, TypeError) as exc:
        # The record stays: the run's snapshots are still there, and the next daemon
        # start (after the cause is fixed) tries again. A new `start` replaces it.
        service.recovery_error = f"cannot resume the active run {run_dir}: {exc}"
        log.error(
            "%s; it stays recorded in %s and is tried again when the daemon restarts",
            service.recovery_error,
            service.record.path,
        )


async def start_run(
    service: Service,
    config: Path | None,
    overrides: dict[str, Any],
    resume: Path | None,
    logdir: Path | None,
) -> TrainingRun:
    """Plan and build a run (off the event loop), record it as active and train it in a task;
    a new run of ``config``, or one resumed from ``resume``. E_BUSY while another starts or
    runs."""
    if service.starting or (service.run_task is not None and not service.run_task.done()):
        raise CommandError(E_BUSY, busy_message(service))
    service.starting = True
    try:
        dotted = dotted_overrides(overrides)
        plan = await asyncio.to_thread(
            plan_run, config, dotted, resume=resume, logdir=logdir, runs_root=service.runs_root
        )
        game = await asyncio.to_thread(plan_game, plan)
        plan = dataclasses.replace(
            plan,
            options=dataclasses.replace(
                plan.options,
                handle_signals=False,
                listen=service.options.listen,
                keys=service.options.keys,
                ray=service.options.ray,
            ),
        )
        run = build_run(plan, on_event=service.publish, game=game)
    finally:
        service.starting = False
    service.record.write(plan.run_dir, config, overrides, utc_now_iso())
    service.run_log.attach(plan.run_dir)
    log.info("run %s started in %s", run.run_id, plan.run_dir)
    service.recovery_error = None
    service.run = run
    service.resumed_from = None
    service.run_task = asyncio.create_task(train(service, run))
    return run


async def train(service: Service, supervisor: TrainingRun) -> TrainingResult | None:
    """Run ``supervisor`` to its end, log how it ended, keep its last status; clear the
    active-run record only when it spent its budget."""
    result: TrainingResult | None = None
    try:
        result = await supervisor.run()
        log.info(
            "run %s %s after %s iterations (%s)",
            supervisor.run_id,
            supervisor.state,
            f"{result.iterations:,}",
            result.stopped_by,
        )
    except HoldemdError as exc:
        log.error("run %s failed: %s", supervisor.run_id, exc)
    except KeyboardInterrupt:  # the supervisor's "forced" path
        log.warning("run %s stopped without a final snapshot", supervisor.run_id)
    except Exception:
        log.exception("run %s crashed", supervisor.run_id)
    finally:
        service.last_run = {
            **status_to_dict(supervisor.status()),
            "run_dir": str(supervisor.run_dir),
        }
        # Only a run that spent its budget is over. One that failed (say, its disk filled
        # past what retries could wait out) stays recorded, so the next daemon resumes it
        # from its last good snapshot; a user's stop has cleared the record already.
        spent = result is not None and result.stopped_by in ("iterations", "time budget")
        if spent and not service.keep_record_on_end:
            service.record.clear()
        service.run = None
        service.lookups.forget(supervisor)
        service.run_log.detach()
    return result


async def stop_run(service: Service, why: str, *, keep_record: bool) -> TrainingResult | None:
    """Stop the active run with a final snapshot; ``keep_record`` makes the next daemon
    resume it (a daemon shutdown is not the end of the run, a user's stop is)."""
    if service.run_task is None or service.run_task.done():
        return None
    service.keep_record_on_end = keep_record
    assert service.run is not None
    # systemd kills a stop that outlasts its timeout: a shutdown gives up retrying a
    # failing final snapshot before that (the next daemon resumes from the last good one).
    patience = FINAL_SNAPSHOT_EXTENSION / 2 if keep_record else None
    service.run.request_stop(why, final_snapshot_patience=patience)
    service.notifier.extend_timeout(FINAL_SNAPSHOT_EXTENSION)
    try:
        return await asyncio.shield(service.run_task)
    finally:
        service.keep_record_on_end = False


def busy_message(service: Service) -> str:
    """Why a ``start`` is refused now."""
    if service.starting:
        return "a run is starting (loading the game); wait for it, then try again"
    sup = service.run
    what = f"run {sup.run_id} is {sup.state}" if sup else "a run is active"
    return f"{what}; stop it first (holdemctl stop --wait)"
