"""``python -m holdemctl``: the same as the ``holdemctl`` command."""

import sys

from holdemctl.cli import main

if __name__ == "__main__":
    sys.exit(main())
