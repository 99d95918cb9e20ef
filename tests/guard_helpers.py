"""Helpers of the BackfillGuard, CLI and plugin tests: events in the middle of a delete.

The seeded world itself is ``testkit.world`` (one for every test, bench and soak).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gamelift_emulator import EmulatorControl


@contextmanager
def when(condition: Callable[[], bool], action: Callable[[], None]) -> Iterator[threading.Event]:
    """While in the block, run ``action`` once as soon as ``condition`` holds.

    For a change that must happen *during* a blocking delete, at a point the emulator shows
    (e.g. once StopMatchmaking was called), instead of after a guessed sleep. Yields an
    event set once the action ran. ``condition`` is checked every 10 ms on a thread.
    """
    fired, leave = threading.Event(), threading.Event()

    def watch() -> None:
        while not leave.wait(0.01):
            if condition():
                action()
                fired.set()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield fired
    finally:
        leave.set()
        thread.join(timeout=10)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Until ``condition`` holds (checked every 10 ms), or fail naming ``what``.

    The timeout is a hang guard, not a verdict on speed: conditions hold within seconds.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def calls(control: EmulatorControl, operation: str) -> int:
    """How many ``operation`` calls the emulator has counted since its reset."""
    count: int = control.calls().get(operation, 0)
    return count
