"""Leduc poker: holdemd's external-sampling MCCFR against OpenSpiel 2.0.2's, in one process.

What is compared
----------------
* holdemd: ``ExternalSamplingMCCFR`` (numba kernel, one process, one thread) on our compiled
  Leduc, evaluated exactly by ``ExactEvaluator``.
* OpenSpiel: the C++ ``pyspiel.ExternalSamplingMCCFRSolver(game, seed, MCCFRAverageType.SIMPLE)``
  (one thread) on ``leduc_poker``, evaluated exactly by ``pyspiel.exploitability``.

Both use the same conventions, so the figures compare directly: one *iteration* is one
external-sampling traversal per player; the average strategy is "simple" (the sampled
opponents' current strategies are summed); exploitability is OpenSpiel's, (BR0 + BR1) / 2 in
chips per game (= NashConv / 2). The two evaluators are cross-checked on the uniform policy
(2.373611 in both; see /work/shared/REFERENCE.md).

The games are the same game but not the same tables: our Leduc is rank-only, 288 infosets,
where OpenSpiel's distinguishes suits, 936 infosets. Suits never matter in Leduc, so the
abstraction is lossless (same equilibria, same exploitability of any policy that ignores
suits), but each of our infosets pools the samples of several of OpenSpiel's. That explains
part of our lower exploitability at equal iterations, on top of faster iterations.

What is measured, all in one run
--------------------------------
1. Iterations/s: after warming up both solvers (numba's compile or cache load is timed
   separately and excluded), rounds of ours and theirs alternate, each round about half a
   second, the order swapped every round so machine noise hits both. Reported: the median
   rate of each and the ratio of medians, with the per-round ratios.
2. Exploitability at 1e4, 1e5 and (unless ``--quick``) 1e6 iterations, on fresh solvers.
3. Training wall time to first reach exploitability 0.05: both fresh solvers train in chunks
   of 2,000 iterations, alternating, with an evaluation after each chunk until the target is
   reached or a cap (1e6 iterations or 120 s of training) is hit. Evaluation time is excluded
   from training time; the same runs give the figures of item 2.

OpenSpiel's ``run_iteration()`` is called from a Python loop; a pybind call costs about
0.1 µs against 20-30 µs per Leduc iteration, so it is left in OpenSpiel's time (under 1%). Results are for one seed (``--seed``); exploitability at a given
iteration count varies from seed to seed.

The targets of the issue (ours >= 10x OpenSpiel's iterations/s, and reaching 0.05 >= 10x
sooner) are printed as met or not; this is a benchmark, so it exits 0 either way.

Usage: ``python bench/bench_mccfr_vs_openspiel.py [--quick] [--seed S] [--json FILE]``
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

TARGET_EXPLOITABILITY = 0.05
TARGET_RATIO = 10.0
UNIFORM_EXPLOITABILITY = 2.373611  # Leduc, REFERENCE.md
CHUNK = 2_000  # iterations between evaluations while looking for the first crossing
CROSSING_MAX_ITERATIONS = 1_000_000
CROSSING_MAX_SECONDS = 120.0
THROUGHPUT_ROUND_SECONDS = 0.5  # target length of one timed throughput round per solver
INSTALL_HINT = "pyspiel is not importable; install the bench extra: pip install -e '.[bench]'"


def import_pyspiel() -> Any:
    """The pyspiel module, or exit 2 with a one-line install hint."""
    try:
        import pyspiel
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        sys.exit(2)
    return pyspiel


class Solver(Protocol):
    """One side of the comparison: train, then evaluate its average policy exactly."""

    name: str

    def train(self, iterations: int) -> None: ...

    def exploitability(self) -> float: ...


class HoldemdSolver:
    """Our single-process MCCFR on rank-only Leduc."""

    name = "holdemd"

    def __init__(self, game: Any, evaluator: Any, seed: int, dtype: str) -> None:
        from holdemd.solver.mccfr import ExternalSamplingMCCFR
        from holdemd.solver.tables import Tables

        self.evaluator = evaluator
        self.solver = ExternalSamplingMCCFR(game, Tables.zeros(game, dtype), seed=seed)

    def train(self, iterations: int) -> None:
        self.solver.run(iterations)

    def exploitability(self) -> float:
        return float(self.evaluator.exploitability(self.solver.average_policy()))


class OpenSpielSolver:
    """OpenSpiel's C++ external-sampling MCCFR on suit-distinct Leduc."""

    name = "OpenSpiel"

    def __init__(self, pyspiel: Any, game: Any, seed: int) -> None:
        self.pyspiel = pyspiel
        self.game = game
        self.solver = pyspiel.ExternalSamplingMCCFRSolver(
            game, seed, pyspiel.MCCFRAverageType.SIMPLE
        )

    def train(self, iterations: int) -> None:
        run_iteration = self.solver.run_iteration
        for _ in range(iterations):
            run_iteration()

    def exploitability(self) -> float:
        return float(self.pyspiel.exploitability(self.game, self.solver.average_policy()))


