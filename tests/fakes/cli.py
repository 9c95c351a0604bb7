"""``holdemd`` with a fake worker: ``python tests/fakes/cli.py WORKER-ARGS -- HOLDEMD-ARGS``.

Runs ``holdemd.cli.main`` with the runs it plans using the fake worker with WORKER-ARGS (e.g.
``--fault raise --after -1``), so the command line's handling of a worker failure is tested
end to end without a fault hook in the real worker.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from holdemd import cli
from holdemd.training import plan as run_setup
from tests.fakes import worker


def main() -> int:
    split = sys.argv.index("--")
    fake, argv = sys.argv[1:split], sys.argv[split + 1 :]
    real = run_setup.RunOptions

    def with_fake_workers(**kwargs: Any) -> run_setup.RunOptions:
        return real(worker_command=worker.command(*fake), **kwargs)

    run_setup.RunOptions = with_fake_workers  # type: ignore[misc,assignment]
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
