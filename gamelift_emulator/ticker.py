"""Apply the lifecycle's timed changes when they fall due, not when a request next comes.

GameLift moves tickets on its own time: a stopped ticket turns CANCELLED a moment later,
a search times out, a matching pass runs. The backends apply every change, stamped with
the time it fell due, whenever they are called (``locked``); that alone would leave a
quiet emulator's tickets unchanged and its events unsent until someone calls. So a
change is applied by whichever comes first: the next call, the end of an answer (what
fell due while it was worked out), or this timer on the event loop, at most
``TIMER_SLACK_S`` after it fell due. Events then reach ``GET /_emulator/events`` and the
webhook when they happen.

Only on the system clock: a ``ManualClock`` moves when a test says so, and its changes
are applied by the next call, as before.
"""

from __future__ import annotations

import asyncio
import logging

from .clock import Clock, SystemClock
from .models import BackendStore

__all__ = ["LifecycleTimer"]

log = logging.getLogger(__name__)

# How late the timer may apply a change. While requests come, each answer applies what
# fell due by then, so the timer is only the backstop of a quiet emulator; its slack lets
# it sleep through those (and uvloop's timers, which count whole milliseconds, never fire
# before ``due``). A change is always applied at the time it fell due (``at``).
TIMER_SLACK_S = 0.02


class LifecycleTimer:
    """One timer on the server's event loop, armed for the earliest due change."""

    def __init__(self, store: BackendStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._enabled = isinstance(clock, SystemClock)
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None

    def poke(self) -> None:
        """Call on the loop after an answer went out: apply the changes due by now (the
        client is busy with the answer, so this delays no request of a sequential client),
        then arm for the next one (for when no request comes)."""
        if not self._enabled:
            return
        due = self._store.next_due()
        if due is not None and due <= self._clock.now():
            due = self._store.catch_up()
        self._arm(due)

    def _arm(self, due: float | None) -> None:
        if due is None or (self._armed_for is not None and self._armed_for <= due):
            return
        if self._handle is not None:
            self._handle.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, due - self._clock.now()) + TIMER_SLACK_S
        self._armed_for = due
        self._handle = loop.call_at(loop.time() + delay, self._fire)

    def _fire(self) -> None:
        self._handle = self._armed_for = None
        try:
            due = self._store.catch_up()
        except Exception:  # a bug of the emulator: logged; requests still apply changes
            log.exception("applying the lifecycle's due changes failed")
            return
        self._arm(due)
