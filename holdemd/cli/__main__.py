"""``python -m holdemd.cli``: the same as the ``holdemd`` command."""

import sys

from holdemd.cli import main

sys.exit(main())
