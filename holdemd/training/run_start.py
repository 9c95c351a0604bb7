"""What a training run starts from: its game, the checks that refuse a run before anything is
allocated, and its tables in shared memory (``TrainingRun`` assembles its parts around them).

The checks come in the order a user meets them: the abstraction a resumed snapshot was trained
with, the memory the tables will take, the litmus scenarios file; only then are tables
allocated (a new run's zeros, or the snapshot's converted to the kind the config keeps) and
copied into shared memory, where the workers map them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from holdemd.config.schema import Config
from holdemd.evaluation.litmus import Scenario
from holdemd.games.cache import load_or_build, publish
from holdemd.games.compiled import Game
from holdemd.games.memory_check import check_fits
from holdemd.games.report import game_report
from holdemd.rundir.manifest import check_abstraction
from holdemd.solver.lazy_tables import LazyTables, compact_entries
from holdemd.solver.table_kind import game_uses_lazy_tables
from holdemd.solver.tables import Tables, regret_unit
from holdemd.training.litmus import run_scenarios
from holdemd.training.options import ResumePoint
from holdemd.training.shared_tables import SharedTables, remove_orphaned_segments

log = logging.getLogger("holdemd.supervisor")


@dataclass(frozen=True)
class RunStart:
    """A run's game and tables, checked and in place."""

    game: Game
    cache_entry: Path | None  # the game cache entry the workers map (None: they build the game)
    scenarios: list[Scenario]  # the litmus scenarios, read (and refused if bad) before tables
    shared: SharedTables  # the tables in shared memory; the run is their only writer
    regret_unit: float  # regret-table units per unit of utility, for the starting tables' dtype


def prepare_start(
    config: Config, config_source: str, resume: ResumePoint | None, game: Game | None
) -> RunStart:
    """The game (``game`` if given, else from the game cache), checked against ``resume`` and
    the machine's memory, and the starting tables in shared memory.

    Raises:
        HoldemdError: a resumed snapshot of another abstraction, tables that cannot fit, a bad
            litmus scenarios file (each before any table is allocated).
    """
    # A caller on an event loop builds the game in a thread (it can take seconds) and
    # passes it in; it must be the one the config describes. Its arrays go to the game
    # cache (once per host and config), which the workers map instead of building it.
    if game is None:
        game, cache_entry = load_or_build(config.game, config.abstraction.buckets)
    else:
        cache_entry = publish(game, config.game)
    if resume is not None:
        check_abstraction(resume.abstraction_digest, game, str(resume.source))
    lazy = game_uses_lazy_tables(config, game)
    check_fits(game_report(game, config=config), source=config_source)
    scenarios = run_scenarios(config)  # a bad file: refused before anything is allocated
    # Taken from the resume point: once in shared memory, nothing keeps the snapshot's arrays.
    initial = resume.tables.take() if resume else new_tables(config, game, lazy)
    if lazy and isinstance(initial, Tables):  # a dense run resumed as a lazy one
        initial = LazyTables.from_dense(game, initial)
    elif not lazy and isinstance(initial, LazyTables):
        initial = initial.to_dense(game)
    for name in remove_orphaned_segments():
        log.warning("removed shared memory %s of a supervisor that no longer runs", name)
    capacity = compact_entries(game) if lazy else 0
    shared = SharedTables.create(initial, run_tag=str(os.getpid()), capacity=capacity)
    unit = regret_unit(initial.regret.dtype, game.utility_scale)
    return RunStart(game, cache_entry, scenarios, shared, unit)


def new_tables(config: Config, game: Game, lazy: bool) -> Tables | LazyTables:
    """A new run's empty tables, of the kind ``solver.tables`` asks for."""
    solver = config.solver
    if lazy:
        # No arena yet: the shared segments get their capacity (SharedTables.create).
        return LazyTables.zeros(game, solver.table_dtype, solver.regret_dtype, capacity=0)
    return Tables.zeros(game, solver.table_dtype, solver.regret_dtype)
