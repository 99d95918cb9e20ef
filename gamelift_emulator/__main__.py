"""``python -m gamelift_emulator``: serve a local GameLift until SIGINT/SIGTERM.

The first line of stdout is the endpoint URL (``http://127.0.0.1:PORT``), flushed, so
a parent process can start it with ``--port 0`` and read where it listens. Exits 0 on
SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from gamelift_emulator.server import Emulator
from gamelift_emulator.sigv4 import DEFAULT_ACCOUNT_ID


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve, and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m gamelift_emulator", description="Local GameLift FlexMatch emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--region", default="us-east-1", help="default region of control calls")
    parser.add_argument("--access-key", default="test", help="accepted access key (test)")
    parser.add_argument("--secret-key", default="test", help="its secret key (test)")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID, help="its account id")
    parser.add_argument("--log-level", default="WARNING", help="logging level (stderr)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    credentials = {args.access_key: (args.secret_key, args.account_id)}
    with Emulator(
        host=args.host, port=args.port, region=args.region, credentials=credentials
    ) as emulator:
        print(emulator.endpoint_url, flush=True)
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
