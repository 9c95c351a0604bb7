"""Strategy look-ups on the control socket: the ``strategy`` and ``range`` commands.

A look-up reads the active run's live tables (its strategy sums in shared memory, row by row
as asked: the average strategy as ``holdemd strategy show`` plays it, including the snapshot
means of later streets with ``average: first_round``, which training keeps in the same sums),
or a snapshot of the active run or of a past one. Answers have the shape of ``holdemd strategy
show --json`` (``holdemd.lookup.show.lookup_json``), so the two agree.

Training must not notice: look-ups run in a thread, one at a time and spaced so that together
they take at most a quarter of one core (a client asking in a loop cannot take the workers'
CPU; a first look-up that builds the tree's texts or loads a snapshot never blocks the event
loop), and only the rows asked for are read. The live
`Blueprint` of a run is built once; snapshots are kept by path, a few at a time, and reuse the
active run's game (its bucket tables) instead of loading it again.

Reading the live table from a thread while the supervisor merges into it can see a row half
updated: the probabilities are then a mix of two consecutive sums, each a valid strategy. The
thread's view of the table keeps its memory mapped even if the run ends meanwhile.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from holdemd.blueprint.api import Blueprint
from holdemd.config.schema import Config
from holdemd.errors import HoldemdError
from holdemd.games.compiled import Game
from holdemd.protocol.errors import E_BAD_REQUEST, E_NOT_RUNNING
from holdemd.rundir.status import read_status
from holdemd.service.control_server import CommandError
from holdemd.solver.lazy_tables import LazyTables, LazyTablesTooLarge, dense_strategy_sum
from holdemd.solver.tables import Tables

SNAPSHOTS_KEPT: Final = 2  # loaded snapshots kept in memory (a hunl_mid one is ~100 MB)
# Back-to-back look-ups (a client in a loop, maybe a --socket-group member's) get at most this
# share of one core: after each, the next waits busy * (1 / share - 1), at most PAUSE_MAX.
LOOKUP_CPU_SHARE: Final = 0.25
PAUSE_MAX: Final = 0.05
_NAME_RE: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$")  # no '/', no '..'


class LiveRun(Protocol):
    """What a look-up needs of the active run (``training.run.TrainingRun``)."""

    run_id: str
    run_dir: Path
    config: Config
    game: Game

    @property
    def tables(self) -> Tables | LazyTables: ...

    @property
    def iteration(self) -> int: ...


@dataclass(frozen=True)
class Query:
    """A look-up as the commands take it (docs/control.md): the decision, and where from."""

    hand: str | None = None  # None for a range
    board: str = ""
    history: str | None = None
    seat: str | None = None
    snapshot: str | None = None  # None: the live tables of the active run
    run: str | None = None  # a run directory's name, a run id, or its path; None: the active


@dataclass(frozen=True)
class _Source:
    """Where one look-up reads: a loaded blueprint and how to describe it."""

    blueprint: Blueprint
    live_iteration: int | None = None  # set for the live tables: iterations merged so far
    run_id: str = ""


class StrategyLookups:
    """The daemon's look-ups; ``live`` returns the active run (None when idle)."""

    def __init__(self, runs_root: Path, live: Callable[[], LiveRun | None]) -> None:
        self.runs_root = runs_root
        self.live = live
        self._turn = asyncio.Lock()  # one look-up thread at a time
        self._live: tuple[LiveRun, Blueprint] | None = None
        self._snapshots: OrderedDict[tuple[str, int], Blueprint] = OrderedDict()

    # -- the commands --------------------------------------------------------------------

    async def show(self, query: Query) -> dict[str, Any]:
        """``holdemd strategy show --json`` for the query's hand at its decision."""
        from holdemd.lookup.show import lookup_json

        assert query.hand is not None
        hand = query.hand

        def work(source: _Source) -> dict[str, Any]:
            bp = source.blueprint
            result = bp.strategy(hand, query.board, query.history, query.seat)
            return _described(lookup_json(bp, result), source)

        return await self._run(query, work)

    async def range(self, query: Query) -> dict[str, Any]:
        """Every player's range at the decision (Bayes from the blueprint's own actions), as
        range strings, with how many hand combinations each holds."""
        from holdemd.blueprint.ranges import range_string

        def work(source: _Source) -> dict[str, Any]:
            bp = source.blueprint
            ranges = bp.range(query.history, query.seat, query.board)
            decision = ranges.decision
            live = ranges.combos > 0
            players = []
            for player, seat in enumerate(bp.seats):
                players.append(
                    {
                        "seat": seat,
                        "player": player,
                        "combos": float(ranges.weights[player].sum()),
                        "range": range_string(ranges.hand_set, ranges.reach[player] * live),
                    }
                )
            data = {
                "game": bp.name,
                "snapshot": bp.snapshot,
                "iteration": bp.iteration,
                "blueprint": None,
                "description": bp.describe(),
                "history": decision.history,
                "tree_history": decision.tree_history,
                "notes": list(decision.notes),
                "street": decision.street_name,
                "seat": decision.seat,
                "player": decision.player,
                "unit": decision.unit,
                "pot": decision.pot,
                "to_call": decision.to_call,
                "board": ranges.board,
                "ranges": players,
            }
            return _described(data, source)

        return await self._run(query, work)

    def forget(self, run: object) -> None:
        """The run ended: drop its live blueprint (and with it the view of its tables)."""
        if self._live is not None and self._live[0] is run:
            self._live = None

    # -- where a look-up reads -------------------------------------------------------------

    async def _run(self, query: Query, work: Callable[[_Source], dict[str, Any]]) -> dict[str, Any]:
        async with self._turn:
            run = self.live()
            iteration = run.iteration if run is not None else None
            began = time.monotonic()
            try:
                return await asyncio.to_thread(self._answer, query, run, iteration, work)
            except HoldemdError as exc:  # bad cards, history, snapshot: the user's to fix
                raise CommandError(E_BAD_REQUEST, _one_line(str(exc))) from exc
            finally:
                busy = time.monotonic() - began
                # Still holding the turn: the next look-up starts after the pause.
                await asyncio.sleep(min(busy * (1 / LOOKUP_CPU_SHARE - 1), PAUSE_MAX))

    def _answer(
        self,
        query: Query,
        run: LiveRun | None,
        iteration: int | None,
        work: Callable[[_Source], dict[str, Any]],
    ) -> dict[str, Any]:
        """In the look-up thread: find the source, then look up."""
        if query.snapshot is None and query.run is None:
            if run is None:
                raise CommandError(
                    E_NOT_RUNNING,
                    "no active run to look up; name a snapshot (--snapshot NAME, and --run "
                    "RUN for a past run's)",
                )
            return work(_Source(self._live_blueprint(run), iteration, run.run_id))
        run_dir = self._run_dir(query.run, run)
        return work(_Source(self._snapshot_blueprint(run_dir, query.snapshot, run)))

    def _live_blueprint(self, run: LiveRun) -> Blueprint:
        # A dense table is read live by the blueprint; lazy ones are converted at each look-up.
        if self._live is None or self._live[0] is not run or isinstance(run.tables, LazyTables):
            try:
                strategy_sum = dense_strategy_sum(run.game, run.tables, "a live look-up")
            except LazyTablesTooLarge as exc:
                raise CommandError(E_BAD_REQUEST, str(exc)) from exc
            blueprint = Blueprint.from_tables(
                run.game, strategy_sum, config=run.config, snapshot=""
            )
            self._live = (run, blueprint)
        return self._live[1]

    def _run_dir(self, name: str | None, active: LiveRun | None) -> Path:
        """The run a snapshot is read from: named (a directory under the daemon's runs, its
        run id, or its path), else the active run, else the newest."""
        if name is None:
            if active is not None:
                return active.run_dir
            newest = self._runs()
            if not newest:
                raise CommandError(E_BAD_REQUEST, f"no runs in {self.runs_root} yet")
            return newest[0]
        root = self.runs_root.resolve()
        as_path = Path(name)
        if as_path.is_absolute() and as_path.resolve().parent == root and as_path.is_dir():
            return as_path.resolve()
        if _NAME_RE.match(name) and (root / name).is_dir():
            return root / name
        for run_dir in self._runs():
            if _run_id(run_dir) == name:
                return run_dir
        shown = ", ".join(d.name for d in self._runs()[:5]) or "none"
        raise CommandError(
            E_BAD_REQUEST,
            f"--run {name[:100]}: no such run of this daemon (in {self.runs_root}; newest: "
            f"{shown})",
        )

    def _runs(self) -> list[Path]:
        """Run directories, newest first."""
        if not self.runs_root.is_dir():
            return []
        dirs = [d for d in self.runs_root.iterdir() if d.is_dir()]
        return sorted(dirs, key=lambda d: d.stat().st_mtime, reverse=True)

    def _snapshot_blueprint(
        self, run_dir: Path, name: str | None, active: LiveRun | None
    ) -> Blueprint:
        from holdemd.evaluation.setup import resolve_snapshot_name
        from holdemd.rundir.load import load_snapshot
        from holdemd.rundir.store import find_snapshot

        if name is not None and not _NAME_RE.match(name):
            raise CommandError(E_BAD_REQUEST, f"--snapshot {name[:100]!r}: not a snapshot name")
        info = find_snapshot(run_dir, resolve_snapshot_name(run_dir, name))
        manifest = info.path / "manifest.json"
        key = (str(info.path), manifest.stat().st_mtime_ns if manifest.exists() else 0)
        found = self._snapshots.get(key)
        if found is not None:
            self._snapshots.move_to_end(key)
            return found

        def built(config: Config) -> Game | None:
            if active is not None and _same_game(config, active.config):
                return active.game
            for blueprint in self._snapshots.values():
                if blueprint.config is not None and _same_game(config, blueprint.config):
                    return blueprint.game
            return None

        blueprint = Blueprint.from_snapshot(load_snapshot(run_dir, info.name, built=built))
        self._snapshots[key] = blueprint
        while len(self._snapshots) > SNAPSHOTS_KEPT:
            self._snapshots.popitem(last=False)
        return blueprint


def _same_game(a: Config, b: Config) -> bool:
    return a.game == b.game and a.abstraction == b.abstraction


def _run_id(run_dir: Path) -> str | None:
    try:
        return str(read_status(run_dir)["run_id"])
    except (HoldemdError, KeyError, TypeError):
        return None


def _described(data: dict[str, Any], source: _Source) -> dict[str, Any]:
    """The live tables are no snapshot: say which run, and how far it has trained."""
    if source.live_iteration is None:
        return data
    iterations = source.live_iteration
    return {
        **data,
        "snapshot": None,
        "iteration": iterations,
        "description": f"{data['game']}, live tables of run {source.run_id} "
        f"({iterations:,} iterations)",
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())
