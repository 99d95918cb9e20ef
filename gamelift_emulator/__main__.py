"""``python -m gamelift_emulator``: serve a local GameLift until SIGINT/SIGTERM.

The first line of stdout is the endpoint URL (``http://127.0.0.1:PORT``), flushed, so
a parent process can start it with ``--port 0`` and read where it listens. Exits 0 on
SIGINT or SIGTERM.

Every setting of ``settings.EmulatorSettings`` is an option (``--auto-backfill-delay-ms``,
``--auto-backfill-delay-jitter-ms``, ``--seed``, ``--stop-delay-ms``, ...), derived from
its declaration; those given are the emulator's initial settings:
``POST /_emulator/reset`` restores them.
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
from gamelift_emulator.settings import (
    EmulatorSettings,
    describe,
    option_name,
    parse_text,
    setting_names,
)
from gamelift_emulator.sigv4 import DEFAULT_ACCOUNT_ID


def _setting(name: str) -> Callable[[str], object]:
    """An argparse type: the text as setting ``name`` holds it, checked as the control API
    checks it (the message names the setting)."""

    def parse(text: str) -> object:
        try:
            return parse_text(name, text)
        except InvalidRequestException as error:
            raise argparse.ArgumentTypeError(error.message) from None

    return parse


def _metavar(name: str) -> str:
    if isinstance(getattr(EmulatorSettings(), name), bool):
        return "true|false"
    return {"_ms": "MS", "_s": "S"}.get(name[name.rfind("_") :], "N")


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per field of ``EmulatorSettings`` (``--stop-delay-ms`` sets
    ``stop_delay_ms``), its help the setting's description."""
    for name in setting_names():
        default = getattr(EmulatorSettings(), name)
        parser.add_argument(
            option_name(name),
            dest=name,
            type=_setting(name),
            metavar=_metavar(name),
            help=f"{describe(name)} (default {str(default).lower()})",
        )


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
    add_setting_options(parser)
    args = parser.parse_args(argv)
    given = {name: getattr(args, name) for name in setting_names()}
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
