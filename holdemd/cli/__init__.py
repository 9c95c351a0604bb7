"""The ``holdemd`` command: train, serve, evaluate, look up and export strategies.

One module per subcommand (``train``, ``serve``, ``evaluate``, ``strategy``, ``tree``,
``buckets``, ``blueprint``, ``keys``), each with ``add_parser`` and its handlers; argparse stops here, the library
packages never see a Namespace. This is the process edge: a `HoldemdError` becomes one line on
stderr and its exit code; only a bug shows a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from holdemd import __version__
from holdemd.cli import blueprint, buckets, evaluate, keys, node, serve, strategy, train, tree
from holdemd.cli.common import WholeNamesParser
from holdemd.errors import ExitCode, HoldemdError


def build_parser() -> WholeNamesParser:
    parser = WholeNamesParser(
        prog="holdemd",
        description="Train poker blueprint strategies with external-sampling MCCFR.",
    )
    parser.add_argument("--version", action="version", version=f"holdemd {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (train, serve, node, keys, evaluate, tree, buckets, strategy, blueprint):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except HoldemdError as exc:
        print(f"holdemd: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("holdemd: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