@dataclass
class Setup:
    """Both games, our evaluator, and what setting them up cost (all excluded from timings)."""

    pyspiel: Any
    our_game: Any
    our_evaluator: Any
    their_game: Any
    dtype: str
    our_infosets: int
    their_infosets: int
    numba_warmup_seconds: float
    openspiel_warmup_seconds: float


def count_infosets(pyspiel: Any, game: Any) -> int:
    """Distinct information states at decision nodes of an OpenSpiel game (full tree walk)."""
    seen: set[str] = set()
    stack = [game.new_initial_state()]
    while stack:
        state = stack.pop()
        if state.is_terminal():
            continue
        if state.is_chance_node():
            stack.extend(state.child(a) for a, _ in state.chance_outcomes())
            continue
        seen.add(state.information_state_string())
        stack.extend(state.child(a) for a in state.legal_actions())
    return len(seen)


def timed(solver: Solver, iterations: int) -> float:
    start = time.perf_counter()
    solver.train(iterations)
    return time.perf_counter() - start


def set_up(pyspiel: Any, dtype: str) -> Setup:
    """Build both games, then warm both solvers up on throwaway instances."""
    from holdemd.games.factory import make_game
    from holdemd.solver.exact import ExactEvaluator

    our_game = make_game("leduc")
    evaluator = ExactEvaluator(our_game)
    their_game = pyspiel.load_game("leduc_poker")
    # First call of the kernel: numba compiles it or loads it from its cache.
    numba_warmup = timed(HoldemdSolver(our_game, evaluator, 0, dtype), 10)
    openspiel_warmup = timed(OpenSpielSolver(pyspiel, their_game, 0), 10)
    return Setup(
        pyspiel=pyspiel,
        our_game=our_game,
        our_evaluator=evaluator,
        their_game=their_game,
        dtype=dtype,
        our_infosets=int(our_game.num_rows),
        their_infosets=count_infosets(pyspiel, their_game),
        numba_warmup_seconds=numba_warmup,
        openspiel_warmup_seconds=openspiel_warmup,
    )


def make_solvers(setup: Setup, seed: int) -> tuple[HoldemdSolver, OpenSpielSolver]:
    ours = HoldemdSolver(setup.our_game, setup.our_evaluator, seed, setup.dtype)
    theirs = OpenSpielSolver(setup.pyspiel, setup.their_game, seed)
    return ours, theirs


def uniform_exploitabilities(setup: Setup) -> tuple[float, float]:
    """Both evaluators on the uniform random policy: must agree (2.373611)."""
    from holdemd.solver.tables import uniform_strategy

    ours = setup.our_evaluator.exploitability(uniform_strategy(setup.our_game))
    pyspiel = setup.pyspiel
    theirs = pyspiel.exploitability(setup.their_game, pyspiel.UniformRandomPolicy(setup.their_game))
    return float(ours), float(theirs)


# --- 1. throughput ------------------------------------------------------------------------------


