"""Two hosts against one: one head worker + one node worker across a 1 Gbit/s link, against two
workers on one host, same training time.

Each round runs, in network namespaces (``tests/hosts/netns.py``):

* **one host**: ``holdemd train --num-workers 2`` on host ``head``;
* **two hosts**: ``holdemd train --num-workers 1 --listen ...`` on ``head`` and
  ``holdemd node --num-workers 1`` on ``n1``, the link between them shaped to ``--rate``
  (tc tbf both ways);

both with ``--time-budget`` seconds of training (the budget starts with the head's first
worker; the node's worker joins within a second on a warm kernel cache). It prints each run's
iterations/s, the ratio two-hosts/one-host per round and its median, and the node's traffic
each way (bytes per second, from the head's status.json). Rounds alternate the two setups,
as absolute speeds drift up to 2x between runs here.

Needs root and iproute2; exits 2 with the reason where namespaces are unavailable.

Run: .venv/bin/python bench/bench_multihost.py [--configs hunl_quick hunl_mid] [--seconds 60]
     [--rounds 2] [--rate 1gbit]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from holdemd.hosts.keys import init_keys  # noqa: E402
from tests.hosts.netns import Hosts, unavailable  # noqa: E402

PORT = 5555
TRAINED = re.compile(r"trained \S+: ([0-9,]+) iterations in ([0-9.]+) s")


def holdemd(*args: str) -> list[str]:
    return [sys.executable, "-m", "holdemd.cli", *args]


def rate_of(output: str) -> float:
    found = TRAINED.findall(output)
    if not found:
        raise SystemExit(f"no result line in the run's output:\n{output[-2000:]}")
    iterations, seconds = found[-1]
    return int(iterations.replace(",", "")) / float(seconds)


def one_host(hosts: Hosts, config: Path, seconds: int, work: Path) -> float:
    done = hosts.run(
        "head",
        holdemd(
            "train",
            "--config",
            str(config),
            "--num-workers",
            "2",
            "--iterations",
            "0",
            "--time-budget",
            f"{seconds}s",
            "--logdir",
            str(work / "one"),
        ),
        timeout=seconds + 600,
    )
    return rate_of(done.stdout + done.stderr)


def two_hosts(
    hosts: Hosts, config: Path, seconds: int, work: Path, keys: Path
) -> tuple[float, dict[str, float]]:
    url = f"tcp://{hosts.address('head')}:{PORT}"
    run_dir = work / "two"
    node = hosts.spawn(
        "n1",
        holdemd(
            "node",
            "--connect",
            url,
            "--keys",
            str(keys),
            "--name",
            "n1",
            "--num-workers",
            "1",
            "--once",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    done = hosts.run(
        "head",
        holdemd(
            "train",
            "--config",
            str(config),
            "--num-workers",
            "1",
            "--iterations",
            "0",
            "--time-budget",
            f"{seconds}s",
            "--listen",
            url,
            "--keys",
            str(keys),
            "--logdir",
            str(run_dir),
        ),
        timeout=seconds + 600,
    )
    node.wait(timeout=120)
    status = json.loads((run_dir / "status.json").read_text())
    host = status["hosts"][0]
    elapsed = status["elapsed_s"]
    traffic = {
        "node->head MB/s": host["bytes_in"] / elapsed / 1e6,
        "head->node MB/s": host["bytes_out"] / elapsed / 1e6,
        "node share": host["iterations"] / max(status["iterations"], 1),
    }
    return rate_of(done.stdout + done.stderr), traffic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["hunl_quick", "hunl_mid"])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", default="1gbit")
    args = parser.parse_args()
    reason = unavailable()
    if reason is not None:
        print(f"bench_multihost: {reason}", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="bench-multihost-") as tmp,
        Hosts(["head", "n1"]) as hosts,
    ):
        work = Path(tmp)
        keys = work / "keys"
        init_keys(keys, ["n1"])
        hosts.shape("n1", args.rate)
        print(f"link head <-> n1 shaped to {args.rate} (tc tbf both ways); {args.seconds} s runs")
        for name in args.configs:
            config = ROOT / "configs" / f"{name}.yaml"
            one_host(hosts, config, 5, work / f"warm-{name}")  # the game cache and kernels warm
            ratios = []
            for round_ in range(args.rounds):
                started = time.monotonic()
                single = one_host(hosts, config, args.seconds, work / f"{name}-{round_}")
                multi, traffic = two_hosts(
                    hosts, config, args.seconds, work / f"{name}-{round_}", keys
                )
                ratios.append(multi / single)
                shown = ", ".join(f"{k} {v:.2f}" for k, v in traffic.items())
                print(
                    f"{name} round {round_ + 1}: one host {single:,.0f} it/s, two hosts "
                    f"{multi:,.0f} it/s, ratio {multi / single:.3f}; {shown} "
                    f"({time.monotonic() - started:.0f} s)",
                    flush=True,
                )
            print(
                f"{name}: two hosts / one host, median of {len(ratios)}: "
                f"{statistics.median(ratios):.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
