"""One look-up over HTTP: the strategy service on loopback under 200 concurrent clients,
against the same look-up in process, measured in one run.

It starts ``holdemd blueprint serve FILE --listen 127.0.0.1:0`` (the real command, one process)
and drives it with 200 keep-alive connections, each asking ``/v1/strategy`` about random
decisions, from wrk (a compiled load generator, ``apt install wrk``; used when on PATH, see
`drive_wrk`) or from this process (asyncio streams, requests prepared in advance; ``--client
python``, see `drive`):

* one client: one connection, a request as soon as the last is answered: the floor;
* saturated: every client sends its next request as soon as its answer arrives, so the
  service is never idle: the most requests/s it answers, and what 200 queued clients wait;
* the service's CPU time per request (user + system, from ``/proc``), which other load on the
  machine does not inflate as it does latencies: what one free core could answer;
* paced: the clients together offer ``--rate`` requests/s: p50 and p99 latency to the whole
  answer read. Target: p99 <= 2 ms. wrk: from the send, each client thinking an exponential
  time between answer and next request (Poisson arrivals); Python: from the *scheduled* send
  (each client on its own fixed schedule, so a late client counts its wait) and from the
  actual send, the difference being the Python client's own lateness.

The reference is ``Blueprint.strategy`` in this process (warm, the same decisions), and the
ratios say what HTTP, JSON and the event loop add. Both processes share this machine's cores
(2 here): the client's own work is in the figures. Absolute figures vary up to 2x on a shared
machine; the ratios are measured in the same run.

Run: .venv/bin/python bench/bench_blueprint_http.py FILE [--clients 200] [--rates 1000,2000,4000]
     [--seconds 5] [--decisions 1000] [--client auto|wrk|python] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np

from holdemd import Blueprint

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.bench_blueprint import random_decisions  # noqa: E402

TARGET_P99_MS = 2.0


def requests_for(blueprint: Blueprint, count: int, port: int) -> list[bytes]:
    out = []
    for hand, board, history in random_decisions(blueprint, count, seed=1):
        query = urlencode({"hand": hand, "board": board, "history": history}, quote_via=quote)
        out.append(f"GET /v1/strategy?{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    return out


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"the service answered {head[:40]!r}")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    await reader.readexactly(length)


async def drive(
    port: int, requests: list[bytes], clients: int, seconds: float, rate: float | None
) -> tuple[list[float], list[float], float]:
    """(latencies from the scheduled send, latencies from the actual send, in seconds;
    requests/s): ``clients`` connections for ``seconds``, each as fast as it can (``rate``
    None) or on a schedule adding up to ``rate`` requests/s.

    The two latencies differ by how late the client itself sends: asyncio wakes a sleeping
    client on a millisecond-rounded epoll timeout, and the clients share the machine's cores,
    so part of the scheduled latency is the client's. A service that falls behind shows in
    both (a client's next request waits for its last answer)."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    for reader, writer in connections:  # every connection warm before the clock starts
        await ask(reader, writer, requests[0])
    latencies: list[float] = []
    answers: list[float] = []
    clock = time.perf_counter
    start = clock() + 0.05
    end = start + seconds

    async def client(k: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        picker = random.Random(k)
        interval = clients / rate if rate else 0.0
        due = start + picker.random() * interval
        while True:
            now = clock()
            if rate:
                if due > now:
                    await asyncio.sleep(due - now)
                sent = due
                due += interval
            else:
                sent = now
            if sent >= end:
                return
            actual = clock()
            await ask(reader, writer, requests[picker.randrange(len(requests))])
            done = clock()
            latencies.append(done - sent)
            answers.append(done - actual)

    await asyncio.sleep(max(0.0, start - clock()))
    await asyncio.gather(*(client(k, r, w) for k, (r, w) in enumerate(connections)))
    elapsed = clock() - start
    for _, writer in connections:
        writer.close()
    return latencies, answers, len(latencies) / elapsed


WRK_SCRIPT = """
local answers = 0
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
delay = function()  -- think time, exponential: independent clients add up to Poisson arrivals
  if think_ms <= 0 then return 0 end
  return math.floor(-think_ms * math.log(1 - math.random()) + 0.5)
end
done = function(summary, latency, requests)
  io.write(string.format("WRK %d %f %d %d %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), summary.errors.status))
end
"""


def drive_wrk(
    port: int, requests: list[bytes], clients: int, seconds: float, rate: float | None
) -> tuple[float, float, float, int]:
    """(p50 ms, p99 ms, requests/s, answers) from wrk, a compiled load generator: ``clients``
    keep-alive connections, each sending as soon as its last answer arrives (``rate`` None) or
    after an exponential think time averaging ``clients / rate`` seconds, so together they
    offer about ``rate`` requests/s in Poisson arrivals (as many independent bots would).

    Latency is from the send to the whole answer; wrk's timers tick in whole milliseconds, far
    below the think times, so the offered rate is what was asked. wrk costs a fraction of the
    Python client's CPU per request, which matters on a 2-core machine where it shares the
    cores with the service."""
    paths = [r.split(b" ", 2)[1].decode() for r in requests]
    think_ms = clients / rate * 1000 if rate else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paced.lua"
        listed = ",\n".join(json.dumps(p) for p in paths)
        script.write_text(f"paths = {{\n{listed}\n}}\nthink_ms = {think_ms}\n{WRK_SCRIPT}")
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{clients}",
                f"-d{seconds:g}s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found = re.search(r"^WRK (\d+) ([\d.]+) (\d+) (\d+) (\d+)$", out, re.M)
    if not found:
        raise SystemExit(f"wrk printed no figures: {out[-300:]!r}")
    answers, duration, p50_us, p99_us, bad = found.groups()
    if int(bad):
        raise SystemExit(f"wrk: {bad} answers were not 2xx/3xx")
    return int(p50_us) / 1e3, int(p99_us) / 1e3, int(answers) / float(duration), int(answers)


def in_process_us(blueprint: Blueprint, count: int) -> float:
    """Mean microseconds of ``Blueprint.strategy`` over ``count`` random decisions, warm."""
    decisions = random_decisions(blueprint, count, seed=1)
    for hand, board, history in decisions:
        blueprint.strategy(hand, board, history)
    passes = []
    for _ in range(3):
        begin = time.perf_counter()
        for hand, board, history in decisions:
            blueprint.strategy(hand, board, history)
        passes.append((time.perf_counter() - begin) / count)
    return statistics.median(passes) * 1e6


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_service(path: Path) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "holdemd.cli", "blueprint", "serve", str(path)]
    process = subprocess.Popen(
        [*command, "--listen", "127.0.0.1:0", "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        process.kill()
        raise SystemExit(f"the service did not start: {line!r}")
    return process, int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="a blueprint file (holdemd blueprint export)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rates", default="1000,2000,4000", help="paced runs, requests/s")
    parser.add_argument("--seconds", type=float, default=5.0, help="per run")
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="the load generator: wrk (apt install wrk; auto when on PATH) or asyncio here",
    )
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--client wrk: wrk is not on PATH; install it (apt install wrk)")
    blueprint = Blueprint.open(args.file).preload()
    figures: dict[str, Any] = {"clients": args.clients, "client": client, "runs": []}
    figures["lookup_us"] = in_process_us(blueprint, args.decisions)
    figures["load"] = os.getloadavg()[0]
    figures["cores"] = os.cpu_count()
    process, port = start_service(args.file)
    try:
        requests = requests_for(blueprint, args.decisions, port)
        runs: list[tuple[str, int, float | None]] = [
            ("one client", 1, None),
            ("saturated", args.clients, None),
        ]
        runs += [(f"paced {int(r):,}/s", args.clients, float(r)) for r in args.rates.split(",")]
        for name, clients, rate in runs:
            cpu = cpu_seconds(process.pid)
            if figures["client"] == "wrk":
                p50, p99, per_second, answered = drive_wrk(
                    port, requests, clients, args.seconds, rate
                )
                answer_p99 = p99  # wrk times from the send it made
            else:
                latencies, answers, per_second = asyncio.run(
                    drive(port, requests, clients, args.seconds, rate)
                )
                answered = len(latencies)
                p50, p99 = (float(np.percentile(latencies, q)) * 1e3 for q in (50, 99))
                answer_p99 = float(np.percentile(answers, 99)) * 1e3
            cpu_us = (cpu_seconds(process.pid) - cpu) / answered * 1e6
            figures["runs"].append(
                {
                    "run": name,
                    "clients": clients,
                    "rate": rate,
                    "per_second": per_second,
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "answer_p99_ms": answer_p99,
                    "service_cpu_us": cpu_us,
                }
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    _print(figures, args.file)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _print(f: dict[str, Any], path: Path) -> None:
    lookup = f["lookup_us"]
    print(
        f"strategy service over HTTP ({path.name}): {f['clients']} concurrent keep-alive "
        f"clients on loopback, one service process, the clients in another ({f['client']})"
    )
    print(f"  in process    Blueprint.strategy {lookup:7.1f} us (the reference)")
    print(f"  machine       load average {f['load']:.2f} before the run, {f['cores']} cores")
    for run in f["runs"]:
        ok = run["p99_ms"] <= TARGET_P99_MS
        target = (
            "" if run["rate"] is None else f"   target p99 <= 2 ms: {'met' if ok else 'NOT met'}"
        )
        print(
            f"  {run['run']:<14}{run['per_second']:7,.0f} req/s answered; p50 "
            f"{run['p50_ms']:6.2f} ms, p99 {run['p99_ms']:6.2f} ms (p50 = "
            f"{run['p50_ms'] * 1e3 / lookup:,.0f}x the in-process look-up){target}"
        )
        print(f"  {'':<14}from the actual send: p99 {run['answer_p99_ms']:6.2f} ms")
    saturated = f["runs"][1]
    cpu = saturated["service_cpu_us"]
    print(
        f"  per request   {cpu:7.1f} us of the service's CPU (user + system) at saturation = "
        f"{cpu / lookup:.1f}x the in-process look-up: one free core answers ~{1e6 / cpu:,.0f}/s"
    )


if __name__ == "__main__":
    main()
