"""``python -m gamelift_emulator``: serve a local GameLift until SIGINT/SIGTERM.

The first line of stdout is the endpoint URL (``http://127.0.0.1:PORT``), flushed, so
a parent process can start it with ``--port 0`` and read where it listens. Exits 0 on
SIGINT or SIGTERM.

Settings given here (``--auto-backfill-delay-ms``, ``--auto-backfill-delay-jitter-ms``,
``--seed``) are the emulator's initial settings: ``POST /_emulator/reset`` restores them.
They are validated as ``POST /_emulator/settings`` validates them; a bad value exits 2
with a message naming the option and the setting.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from gamelift_emulator.exceptions import InvalidRequestException
from gamelift_emulator.server import Emulator
from gamelift_emulator.settings import EmulatorSettings, validated_changes
from gamelift_emulator.sigv4 import DEFAULT_ACCOUNT_ID

# Command-line options that set a field of ``EmulatorSettings``: option -> (field, help).
SETTING_OPTIONS: dict[str, tuple[str, str]] = {
    "--auto-backfill-delay-ms": (
        "auto_backfill_delay_ms",
        "delay before a session's replacement automatic backfill ticket starts, after its "
        "ticket ended on its own (default 0: at once; AWS documents no delay)",
    ),
    "--auto-backfill-delay-jitter-ms": (
        "auto_backfill_delay_jitter_ms",
        "a random part added to that delay, uniform in [0, this], seeded by --seed (default 0)",
    ),
    "--seed": ("seed", "seed of match, session and event IDs and of the random delays (default 0)"),
}


def _setting(name: str) -> Callable[[str], object]:
    """An argparse type: the text as setting ``name`` holds it, checked as the control API
    checks it (the message names the setting)."""

    def parse(text: str) -> object:
        value: object
        try:
            value = float(text)
        except ValueError:
            value = text
        try:
            return validated_changes({name: value})[name]
        except InvalidRequestException as error:
            raise argparse.ArgumentTypeError(error.message) from None

    return parse


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
    for option, (name, text) in SETTING_OPTIONS.items():
        metavar = "MS" if name.endswith("_ms") else "N"
        parser.add_argument(option, dest=name, type=_setting(name), metavar=metavar, help=text)
    args = parser.parse_args(argv)
    given = {name: getattr(args, name) for name, _ in SETTING_OPTIONS.values()}
    settings = EmulatorSettings(**{k: v for k, v in given.items() if v is not None})
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    credentials = {args.access_key: (args.secret_key, args.account_id)}
    with Emulator(
        host=args.host,
        port=args.port,
        region=args.region,
        credentials=credentials,
        settings=settings,
    ) as emulator:
        print(emulator.endpoint_url, flush=True)
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
