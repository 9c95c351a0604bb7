"""The daemon's health verdict: what ``status`` reports and ``holdemctl health`` turns into a
monitoring-plugin exit code (ok 0, warning 1, critical 2)."""

from __future__ import annotations

from typing import Any

from holdemd.rundir.status import TROUBLED_SLOT_STATES


def health(
    run: dict[str, Any] | None,
    *,
    last_run: dict[str, Any] | None,
    recovery_error: str | None,
    starting: bool,
) -> dict[str, str]:
    """``{"status": "ok"|"warning"|"critical", "message": one line}``.

    ``run`` is the active run's status object (None when idle), ``last_run`` the previous
    run's final one, ``recovery_error`` why the recorded active run did not resume."""
    if run is None:
        if recovery_error is not None:
            # The recorded run did not come back: training stopped without anyone asking.
            return {"status": "critical", "message": f"idle; {recovery_error}"}
        # A run that ended badly stays a warning until the next run: a monitoring check that
        # polls after the end must still see that something went wrong.
        if last_run is not None and last_run.get("state") in ("failed", "degraded"):
            ended = "failed" if last_run["state"] == "failed" else "ended degraded"
            return {
                "status": "warning",
                "message": f"idle; last run {last_run.get('run_id')} {ended}: "
                f"{last_run.get('reason')}",
            }
        if starting:
            return {"status": "ok", "message": "a run is starting"}
        return {"status": "ok", "message": "idle: no active run"}
    state = run["state"]
    if state == "failed":
        return {"status": "critical", "message": f"run failed: {run.get('reason')}"}
    if state == "stopping" and run.get("reason"):
        # Waiting for its final snapshot to be written (a full disk): work is at stake.
        return {"status": "critical", "message": f"stopping: {run['reason']}"}
    troubled = [w for w in run["workers"] if w["state"] in TROUBLED_SLOT_STATES]
    # The tables would exhaust memory soon at their growth (training.table_memory): the run
    # is fine now, but will not be for long.
    memory = (run.get("table_memory") or {}).get("warning")
    if state == "degraded" or troubled:
        why = run.get("reason") or f"{len(troubled)} worker(s) restarting or failed"
        if memory:
            why += f"; {memory}"
        return {"status": "warning", "message": f"{state}: {why}"}
    if memory:
        return {"status": "warning", "message": f"{state}: {memory}"}
    return {"status": "ok", "message": state}
