"""The namespace harness's own costs and its shaped link: is a "1 Gbit/s" link one?

Measures, on this machine:

* the time to build and to remove three hosts (``tests/hosts/netns.py``: a bridge namespace, a
  namespace per host, veth pairs, addresses), median and worst of ``--repeats``;
* the throughput of one plain TCP transfer (``--seconds`` long, 1 MiB writes) between two
  hosts, each way, on the bare veth link and then with ``Hosts.shape(rate)`` (tc tbf on both
  directions), and the ratios shaped/nominal and unshaped/shaped (how much the shaping holds
  back). A working shaper gives shaped/nominal about 0.95: tbf meters whole Ethernet frames,
  and a 1514-byte frame carries 1448 bytes of TCP payload (0.956 of the rate at best).

Needs root and iproute2 (as the tests do); exits 2 with the reason where namespaces are
unavailable.

Run: .venv/bin/python bench/bench_netns_link.py [--seconds 3] [--rate 1gbit] [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hosts.netns import Hosts, unavailable  # noqa: E402
from tests.hosts.netns_tools import rate_bits  # noqa: E402

PORT = 7701
CHUNK = 1 << 20


def receive(port: int) -> None:
    """Accept one connection, read it to the end; print bytes and seconds from the first byte."""
    with socket.create_server(("0.0.0.0", port)) as server:
        print("ready", flush=True)
        conn, _ = server.accept()
        buffer = bytearray(CHUNK)
        received, first = 0, 0.0
        with conn:
            while count := conn.recv_into(buffer):
                if received == 0:
                    first = time.perf_counter()
                received += count
        print(json.dumps({"bytes": received, "seconds": time.perf_counter() - first}))


def send(address: str, port: int, seconds: float) -> None:
    """Write 1 MiB blocks to ``address`` for ``seconds``."""
    block = memoryview(bytes(CHUNK))
    with socket.create_connection((address, port), timeout=30) as conn:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            conn.sendall(block)


def transfer(hosts: Hosts, sender: str, receiver: str, seconds: float) -> float:
    """Bits per second of one TCP transfer from ``sender`` to ``receiver``."""
    argv = [sys.executable, __file__, "--receive", str(PORT)]
    server = hosts.spawn(receiver, argv, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    if server.stdout.readline() != "ready\n":
        raise SystemExit(f"bench_netns_link: the receiver on {receiver} did not start")
    argv = [sys.executable, __file__, "--send", hosts.address(receiver), str(PORT), str(seconds)]
    hosts.run(sender, argv, timeout=seconds + 30, check=True)
    result = json.loads(server.stdout.readline())
    server.wait(10)
    server.stdout.close()
    return 8 * result["bytes"] / result["seconds"]


def build_times(repeats: int) -> tuple[list[float], list[float]]:
    """Seconds to build and to remove 3 hosts, ``repeats`` times back to back."""
    up, down = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        hosts = Hosts(["head", "n1", "n2"]).start()
        t1 = time.perf_counter()
        hosts.close()
        up.append(t1 - t0)
        down.append(time.perf_counter() - t1)
    return up, down


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each transfer")
    parser.add_argument("--rate", default="1gbit", help="the shaped link's rate (tc units)")
    parser.add_argument("--repeats", type=int, default=10, help="builds of 3 hosts to time")
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--send", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive is not None:
        receive(args.receive)
        return 0
    if args.send is not None:
        send(args.send[0], int(args.send[1]), float(args.send[2]))
        return 0

    reason = unavailable()
    if reason is not None:
        print(f"bench_netns_link: skipped: {reason}")
        return 2

    up, down = build_times(args.repeats)
    print(
        f"3 hosts, {args.repeats} builds: set up median {1e3 * statistics.median(up):.1f} ms "
        f"(max {1e3 * max(up):.1f}), torn down median {1e3 * statistics.median(down):.1f} ms "
        f"(max {1e3 * max(down):.1f})"
    )

    nominal = rate_bits(args.rate)
    with Hosts(["head", "n1"]) as hosts:
        bare = {
            way: transfer(hosts, *way, args.seconds) for way in [("n1", "head"), ("head", "n1")]
        }
        hosts.shape("n1", args.rate)
        shaped = {way: transfer(hosts, *way, args.seconds) for way in bare}
        qdisc = hosts.qdiscs("n1")[0].strip()
    print(f"shaping: {qdisc} (on n1's eth0 and on its switch port)")
    print(
        f"{'direction':<12} {'unshaped Gbit/s':>16} {'shaped Gbit/s':>14} "
        f"{'shaped/nominal':>15} {'unshaped/shaped':>16}"
    )
    for way in bare:
        print(
            f"{'->'.join(way):<12} {bare[way] / 1e9:>16.2f} {shaped[way] / 1e9:>14.3f} "
            f"{shaped[way] / nominal:>15.3f} {bare[way] / shaped[way]:>16.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
