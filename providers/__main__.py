"""``python -m providers``: the command line of providers/cli.py (CONTRACT)."""

from __future__ import annotations

import sys

from providers.cli import main

if __name__ == "__main__":
    sys.exit(main())
