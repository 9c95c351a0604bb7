"""The blueprint file and its API against the look-up path `strategy show` had before, in one run.

From a run directory (default: its latest snapshot) it measures, in one warm process:

* export: reading the snapshot and writing the blueprint file (target: <= 10 s for hunl_mid);
* size: the file against the snapshot's float32 tables (regret + strategy sum; target <= 1/4)
  and against the strategy sums alone;
* open: ``Blueprint.open`` of the file (every section's sha256 checked; target <= 0.5 s) and
  the first look-up with cards (loads the card abstraction once), against the old way in,
  ``load_snapshot`` + a betting tree (what ``Blueprint.from_run`` did on every command);
* one look-up: ``bp.strategy(hand, board, history)`` for random decisions, the first pass over
  them (histories and nodes seen for the first time) and a second pass (warm: target <= 50 us),
  against the old path (the full walk replaying the betting rules, ``hand_bucket``, and the
  row normalized from the strategy sums);
* a batch: every hole pair at one decision (``bp.strategies``: buckets in numba, rows in numpy)
  against a Python loop of single look-ups; and ``bp.range`` (both players' 1,326 weights).

Timings are medians (per call: the mean over a pass of all decisions) with the process warm
(numba compiled, files in the page cache); absolute figures vary up to 2x on a shared machine,
the ratios are measured in the same run.

Run: .venv/bin/python bench/bench_blueprint.py --run runs/hunl_mid [--snapshot NAME]
     [--decisions 1000] [--out /tmp/bench.bp] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from holdemd import Blueprint
from holdemd.blueprint.export import export_blueprint
from holdemd.blueprint.hands import hand_bucket
from holdemd.blueprint.store import TableStore
from holdemd.blueprint.tree import BettingTree
from holdemd.blueprint.walk import spot_for
from holdemd.cards import BOARD_SIZES, format_cards
from holdemd.games.factory import nolimit_rules
from holdemd.games.kinds import game_kind
from holdemd.rundir.load import LoadedSnapshot, load_snapshot


def timed(call: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """(median seconds, last result) of ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def random_decisions(blueprint: Blueprint, count: int, seed: int) -> list[tuple[str, str, str]]:
    """(hand, board, history) of random on-tree decisions: random walks of 0-7 actions."""
    rng = np.random.default_rng(seed)
    a = blueprint.tree.game.arrays
    out = []
    for _ in range(count):
        node, depth = 0, int(rng.integers(0, 8))
        tokens: list[tuple[int, str]] = []
        decision = blueprint.decision_at(0)
        while len(tokens) < depth:
            live = [act for act in decision.actions if a.node_player[act.child] >= 0]
            if not live:
                break
            act = live[int(rng.integers(len(live)))]
            tokens.append((decision.street, act.token))
            node = act.child
            decision = blueprint.decision_at(node)
        streets: list[list[str]] = [[] for _ in range(decision.street + 1)]
        for street, token in tokens:
            streets[street].append(token)
        cards = rng.permutation(52)[: 2 + BOARD_SIZES[decision.street]]
        history = " / ".join(" ".join(s) for s in streets)
        out.append((format_cards(cards[:2]), format_cards(cards[2:]), history))
    return out


