"""Cancel and customTimeouts for the waits of running deletes.

Each running delete holds a :class:`Watch`: its deadline (the request's ``timeout`` when
the engine sends one, else ``stopTimeoutSeconds``), the tickets it has asked GameLift to
stop and not yet seen end (from the core's progress events), and the plugin-wide cancel
flag. The core's stop pipeline reads time through ``Watch.clock`` and sleeps through
``Watch.sleep``: after Cancel the clock jumps past every deadline and sleeps return at
once, so the worker ends without further waiting; the gRPC handler does not wait for
that, it answers CancelledError as soon as the flag is set (:meth:`Watch.cancelled_error`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from gamelift_backfill.core.tickets import ProgressEvent, ProgressTally

CANCELLED_JUMP_SECONDS = 10.0**9  # far past any deadline


class CancelledError(Exception):
    """The engine cancelled the operation; the message names what is still active."""


@dataclass
class CancelFlag:
    """Set once by the engine's Cancel; every wait of this process sees it."""

    event: threading.Event = field(default_factory=threading.Event)

    def set(self) -> None:
        self.event.set()

    @property
    def is_set(self) -> bool:
        return self.event.is_set()


@dataclass
class Watch:
    """What one delete waits for, and how it learns it must stop waiting."""

    what: str  # e.g. "backfill ticket t-1", "BackfillGuard over fleet-1"
    flag: CancelFlag
    known: tuple[str, ...] = ()  # tickets known active before any event
    tally: ProgressTally = field(default_factory=ProgressTally)
    ended: set[str] = field(default_factory=set)

    def clock(self) -> float:
        """Monotonic time; far past every deadline once cancelled."""
        return time.monotonic() + (CANCELLED_JUMP_SECONDS if self.flag.is_set else 0.0)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake as soon as Cancel arrives."""
        self.flag.event.wait(max(0.0, seconds))

    def on_event(self, event: ProgressEvent) -> None:
        """Track the tickets stopped and not yet seen final."""
        self.tally.count(event)
        if event.kind in ("stopped", "already_final") and event.ticket_id:
            self.ended.add(event.ticket_id)

    def still_active(self) -> list[str]:
        """Tickets this delete is waiting for: stopped but not yet seen final, or known."""
        pending = sorted(self.tally.pending)
        return pending or [t for t in self.known if t not in self.ended]

    def cancelled_error(self) -> CancelledError:
        """The error Cancel ends this wait with: never success, always what is left."""
        left = self.still_active()
        shown = ", ".join(left[:20]) + (f" and {len(left) - 20} more" if len(left) > 20 else "")
        active = (
            f"{len(left)} backfill ticket(s) not yet seen ended: {shown}"
            if left
            else "no ticket confirmed ended yet (discovery was still running)"
        )
        return CancelledError(
            f"cancelled while waiting for {self.what}: {active}. The resource stays in the "
            "stack; run `pulumi destroy` again to finish."
        )
