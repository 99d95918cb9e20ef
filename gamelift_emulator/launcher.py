"""Start ``python -m gamelift_emulator`` as a process and learn where it listens.

The one launcher used by the tests, the benchmarks and the demo. It waits for an event (the
emulator's first stdout line, its endpoint URL), never for a guessed time, and stops the
process with SIGTERM (exit 0), killing it only if it does not exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
STOP_GRACE_SECONDS = 15.0


class LaunchError(RuntimeError):
    """The emulator exited, or printed something else than its URL, before serving."""


@dataclass
class EmulatorProcess:
    """A running emulator process: its ``Popen`` and the endpoint URL it printed."""

    process: subprocess.Popen[str]
    endpoint_url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        port = urlsplit(self.endpoint_url).port
        assert port is not None
        return port

    def stop(self) -> int:
        """SIGTERM, wait for the exit (killed after a grace period); the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def launch(
    *,
    port: int = 0,
    region: str | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    stderr: IO[str] | int | None = None,
    detach: bool = False,
) -> EmulatorProcess:
    """Start the emulator (``port`` 0: a free one) and return once it printed its URL.

    ``detach`` puts it in a session of its own, so that it outlives its parent (``make up``).
    """
    command = [sys.executable, "-m", "gamelift_emulator", "--port", str(port)]
    if region is not None:
        command += ["--region", region]
    command += list(args)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(env) if env is not None else {**os.environ},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=detach,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline().strip()
    if not first_line.startswith("http://"):
        if process.poll() is None:
            process.kill()
        process.wait()
        raise LaunchError(
            f"the emulator did not start on port {port} (exit status {process.returncode}); "
            f"it printed {first_line!r} instead of its endpoint URL"
        )
    return EmulatorProcess(process, first_line)


@contextmanager
def launched(
    *,
    port: int = 0,
    region: str | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[EmulatorProcess]:
    """An emulator process for the block (see ``launch``); stopped after, whatever happened."""
    running = launch(port=port, region=region, args=args, env=env)
    try:
        yield running
    finally:
        running.stop()
