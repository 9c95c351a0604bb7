"""The iproute2 commands the namespace harness runs (``ip``, ``tc``), and their one-line errors."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence

from holdemd.errors import HoldemdError


class NetnsError(HoldemdError):
    """A namespace command failed or was misused: the message names it and what to do."""


def ip_batch(netns: str | None, lines: Sequence[str]) -> None:
    """Run ``ip`` commands in one process (``ip -batch``), inside ``netns`` if given."""
    where = ["-n", netns] if netns is not None else []
    check(["ip", *where, "-batch", "-"], "\n".join(lines) + "\n", "; ".join(lines))


def tc(netns: str, command: str) -> str:
    """``tc -n NETNS COMMAND``; its output."""
    return check(["tc", "-n", netns, *command.split()], None, command)


def qdiscs(netns: str, device: str) -> str:
    """``tc qdisc show dev DEVICE`` inside ``netns``."""
    return tc(netns, f"qdisc show dev {device}")


def rate_bits(rate: str) -> int:
    """Bits per second of a tc rate in bits (``1gbit``, ``250mbit``, ``64kbit``, ``9600bit``).
    tc's byte units (``mbps`` is megabytes per second) are refused rather than misread."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kmg]?)bit", rate.strip().lower())
    if match is None:
        raise NetnsError(f"netns: rate {rate!r}: use a number and bit, kbit, mbit or gbit")
    return int(float(match[1]) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}[match[2]])


def check(argv: list[str], input: str | None, what: str) -> str:
    """Run ``argv``; its output, or NetnsError naming ``what`` and the last line it printed."""
    done = subprocess.run(argv, input=input, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise NetnsError(f"netns: `{argv[0]} {what}` failed: {last}")
    return done.stdout
