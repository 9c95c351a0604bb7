"""The LBR question (issue 14): which averaging and discounting give the strongest real-game
blueprint per minute of training? Measures runs of one game trained for the same time with
different settings, on the same deals and boards.

For each run (``LABEL=RUN_DIR``) it measures every snapshot with the real command,
``holdemd eval --run RUN --curve --lbr --rgbr --from STREET --vs snapshot:first --json`` (LBR,
the real-game best response with its per-street gains left out, head-to-head against the run's
first snapshot), then plays the runs' last snapshots against each other (duplicate deals, the
same deals for every pair), and writes:

* ``OUT/curve_LABEL.json``: each run's curve as ``eval --curve --json`` prints it;
* ``OUT/rgbr_LABEL.json``: the last snapshot's RGBR with where it gains (``eval --rgbr --json``);
* ``OUT/cross.json`` and a table on stdout: row beats column by mbb/hand;
* ``OUT/lbr.png``, ``OUT/rgbr.png``: one line per run against iterations (the settings cost
  about the same per iteration, and iterations do not depend on what else the machine ran).

Run: .venv/bin/python bench/study_averaging.py --out DIR LABEL=RUN [LABEL=RUN ...]
     [--lbr-hands 5000] [--boards 20] [--from turn] [--hands 100000] [--cross-hands 200000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from holdemd.evaluation.curve_png import Series, write_curve_png  # noqa: E402
from holdemd.evaluation.match import play_match  # noqa: E402
from holdemd.evaluation.policies import blueprint_policy  # noqa: E402
from holdemd.evaluation.stats import Unit, duplicate_estimate  # noqa: E402
from holdemd.rundir.load import load_snapshot  # noqa: E402


def holdemd(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "holdemd.cli", *args, "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure(label: str, run: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{label}: curve of {run}", file=sys.stderr, flush=True)
    curve = holdemd(
        "eval",
        "--run",
        str(run),
        "--curve",
        "--vs",
        "snapshot:first",
        "--hands",
        str(args.hands),
        "--lbr",
        "--lbr-hands",
        str(args.lbr_hands),
        "--rgbr",
        "--boards",
        str(args.boards),
        "--from",
        args.street,
    )
    (args.out / f"curve_{label}.json").write_text(json.dumps(curve, indent=2) + "\n")
    last = holdemd(
        "eval", "--run", str(run), "--rgbr", "--boards", str(args.boards), "--from", args.street
    )
    (args.out / f"rgbr_{label}.json").write_text(json.dumps(last, indent=2) + "\n")
    return {"curve": curve, "last": last}


def cross_play(runs: dict[str, Path], hands: int) -> dict[str, dict[str, Any]]:
    """Row's last snapshot against column's, duplicate deals (mbb/hand for the row)."""
    loaded = {label: load_snapshot(run) for label, run in runs.items()}
    out: dict[str, dict[str, Any]] = {label: {} for label in runs}
    for a, b in combinations(runs, 2):
        game = loaded[a].game
        print(f"cross-play {a} vs {b}", file=sys.stderr, flush=True)
        values = play_match(
            game,
            blueprint_policy(a, loaded[a].tables.strategy_sum),
            blueprint_policy(b, loaded[b].tables.strategy_sum),
            hands,
            seed=0,
        )
        estimate = duplicate_estimate(values, Unit.of(game))
        out[a][b] = estimate.as_dict()
        out[b][a] = {**estimate.as_dict(), "mean": -estimate.mean}
    return out


def plot(results: dict[str, dict[str, Any]], measure_name: str, path: Path, title: str) -> None:
    series = []
    for label, result in results.items():
        rows = result["curve"]["rows"]
        xs = [row["iteration"] for row in rows]
        values = [row["results"][measure_name] for row in rows]
        series.append(Series(label, xs, [v["mean"] for v in values], [v["ci95"] for v in values]))
    write_curve_png(
        path,
        series,
        title=title,
        subtitle="mean and 95% interval, same deals and boards for every snapshot",
        x_label="iterations",
        y_label="mbb/hand",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--lbr-hands", type=int, default=5000)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--from", dest="street", default="turn")
    parser.add_argument("--hands", type=int, default=100_000)
    parser.add_argument("--cross-hands", type=int, default=200_000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {}
    for item in args.runs:
        label, _, path = item.partition("=")
        runs[label] = Path(path)
    results = {label: measure(label, run, args) for label, run in runs.items()}
    cross = cross_play(runs, args.cross_hands)
    (args.out / "cross.json").write_text(json.dumps(cross, indent=2) + "\n")
    plot(results, "LBR", args.out / "lbr.png", "LBR over training")
    plot(results, "RGBR", args.out / "rgbr.png", f"RGBR ({args.street} boards) over training")

    print("| run | snapshot | minutes | vs first | LBR | RGBR |")
    print("|---|---|---:|---:|---:|---:|")  # snapshot names carry the iterations
    for label, result in results.items():
        for row in result["curve"]["rows"]:
            cells = [row["results"][m] for m in ("vs snapshot:first", "LBR", "RGBR")]
            shown = " | ".join(f"{c['mean']:+.1f} ± {c['ci95']:.1f}" for c in cells)
            minutes = row["elapsed_seconds"] / 60
            print(f"| {label} | {row['snapshot']} | {minutes:.1f} | {shown} |")
    print()
    print("| last snapshot: where RGBR gains | " + " | ".join(runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for street in ("preflop", "flop", "turn", "river"):
        cells = [results[label]["last"]["by_street"][street] for label in runs]
        shown = " | ".join(f"{c['mean']:+.1f} ± {c['ci95']:.1f}" for c in cells)
        print(f"| {street} | {shown} |")
    print()
    print("| row beats column (mbb/hand) | " + " | ".join(runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for a in runs:
        cells = [
            "" if a == b else f"{cross[a][b]['mean']:+.1f} ± {cross[a][b]['ci95']:.1f}"
            for b in runs
        ]
        print(f"| {a} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
