"""``holdemd buckets build|info``: build a preset's bucket tables, or describe a bundle.

Wired into ``holdemd.cli`` with :func:`add_buckets_parser`; handlers return an exit code and
let :class:`~holdemd.abstraction.AbstractionError` reach the process edge, which prints it as
one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from holdemd.durations import format_bytes, format_duration


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``buckets`` (with ``build`` and ``info``) on an argparse subparsers object."""
    from holdemd.abstraction.presets import PRESETS

    presets = ", ".join(f"{p.name} = {'/'.join(map(str, p.counts))}" for p in PRESETS.values())
    buckets = subparsers.add_parser(
        "buckets",
        help="build or inspect card abstractions (hand buckets per street)",
        description=f"Card abstractions: bucket tables per street. Presets: {presets}.",
    )
    actions = buckets.add_subparsers(dest="buckets_command", metavar="ACTION", required=True)

    build = actions.add_parser(
        "build",
        help="build a preset's bucket tables (all cores, progress on stderr)",
        description="Build a preset: flop/turn EMD clustering of equity distributions, river "
        "equity quantiles. Writes FILE.npz and FILE.json (the manifest); the river table goes "
        "to the cache directory. "
        + "; ".join(f"{p.name}: {p.budget}" for p in PRESETS.values())
        + ".",
    )
    build.add_argument("--preset", required=True, choices=sorted(PRESETS), help="what to build")
    build.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="bundle to write (default: <cache>/<preset>.npz, where the preset name finds it)",
    )
    build.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (0)")
    build.add_argument(
        "--threads", type=int, metavar="N", help="threads to use (default: all cores)"
    )
    build.add_argument("--quiet", action="store_true", help="no progress lines")
    build.add_argument("--json", action="store_true", help="print the manifest as JSON")
    build.set_defaults(handler=cmd_buckets_build)

    info = actions.add_parser(
        "info",
        help="verify a bucket bundle and print its counts, digest and sizes",
        description="Load a bundle (a preset name or a path to a .npz), verify it, and print "
        "its manifest summary. Builds the river table on first use.",
    )
    info.add_argument("spec", metavar="SPEC", help="preset name (quick, mid) or path to a .npz")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    info.set_defaults(handler=cmd_buckets_info)
    return buckets


def cmd_buckets_build(args: argparse.Namespace) -> int:
    from holdemd.abstraction.build import build_abstraction

    abstraction = build_abstraction(
        args.preset, out=args.out, seed=args.seed, threads=args.threads, progress=not args.quiet
    )
    _print(abstraction.manifest, as_json=args.json)
    return 0


def cmd_buckets_info(args: argparse.Namespace) -> int:
    from holdemd.abstraction.load import load_abstraction

    abstraction = load_abstraction(args.spec)
    _print(abstraction.manifest, as_json=args.json)
    return 0


def _print(manifest: dict[str, Any], *, as_json: bool) -> None:
    from holdemd.abstraction.model import STREETS

    if as_json:
        json.dump(manifest, sys.stdout, indent=2, sort_keys=True)
        print()
        return
    file = Path(str(manifest.get("file", "")))
    tables = manifest.get("tables", {})
    lines = [
        f"file:     {file}" + (f" ({format_bytes(file.stat().st_size)})" if file.is_file() else ""),
        f"preset:   {manifest.get('preset')}   seed: {manifest.get('seed')}",
        f"counts:   {'/'.join(map(str, manifest.get('counts', [])))} (preflop/flop/turn/river)",
        f"digest:   {manifest.get('digest')}",
        f"method:   {manifest.get('method')}",
        f"built:    {manifest.get('created')} by holdemd {manifest.get('package_version')} in "
        f"{format_duration(float(manifest.get('build_seconds', 0)))}, peak memory "
        f"{format_bytes(float(manifest.get('peak_rss_bytes', 0)))}, "
        f"{manifest.get('threads')} threads",
    ]
    for street in STREETS:
        entry = tables.get(street)
        if isinstance(entry, dict):
            size = int(entry.get("entries", 0)) * (2 if entry.get("dtype") == "uint16" else 1)
            lines.append(
                f"{street + ':':9} {int(entry.get('entries', 0)):>11,} entries "
                f"{entry.get('dtype')} ({format_bytes(size)})"
            )
    print("\n".join(lines))
