"""``python -m providers`` (CONTRACT): the same command line as ``gamelift-backfill``."""

import sys

from gamelift_backfill.cli import main

if __name__ == "__main__":
    sys.exit(main())
