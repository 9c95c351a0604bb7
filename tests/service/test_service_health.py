"""``status``'s health verdict (what ``holdemctl health`` turns into a monitoring-plugin code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from holdemd.service.daemon import Service, ServiceOptions


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Service:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    return Service(ServiceOptions(state_dir=tmp_path / "state", runtime_dir=tmp_path / "run"))


def _ended(state: str, reason: str | None) -> dict[str, Any]:
    return {"run_id": "leduc-1", "state": state, "reason": reason, "workers": []}


def test_idle_after_a_clean_run_is_ok(service: Service) -> None:
    assert service._health(None) == {"status": "ok", "message": "idle: no active run"}
    service.last_run = _ended("finished", None)
    assert service._health(None) == {"status": "ok", "message": "idle: no active run"}


def test_idle_after_a_degraded_run_warns_with_its_reason(service: Service) -> None:
    service.last_run = _ended("degraded", "worker 1 failed 5 times: exit code -9")
    assert service._health(None) == {
        "status": "warning",
        "message": "idle; last run leduc-1 ended degraded: worker 1 failed 5 times: exit code -9",
    }


def test_idle_after_a_failed_run_warns_with_its_reason(service: Service) -> None:
    service.last_run = _ended("failed", "no worker can run: bad config")
    health = service._health(None)
    assert health["status"] == "warning"
    assert health["message"] == "idle; last run leduc-1 failed: no worker can run: bad config"


def test_an_active_run_decides_over_the_last_one(service: Service) -> None:
    service.last_run = _ended("degraded", "worker 0 hung")
    running = {**_ended("running", None), "workers": [{"state": "running"}]}
    assert service._health(running) == {"status": "ok", "message": "running"}
    failed = _ended("failed", "tables corrupt")
    assert service._health(failed) == {
        "status": "critical",
        "message": "run failed: tables corrupt",
    }


def test_a_recorded_run_that_could_not_be_resumed_is_critical(service: Service) -> None:
    service.recovery_error = "cannot resume the active run /r: no snapshot in /r/snapshots verifies"
    assert service._health(None) == {
        "status": "critical",
        "message": "idle; cannot resume the active run /r: no snapshot in /r/snapshots verifies",
    }


def test_a_run_degraded_by_failing_snapshots_warns_and_a_stop_waiting_on_one_is_critical(
    service: Service,
) -> None:
    reason = "snapshots failing (last good snapshot it-000000200000): No space left on device"
    degraded = {**_ended("degraded", reason), "workers": [{"state": "running"}]}
    assert service._health(degraded) == {"status": "warning", "message": f"degraded: {reason}"}
    stopping = {**_ended("stopping", reason), "workers": [{"state": "stopped"}]}
    assert service._health(stopping) == {"status": "critical", "message": f"stopping: {reason}"}
    assert service._health({**stopping, "reason": None})["status"] == "ok"


def test_table_memory_running_out_soon_warns_with_the_time_left(service: Service) -> None:
    warning = "table memory grows 1.2 GiB/h; available memory runs out in about 3 h 10 min"
    running = {**_ended("running", None), "workers": [{"state": "running"}]}
    assert service._health({**running, "table_memory": {"warning": None}})["status"] == "ok"
    assert service._health({**running, "table_memory": {"warning": warning}}) == {
        "status": "warning",
        "message": f"running: {warning}",
    }
    degraded = {**running, "state": "degraded", "reason": "worker 0 hung"}
    assert service._health({**degraded, "table_memory": {"warning": warning}}) == {
        "status": "warning",
        "message": f"degraded: worker 0 hung; {warning}",
    }
