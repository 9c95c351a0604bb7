"""``STATE/active-run.json``: the run a daemon is training, so the next daemon resumes it.

Written when a run starts; cleared when the run spends its budget or a user stops it. A
daemon that is killed, shut down or restarted leaves it, and the next one resumes the run from
its newest snapshot that verifies. A run that cannot be resumed stays recorded (the cause may
be fixed, and the daemon restarted); a new ``start`` replaces the record.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from holdemd.rundir.atomic import write_text_atomic

log = logging.getLogger("holdemd.service")

ACTIVE_RUN_FILE = "active-run.json"


class ActiveRunRecord:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / ACTIVE_RUN_FILE

    def write(
        self, run_dir: Path, config: Path | None, overrides: dict[str, Any], when: str
    ) -> None:
        record = {
            "run_dir": str(run_dir.resolve()),
            "config": str(config.resolve()) if config else None,
            "overrides": overrides,
            "started_at": when,
        }
        write_text_atomic(self.path, json.dumps(record, indent=2) + "\n")

    def read(self) -> dict[str, Any] | None:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("%s: unreadable (%s); no run to resume", self.path, exc)
            return None
        return record if isinstance(record, dict) and "run_dir" in record else None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
