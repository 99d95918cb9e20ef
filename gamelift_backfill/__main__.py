"""``python -m gamelift_backfill``: the command line of gamelift_backfill/cli.py."""

from __future__ import annotations

import sys

from gamelift_backfill.cli import main

if __name__ == "__main__":
    sys.exit(main())
