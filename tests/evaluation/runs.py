"""Runs with snapshots for the eval tests, trained in process (no daemon), and the eval CLI's
one-line error check."""

from __future__ import annotations

from pathlib import Path

import pytest

from holdemd.cli import main
from holdemd.config.schema import Config
from holdemd.games.factory import build_game
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.rundir.snapshots import snapshot_name
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

ROOT = Path(__file__).resolve().parents[2]
needs_jit = pytest.mark.needs_jit(reason="playing many deals needs the kernels")


def make_run(run: Path, config: Config, checkpoints: tuple[int, ...]) -> Path:
    """A run with a snapshot after each number of MCCFR iterations, a minute of training apart."""
    game = build_game(config.game, config.abstraction.buckets)
    tables = Tables.zeros(game)
    solver = ExternalSamplingMCCFR(game, tables, seed=1)
    for sequence, iterations in enumerate(checkpoints):
        solver.run(iterations - solver.iteration)
        manifest = snapshot_manifest(
            config,
            game,
            iteration=iterations,
            elapsed=60.0 * (sequence + 1),
            rng_state=0,
            sequence=sequence,
        )
        arrays = {"regret": tables.regret, "strategy_sum": tables.strategy_sum}
        write_snapshot(run, snapshot_name(iterations), arrays, manifest)
    return run


def eval_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """``holdemd eval ARGV`` must fail with exit code 2 and one line; returns it."""
    assert main(["eval", *argv]) == 2
    err = capsys.readouterr().err
    # On a cold cache, loading Hold'em buckets first reports building the river table.
    lines = [line for line in err.splitlines() if not line.startswith("river buckets")]
    assert len(lines) == 1 and lines[0].startswith("holdemd: "), err
    return lines[0].strip()
