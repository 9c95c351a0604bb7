import sys

from holdemctl.cli import main

sys.exit(main())
