"""``holdemd keys init|list``: the CURVE keys of a run over several hosts (holdemd/hosts/keys.py
has the layout)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holdemd.errors import ExitCode

if TYPE_CHECKING:  # imported when the command runs: `holdemd --help` must not load zmq
    from holdemd.hosts.keys import KeyEntry


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``keys`` (with ``init`` and ``list``) on the ``holdemd`` subparsers."""
    keys = subparsers.add_parser(
        "keys",
        help="make and list the CURVE keys of a run over several hosts",
        description="CURVE keys for a run over several hosts (holdemd train --listen/--keys, "
        "holdemd node --keys). One directory holds head.key and head.key_secret (the head's "
        "pair) and NAME.key and NAME.key_secret per host. The head keeps head.key_secret and "
        "every NAME.key (the hosts it accepts); host NAME gets head.key and NAME.key_secret.",
    )
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    init = actions.add_parser(
        "init",
        help="make the head's key pair and one per host (keeps existing keys)",
        description="Make DIR (mode 0700) with the head's key pair and one pair per named "
        "host; secret files are mode 0600. A name that already has keys keeps them: run it "
        "again with new names to add hosts. No file is ever replaced.",
    )
    init.add_argument("directory", type=Path, metavar="DIR", help="the key directory")
    init.add_argument(
        "--hosts", nargs="+", default=[], metavar="NAME", help="the hosts that run holdemd node"
    )
    init.set_defaults(handler=cmd_keys_init)

    listing = actions.add_parser(
        "list",
        help="show the keys in a key directory and where each file goes",
        description="Print every name with a key in DIR, its public key and its files, and "
        "(in the head's directory) which files go to which machine.",
    )
    listing.add_argument("directory", type=Path, metavar="DIR", help="the key directory")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(handler=cmd_keys_list)
    return keys


def cmd_keys_init(args: argparse.Namespace) -> int:
    from holdemd.hosts.keys import init_keys, list_keys

    result = init_keys(args.directory, args.hosts)
    made = ", ".join(result.made) or "nothing"
    kept = f"; kept {', '.join(result.kept)} (they had keys)" if result.kept else ""
    print(f"{result.directory}: made keys for {made}{kept}")
    _print_entries(args.directory, list_keys(args.directory))
    return ExitCode.OK


def cmd_keys_list(args: argparse.Namespace) -> int:
    from holdemd.hosts.keys import list_keys

    entries = list_keys(args.directory)
    if args.json:
        print(json.dumps({"directory": str(args.directory), "keys": _as_json(entries)}, indent=2))
        return ExitCode.OK
    print(f"{args.directory}:")
    _print_entries(args.directory, entries)
    return ExitCode.OK


def _as_json(entries: list[KeyEntry]) -> list[dict[str, Any]]:
    return [{"name": e.name, "public": e.public.decode("ascii"), "files": e.files} for e in entries]


def _print_entries(directory: Path, entries: list[KeyEntry]) -> None:
    width = max((len(e.name) for e in entries), default=0)
    for entry in entries:
        print(f"  {entry.name:<{width}}  {entry.public.decode('ascii')}  {' '.join(entry.files)}")
    head = next((e for e in entries if e.is_head), None)
    if head is None or not head.has_secret_file:
        return  # a node's directory: nothing to hand out from here
    hosts = [e for e in entries if not e.is_head]
    accepted = " ".join(e.public_file for e in hosts if e.has_public_file)
    print("Where the files go (secret files mode 0600, on each machine e.g. in /etc/holdemd/keys):")
    print(f"  the head keeps  {head.secret_file} {accepted or '(no hosts yet)'}")
    for entry in hosts:
        if entry.has_secret_file:
            secret = entry.secret_file
            print(
                f"  host {entry.name:<{width}}  gets {head.public_file} {secret} (then delete "
                f"{secret} here)"
            )
        else:
            print(f"  host {entry.name:<{width}}  gets {head.public_file} (its secret is not here)")
        if not entry.has_public_file:
            print(f"  note: no {entry.public_file} here: the head refuses host {entry.name}")
    print(
        f"Run a node with: holdemd node --connect tcp://HEAD:PORT --keys DIR --name NAME "
        f"(the head: holdemd train ... --listen tcp://ADDR:PORT --keys {directory})"
    )
