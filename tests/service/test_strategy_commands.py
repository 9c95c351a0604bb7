"""The ``strategy`` and ``range`` commands through the command registry, on a small real run:
Leduc trained in-process, its live tables and a snapshot in a runs directory (no daemon, no
workers). The daemon's answers equal ``holdemd strategy show --json``'s for the same source."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdemd.blueprint.api import Blueprint
from holdemd.config.schema import Config, GameConfig, TrainingConfig
from holdemd.games.compiled import Game
from holdemd.games.factory import build_game
from holdemd.lookup.show import look_up, lookup_json
from holdemd.lookup.show_text import range_lines, show_lines
from holdemd.protocol.control import ControlRequest
from holdemd.protocol.errors import E_BAD_REQUEST, E_NOT_RUNNING
from holdemd.rundir.manifest import snapshot_manifest
from holdemd.rundir.snapshot_write import write_snapshot
from holdemd.service.commands import dispatch, mutating_commands
from holdemd.service.control_server import CommandError
from holdemd.service.strategy import StrategyLookups
from holdemd.solver.mccfr import ExternalSamplingMCCFR
from holdemd.solver.tables import Tables

SNAPSHOT = "it-000000002000"


@dataclass
class LiveLeduc:
    """The surface of a TrainingRun a look-up reads: tables that go on training."""

    run_id: str
    run_dir: Path
    config: Config
    game: Game
    tables: Tables
    iteration: int


class Daemon:
    def __init__(self, runs_root: Path, run: LiveLeduc | None) -> None:
        self.run = run
        self.lookups = StrategyLookups(runs_root, lambda: self.run)


@pytest.fixture
def leduc(tmp_path: Path) -> tuple[Daemon, LiveLeduc]:
    """A daemon whose active run trained Leduc 2,000 iterations, took a snapshot, then went
    on to 3,000 (so the live tables and the snapshot differ)."""
    config = Config(game=GameConfig(name="leduc"), training=TrainingConfig(iterations=3000))
    game = build_game(config.game)
    tables = Tables.zeros(game)
    solver = ExternalSamplingMCCFR(game, tables, seed=5)
    solver.run(2000)
    run_dir = tmp_path / "runs" / "leduc-20261124-100000"
    manifest = snapshot_manifest(config, game, iteration=2000, elapsed=1.0, rng_state=0, sequence=0)
    arrays = {"regret": tables.regret, "strategy_sum": tables.strategy_sum}
    write_snapshot(run_dir, SNAPSHOT, arrays, manifest)
    solver.run(1000)
    run = LiveLeduc("1764000000-42", run_dir, config, game, tables, 3000)
    return Daemon(tmp_path / "runs", run), run


def call(daemon: Daemon, cmd: str, **args: Any) -> Any:
    request = ControlRequest(1, cmd, args)
    return asyncio.run(dispatch(daemon, request, None))  # type: ignore[arg-type]


def error_of(daemon: Daemon, cmd: str, **args: Any) -> CommandError:
    with pytest.raises(CommandError) as info:
        call(daemon, cmd, **args)
    return info.value


def test_the_lookups_are_read_only(leduc: tuple[Daemon, LiveLeduc]) -> None:
    assert not {"strategy", "range"} & mutating_commands()


def test_live_tables_answer_what_the_blueprint_of_those_tables_plays(leduc) -> None:
    daemon, run = leduc
    live = Blueprint.from_tables(run.game, run.tables.strategy_sum, config=run.config)
    for hand, board, history in [("K", "", None), ("Q", "", "r"), ("K", "Q", "rc/r")]:
        got = call(daemon, "strategy", hand=hand, board=board, history=history)
        expected = lookup_json(live, look_up(live, hand, board, history))
        assert set(got) == set(expected)
        assert {
            k: v for k, v in got.items() if k not in ("snapshot", "iteration", "description")
        } == {
            k: v for k, v in expected.items() if k not in ("snapshot", "iteration", "description")
        }
        assert got["snapshot"] is None and got["iteration"] == 3000
        assert got["description"] == "leduc, live tables of run 1764000000-42 (3,000 iterations)"
    # The live table moves on: the next look-up sees it (row by row, no copy).
    run.tables.strategy_sum[:] = 0.0
    run.iteration = 3001
    got = call(daemon, "strategy", hand="K")
    assert got["trained"] is False and got["iteration"] == 3001
    assert {a["probability"] for a in got["actions"]} == {0.5}


def test_a_snapshot_answers_as_strategy_show_does(leduc) -> None:
    daemon, run = leduc
    from_run = Blueprint.open(run.run_dir, SNAPSHOT)
    for name in (SNAPSHOT, "latest", "first"):
        got = call(daemon, "strategy", hand="K", board="Q", history="rc/r", snapshot=name)
        assert got == lookup_json(from_run, look_up(from_run, "K", "Q", "rc/r"))
    assert show_lines(got)[0] == f"leduc, snapshot {SNAPSHOT} (2,000 iterations)"
    # A past run by its directory's name or path, when idle too.
    daemon.run = None
    by_name = call(daemon, "strategy", hand="J", run=run.run_dir.name, snapshot=SNAPSHOT)
    by_path = call(daemon, "strategy", hand="J", run=str(run.run_dir))
    newest = call(daemon, "strategy", hand="J", snapshot="latest")
    assert by_name == by_path == newest == lookup_json(from_run, look_up(from_run, "J"))


def test_range_gives_every_players_range(leduc) -> None:
    daemon, run = leduc
    got = call(daemon, "range", history="rc", board="Q")
    live = Blueprint.from_tables(run.game, run.tables.strategy_sum, config=run.config)
    ranges = live.range("rc", board="Q")
    assert got["street"] == "round 2" and got["seat"] == "P0"
    assert [(r["seat"], r["player"]) for r in got["ranges"]] == [("P0", 0), ("P1", 1)]
    for entry, weights in zip(got["ranges"], ranges.weights, strict=True):
        assert entry["combos"] == pytest.approx(float(np.sum(weights)))
        assert entry["range"]  # e.g. "J:0.123,Q,K:0.5"
    lines = range_lines(json.loads(json.dumps(got)))
    assert lines[0] == "leduc, live tables of run 1764000000-42 (3,000 iterations)"
    assert lines[2].startswith("P0 (") and "combos): " in lines[2]


def test_no_active_run_and_no_snapshot_is_not_running(leduc) -> None:
    daemon, _ = leduc
    daemon.run = None
    error = error_of(daemon, "strategy", hand="K")
    assert error.code == E_NOT_RUNNING
    assert str(error) == (
        "no active run to look up; name a snapshot (--snapshot NAME, and --run RUN for a past "
        "run's)"
    )
    assert error_of(daemon, "range").code == E_NOT_RUNNING


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"hand": "X"}, "--hand X: leduc cards are J, Q or K"),
        ({"hand": "K", "history": "rrrrr"}, "--history"),
        ({"hand": "K", "board": "Q"}, "--board Q: the public card comes after round 1"),
        ({"hand": "K", "snapshot": "nope"}, "no snapshot 'nope' in "),
        ({"hand": "K", "snapshot": "../../etc"}, "--snapshot '../../etc': not a snapshot name"),
        ({"hand": "K", "run": "../runs"}, "--run ../runs: no such run of this daemon"),
        ({"hand": "K", "run": "/etc"}, "--run /etc: no such run of this daemon"),
        ({"hand": ""}, "'hand' must be a non-empty string"),
        ({"hand": 7}, "'hand' must be a non-empty string"),
        ({"hand": "K", "board": ["Q"]}, "'board' must be a string"),
        ({"hand": "K", "history": "c" * 1001}, "'history' is over 1000 characters"),
        ({"board": "Q"}, "'hand' must be a non-empty string"),
    ],
)
def test_mistakes_are_one_line_bad_requests(leduc, args: dict[str, Any], message: str) -> None:
    daemon, _ = leduc
    error = error_of(daemon, "strategy", **args)
    assert error.code == E_BAD_REQUEST
    assert str(error).startswith(message), str(error)
    assert "\n" not in str(error)


def test_unknown_arguments_are_refused(leduc) -> None:
    daemon, _ = leduc
    error = error_of(daemon, "strategy", hand="K", card="Q")
    assert error.code == E_BAD_REQUEST and "card" in str(error)
    assert error_of(daemon, "range", hand="K").code == E_BAD_REQUEST  # range takes no hand