@dataclass
class Throughput:
    rates: dict[str, list[float]]  # solver name -> iterations/s per round

    def median(self, name: str) -> float:
        return statistics.median(self.rates[name])

    def round_ratios(self, ours: str, theirs: str) -> list[float]:
        return [a / b for a, b in zip(self.rates[ours], self.rates[theirs], strict=True)]


def round_size(solver: Solver) -> int:
    """Iterations that take about THROUGHPUT_ROUND_SECONDS, from a short probe."""
    probe = 2_000
    seconds = timed(solver, probe)
    wanted = THROUGHPUT_ROUND_SECONDS * probe / max(seconds, 1e-9)
    return max(probe, 1_000 * round(wanted / 1_000))


def measure_throughput(solvers: list[Solver], rounds: int) -> Throughput:
    """Alternate timed rounds of every solver, reversing the order every other round."""
    sizes = {s.name: round_size(s) for s in solvers}
    rates: dict[str, list[float]] = {s.name: [] for s in solvers}
    for r in range(rounds):
        for solver in solvers if r % 2 == 0 else solvers[::-1]:
            n = sizes[solver.name]
            rates[solver.name].append(n / timed(solver, n))
    return Throughput(rates)


# --- 2 and 3. convergence -------------------------------------------------------------------------


@dataclass
class Progress:
    """One solver's training run: checkpoints, and the search for the first crossing."""

    solver: Solver
    checkpoints: list[int]
    iterations: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    evaluations: int = 0
    searching: bool = True
    at_checkpoint: dict[int, float] = field(default_factory=dict)
    crossing: dict[str, float] | None = None  # iterations, train_seconds, exploitability

    @property
    def done(self) -> bool:
        return not self.searching and self.iterations >= self.checkpoints[-1]

    def next_chunk(self) -> int:
        if self.searching:
            return CHUNK
        return min(c for c in self.checkpoints if c > self.iterations) - self.iterations

    def evaluate(self) -> float:
        start = time.perf_counter()
        value = self.solver.exploitability()
        self.eval_seconds += time.perf_counter() - start
        self.evaluations += 1
        return value


def advance(progress: Progress) -> None:
    """Train ``progress`` one chunk; evaluate if searching or at a checkpoint."""
    n = progress.next_chunk()
    progress.train_seconds += timed(progress.solver, n)
    progress.iterations += n
    at_checkpoint = progress.iterations in progress.checkpoints
    if not (progress.searching or at_checkpoint):
        return
    value = progress.evaluate()
    if at_checkpoint:
        progress.at_checkpoint[progress.iterations] = value
    if not progress.searching:
        return
    if value <= TARGET_EXPLOITABILITY:
        progress.crossing = {
            "iterations": progress.iterations,
            "train_seconds": progress.train_seconds,
            "exploitability": value,
        }
        progress.searching = False
    elif (
        progress.iterations >= CROSSING_MAX_ITERATIONS
        or progress.train_seconds >= CROSSING_MAX_SECONDS
    ):
        progress.searching = False


def run_convergence(solvers: list[Solver], checkpoints: list[int]) -> list[Progress]:
    """Train every solver to the last checkpoint, one chunk of each in turn."""
    assert all(c % CHUNK == 0 for c in checkpoints)
    runs = [Progress(solver, checkpoints) for solver in solvers]
    while not all(p.done for p in runs):
        for progress in runs:
            if not progress.done:
                advance(progress)
    return runs


# --- report ---------------------------------------------------------------------------------------


def crossing_report(progress: Progress) -> dict[str, Any]:
    if progress.crossing is None:
        return {
            "reached": False,
            "iterations_tried": progress.iterations,
            "train_seconds_tried": progress.train_seconds,
        }
    return {"reached": True, **progress.crossing}


def time_ratio(ours: dict[str, Any], theirs: dict[str, Any], key: str) -> dict[str, Any]:
    """How many times sooner we reached the target: exact, a lower bound, or unknown."""
    if not ours["reached"]:
        return {"value": None, "lower_bound": False}
    if theirs["reached"]:
        return {"value": theirs[key] / ours[key], "lower_bound": False}
    return {"value": theirs[f"{key}_tried"] / ours[key], "lower_bound": True}


