"""Time source of the emulator's lifecycle, injectable so tests need no sleeps."""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Anything that tells the time in epoch seconds."""

    def now(self) -> float:
        """Return the current time in epoch seconds."""
        ...


class SystemClock:
    """The wall clock, for the running server."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to, shared safely between threads."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, t: float) -> None:
        """Jump to ``t``; going backwards is allowed for tests that need it."""
        with self._lock:
            self._now = float(t)
