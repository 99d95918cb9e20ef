"""An AWS environment isolated from this machine's own AWS setup.

A developer's ``AWS_PROFILE``, region, endpoint or retry settings must never leak into a test,
a benchmark or the demo: region and endpoint resolution would change, or real credentials
would be used. So every ``AWS_*`` variable is removed (not a list of known ones: botocore
reads new ones every release), the emulator's credentials ``test``/``test`` are set (from the
standard chain, as in production), the shared config files point at nothing, and the
instance metadata lookup is off (it would wait for a network timeout).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

ACCESS_KEY = "test"
SECRET_KEY = "test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
"""The emulator's default credentials, as environment variables."""


def isolated_variables() -> dict[str, str]:
    """The AWS variables of an isolated environment (everything else ``AWS_*`` is unset)."""
    return {
        **CREDENTIALS,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def isolated_environ(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (default: this process's environment) with its AWS setup replaced: for a
    subprocess (plugin, CLI, emulator). ``extra`` is added last (e.g. ``AWS_RETRY_MODE``)."""
    source = os.environ if base is None else base
    env = {name: value for name, value in source.items() if not name.startswith("AWS_")}
    env.update(isolated_variables())
    env.update(extra)
    return env


@contextmanager
def isolated_aws_env() -> Iterator[None]:
    """This process's environment isolated for the block, restored after (outside pytest)."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(isolated_variables())
    _clear_clients()
    try:
        yield
    finally:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)
        _clear_clients()


def _clear_clients() -> None:
    """Clients cached by the core were made from the old environment: drop them."""
    from gamelift_backfill.core.clients import clear_client_cache

    clear_client_cache()