def build_report(
    args: argparse.Namespace,
    setup: Setup,
    uniform: tuple[float, float],
    throughput: Throughput,
    runs: list[Progress],
) -> dict[str, Any]:
    """Every figure of the run, keyed by solver name ("holdemd", "OpenSpiel")."""
    ours, theirs = runs
    a, b = ours.solver.name, theirs.solver.name
    speed_ratio = throughput.median(a) / throughput.median(b)
    crossing = {p.solver.name: crossing_report(p) for p in runs}
    seconds_ratio = time_ratio(crossing[a], crossing[b], "train_seconds")
    iterations_ratio = time_ratio(crossing[a], crossing[b], "iterations")
    sooner = seconds_ratio["value"]
    return {
        "game": "leduc",
        "seed": args.seed,
        "quick": args.quick,
        "holdemd_table_dtype": setup.dtype,
        "versions": {
            "open_spiel": importlib.metadata.version("open_spiel"),
            "numba": importlib.metadata.version("numba"),
            "python": sys.version.split()[0],
        },
        "infosets": {a: setup.our_infosets, b: setup.their_infosets},
        "warmup_seconds_excluded": {
            a: setup.numba_warmup_seconds,
            b: setup.openspiel_warmup_seconds,
        },
        "uniform_exploitability": {a: uniform[0], b: uniform[1], "reference": 2.373611},
        "iterations_per_second": {
            "rounds": throughput.rates,
            "median": {a: throughput.median(a), b: throughput.median(b)},
            "ratio": speed_ratio,
            "round_ratios": throughput.round_ratios(a, b),
        },
        "iterations_per_second_while_training": {
            p.solver.name: p.iterations / p.train_seconds for p in runs
        },
        "exploitability": {p.solver.name: p.at_checkpoint for p in runs},
        "time_to_target": {
            "target": TARGET_EXPLOITABILITY,
            "chunk_iterations": CHUNK,
            "cap": {"iterations": CROSSING_MAX_ITERATIONS, "train_seconds": CROSSING_MAX_SECONDS},
            **crossing,
            "seconds_ratio": seconds_ratio,
            "iterations_ratio": iterations_ratio,
        },
        "evaluation_seconds_excluded": {p.solver.name: p.eval_seconds for p in runs},
        "targets": {
            "ratio": TARGET_RATIO,
            "iterations_per_second_met": speed_ratio >= TARGET_RATIO,
            "time_to_target_met": sooner is not None and sooner >= TARGET_RATIO,
        },
    }


def fmt_ratio(ratio: dict[str, Any] | float | None) -> str:
    if isinstance(ratio, dict):
        if ratio["value"] is None:
            return "n/a"
        return (">" if ratio["lower_bound"] else "") + f"{ratio['value']:.1f}x"
    return "n/a" if ratio is None else f"{ratio:.1f}x"


def fmt_crossing(entry: dict[str, Any], key: str, fmt: str) -> str:
    if entry["reached"]:
        return format(entry[key], fmt)
    return "not reached"


def row(label: str, ours: str, theirs: str, ratio: str = "") -> str:
    return f"{label:<30}{ours:>14}{theirs:>18}{ratio:>10}"


