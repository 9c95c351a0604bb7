"""Kuhn through the daemon path, judged as issue 14 judged it: OpenSpiel's best response.

For each seed: ``holdemd train --config configs/kuhn.yaml --iterations N --num-workers W
--seed S`` (extra flags after ``--``), ``holdemd strategy export``, then
``pyspiel.exploitability`` of the exported strategy on ``kuhn_poker``; and OpenSpiel's own C++
external sampling (``SIMPLE`` averaging) for the same seed and iterations. Prints each seed and
the means.

Usage: ``python bench/kuhn_runs_vs_openspiel.py [--seeds 5] [--iterations 100000]
[--workers 1] [-- --batch-size 200]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CARDS = {"J": "0", "Q": "1", "K": "2"}


def judge(pyspiel: Any, game: Any, exported: dict[str, list[float]]) -> float:
    """OpenSpiel's exploitability of an exported Kuhn strategy ("K:pb" -> info state "2pb";
    our action order is OpenSpiel's: 0 pass/fold, 1 bet/call)."""
    table = {
        CARDS[key.split(":")[0]] + key.split(":")[1]: list(enumerate(probabilities))
        for key, probabilities in exported.items()
    }
    return float(pyspiel.exploitability(game, pyspiel.TabularPolicy(table)))


def openspiel_run(pyspiel: Any, game: Any, iterations: int, seed: int) -> float:
    solver = pyspiel.ExternalSamplingMCCFRSolver(game, seed, pyspiel.MCCFRAverageType.SIMPLE)
    for _ in range(iterations):
        solver.run_iteration()
    return float(pyspiel.exploitability(game, solver.average_policy()))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 1..N")
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    import pyspiel

    game = pyspiel.load_game("kuhn_poker")
    holdemd = str(Path(sys.executable).with_name("holdemd"))
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.seeds + 1):
            run = Path(tmp) / f"seed{seed}"
            subprocess.run(
                [holdemd, "train", "--config", "configs/kuhn.yaml", "--iterations",
                 str(args.iterations), "--num-workers", str(args.workers), "--seed", str(seed),
                 "--logdir", str(run), "--no-tensorboard", *extra],
                check=True, capture_output=True,
            )  # fmt: skip
            out = run / "strategy.json"
            subprocess.run(
                [holdemd, "strategy", "export", "--run", str(run), "--out", str(out)],
                check=True,
                capture_output=True,
            )
            ours.append(judge(pyspiel, game, json.loads(out.read_text())))
            theirs.append(openspiel_run(pyspiel, game, args.iterations, seed))
            print(f"seed {seed}: holdemd {ours[-1]:.4f}  OpenSpiel {theirs[-1]:.4f}", flush=True)
    print(
        f"mean over {args.seeds} seeds: holdemd {statistics.mean(ours):.4f}, "
        f"OpenSpiel {statistics.mean(theirs):.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