class OldLookup:
    """What `strategy show` ran before the blueprint API: the walk replaying the betting rules,
    ``hand_bucket`` and the row normalized from the strategy sums."""

    def __init__(self, loaded: LoadedSnapshot) -> None:
        game = loaded.game
        rules = None if game_kind(game.name).fixed_rules else nolimit_rules(loaded.config.game)
        self.game = game
        self.tree = BettingTree(game, rules)
        a = game.arrays
        self.store = TableStore(loaded.tables.strategy_sum, a.node_num_actions, a.node_row_base)

    def __call__(self, hand: str, board: str, history: str) -> np.ndarray:
        spot = spot_for(self.tree, history, None)
        cards = hand_bucket(self.game, self.tree.street(spot), hand, board)
        return self.store.row(spot.node, cards.bucket)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a Hold'em run directory")
    parser.add_argument("--snapshot", help="snapshot name (default: the latest)")
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--out", type=Path, help="where to write the file (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp()) / "bench.bp"
    figures: dict[str, Any] = {}

    # Warm numba and the page cache once, so neither side pays a first compile.
    load_seconds, loaded = timed(lambda: load_snapshot(args.run, args.snapshot))
    export_blueprint(loaded, out)
    load_seconds, loaded = timed(lambda: load_snapshot(args.run, args.snapshot), repeat=3)
    export_seconds, report = timed(lambda: export_blueprint(loaded, out), repeat=3)
    figures["export_s"] = load_seconds + export_seconds
    figures["export_write_s"] = export_seconds
    figures["file_bytes"] = report.bytes
    figures["tables_bytes"] = report.table_bytes
    figures["strategy_sum_bytes"] = report.strategy_bytes
    figures["bits"] = report.bits
    figures["max_error"] = report.max_error

    reference_open, _ = timed(lambda: OldLookup(load_snapshot(args.run, args.snapshot)), repeat=3)
    figures["old_open_s"] = reference_open
    figures["open_s"], _ = timed(lambda: Blueprint.open(out), repeat=5)
    first_start = time.perf_counter()
    blueprint = Blueprint.open(out)
    blueprint.strategy("AsKs")
    figures["open_first_cards_s"] = time.perf_counter() - first_start

    decisions = random_decisions(blueprint, args.decisions, seed=1)
    old = OldLookup(loaded)
    for hand, board, history in decisions[:50]:  # the old path's compile and caches
        old(hand, board, history)

    def one_pass(call: Callable[[str, str, str], Any]) -> float:
        start = time.perf_counter()
        for hand, board, history in decisions:
            call(hand, board, history)
        return (time.perf_counter() - start) / len(decisions)

    fresh = Blueprint.open(out).preload()  # the card abstraction: loaded once, measured above
    figures["lookup_first_pass_us"] = one_pass(fresh.strategy) * 1e6
    figures["lookup_us"] = statistics.median(one_pass(fresh.strategy) for _ in range(3)) * 1e6
    figures["old_lookup_us"] = statistics.median(one_pass(old) for _ in range(3)) * 1e6
    for hand, board, history in decisions[:200]:
        got = fresh.strategy(hand, board, history).probabilities
        assert np.abs(got - old(hand, board, history)).max() <= report.max_error + 1e-12

    spots = [(board, history) for _, board, history in decisions[:30]]

    def batch() -> None:
        for board, history in spots:
            fresh.strategies(history, board=board)

    def loop() -> None:
        for board, history in spots[:3]:
            table = fresh.strategies(history, board=board)
            for hand in table.hands:
                fresh.strategy(hand, board, history)

    figures["batch_ms"] = timed(batch, repeat=3)[0] / len(spots) * 1e3
    figures["loop_ms"] = timed(loop, repeat=1)[0] / 3 * 1e3
    figures["range_ms"] = (
        timed(lambda: [fresh.range(h, board=b) for b, h in spots], repeat=3)[0] / len(spots) * 1e3
    )
    _print(figures, loaded.game.name, args.decisions)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _print(f: dict[str, Any], game: str, decisions: int) -> None:
    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    mib = 2**20
    print(f"blueprint of {game}: {decisions} random decisions, warm process")
    print(
        f"  export        {f['export_s']:7.2f} s (read snapshot + write {f['export_write_s']:.2f} s)"
        f"   target <= 10 s: {met(f['export_s'] <= 10)}"
    )
    print(
        f"  file          {f['file_bytes'] / mib:7.2f} MiB at {f['bits']} bits = "
        f"{f['file_bytes'] / f['tables_bytes']:.1%} of the float32 tables "
        f"({f['tables_bytes'] / mib:.1f} MiB), {f['file_bytes'] / f['strategy_sum_bytes']:.1%} "
        f"of the strategy sums   target <= 25%: {met(f['file_bytes'] <= f['tables_bytes'] / 4)}"
    )
    print(f"  max error     {f['max_error']:.5f} (largest |stored - exact| probability)")
    print(
        f"  open          {1e3 * f['open_s']:7.1f} ms (checksums verified); with the first look-up"
        f" (card abstraction) {1e3 * f['open_first_cards_s']:.0f} ms; old way in "
        f"{1e3 * f['old_open_s']:.0f} ms ({f['old_open_s'] / f['open_s']:.0f}x)   target <= 0.5 s: "
        f"{met(f['open_s'] <= 0.5)}"
    )
    print(
        f"  one look-up   {f['lookup_us']:7.1f} us warm, {f['lookup_first_pass_us']:.1f} us first "
        f"pass; old path {f['old_lookup_us']:.1f} us ({f['old_lookup_us'] / f['lookup_us']:.0f}x)"
        f"   target <= 50 us: {met(f['lookup_us'] <= 50)}"
    )
    print(
        f"  batch         {f['batch_ms']:7.2f} ms for every hole pair at a decision; a Python "
        f"loop of look-ups {f['loop_ms']:.1f} ms ({f['loop_ms'] / f['batch_ms']:.0f}x)"
    )
    print(f"  range         {f['range_ms']:7.2f} ms (both players' 1,326 weights)")


if __name__ == "__main__":
    main()