def print_table(report: dict[str, Any]) -> None:
    a, b = "holdemd", "OpenSpiel"
    version = report["versions"]["open_spiel"]
    speed = report["iterations_per_second"]
    training = report["iterations_per_second_while_training"]
    crossing = report["time_to_target"]
    target = format(crossing["target"], "g")
    print()
    print("Leduc, external-sampling MCCFR, one core, same run")
    print(row("", a, f"OpenSpiel {version}", "ratio"))
    print(row("infosets", str(report["infosets"][a]), str(report["infosets"][b])))
    print(
        row(
            "iterations/s (median)",
            f"{speed['median'][a]:,.0f}",
            f"{speed['median'][b]:,.0f}",
            fmt_ratio(speed["ratio"]),
        )
    )
    print(
        row(
            "iterations/s (training runs)",
            f"{training[a]:,.0f}",
            f"{training[b]:,.0f}",
            fmt_ratio(training[a] / training[b]),
        )
    )
    for n in sorted(report["exploitability"][a]):
        label = f"exploitability @1e{round(math.log10(n))}"
        ours, theirs = report["exploitability"][a][n], report["exploitability"][b][n]
        print(row(label, f"{ours:.4g}", f"{theirs:.4g}"))
    print(
        row(
            f"time to {target} (s)",
            fmt_crossing(crossing[a], "train_seconds", ".3g"),
            fmt_crossing(crossing[b], "train_seconds", ".3g"),
            fmt_ratio(crossing["seconds_ratio"]),
        )
    )
    print(
        row(
            f"iterations to {target}",
            fmt_crossing(crossing[a], "iterations", ",d"),
            fmt_crossing(crossing[b], "iterations", ",d"),
            fmt_ratio(crossing["iterations_ratio"]),
        )
    )
    print("ratio = holdemd's advantage: ours/theirs for rates, theirs/ours for time and iterations")
    print(
        f"time to {target}: training seconds only (evaluations excluded), checked every "
        f"{crossing['chunk_iterations']:,} iterations; cap {crossing['cap']['iterations']:,} "
        f"iterations or {crossing['cap']['train_seconds']:g} s"
    )
    targets = report["targets"]
    goal = f">= {targets['ratio']:g}x"
    met = {True: "met", False: "NOT met"}
    print(
        f"target iterations/s {goal} OpenSpiel: {met[targets['iterations_per_second_met']]} "
        f"({fmt_ratio(speed['ratio'])})"
    )
    print(
        f"target reach {target} {goal} sooner: {met[targets['time_to_target_met']]} "
        f"({fmt_ratio(crossing['seconds_ratio'])})"
    )


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="stop the checkpoints at 1e5 iterations (no 1e6)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of both solvers (default 1)")
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="holdemd table dtype"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    pyspiel = import_pyspiel()
    setup = set_up(pyspiel, args.dtype)
    print(
        f"holdemd Leduc: {setup.our_infosets} rank-only infosets, {setup.dtype} tables; "
        f"OpenSpiel leduc_poker: {setup.their_infosets} suit-distinct infosets; seed {args.seed}"
    )
    print(
        f"warm-up, excluded from all timings: numba compile/cache load "
        f"{setup.numba_warmup_seconds:.2f} s, OpenSpiel {setup.openspiel_warmup_seconds:.4f} s"
    )
    uniform = uniform_exploitabilities(setup)
    print(
        f"uniform-policy exploitability: holdemd {uniform[0]:.6f}, OpenSpiel {uniform[1]:.6f} "
        f"(reference {UNIFORM_EXPLOITABILITY}; difference {abs(uniform[0] - uniform[1]):.1e})"
    )

    rounds = 3 if args.quick else 5
    throughput = measure_throughput(list(make_solvers(setup, args.seed)), rounds)
    ratios = ", ".join(f"{r:.1f}" for r in throughput.round_ratios("holdemd", "OpenSpiel"))
    print(f"iterations/s, {rounds} alternating rounds of ~{THROUGHPUT_ROUND_SECONDS:g} s each:")
    for name, rates in throughput.rates.items():
        print(f"  {name:<10} " + ", ".join(f"{r:,.0f}" for r in rates))
    print(f"  ratio per round: {ratios}")

    checkpoints = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    print(f"training fresh solvers to {checkpoints[-1]:,} iterations, alternating chunks ...")
    runs = run_convergence(list(make_solvers(setup, args.seed)), checkpoints)
    for p in runs:
        print(
            f"  {p.solver.name:<10} {p.iterations:,} iterations, {p.train_seconds:.2f} s training, "
            f"{p.evaluations} evaluations in {p.eval_seconds:.2f} s (excluded)"
        )

    report = build_report(args, setup, uniform, throughput, runs)
    print_table(report)
    total = time.perf_counter() - started
    report["total_seconds"] = total
    print(f"total benchmark time {total:.1f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
