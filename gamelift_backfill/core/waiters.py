"""The "backfill tickets stopped" waiter: a botocore WaiterModel over DescribeMatchmaking.

botocore has no GameLift waiters, so the model is ours, kept as data in botocore's format
(``WAITER_CONFIG``). Its one acceptor says a DescribeMatchmaking answer is *success* when no
returned ticket is active; a missing ID means the ticket is gone (final), so an empty
``TicketList`` is success too.

We do not run it with ``botocore.waiter.Waiter``: that one polls a single request with a
fixed delay and calls ``time.sleep`` itself. We poll many tickets in batches of 10 (the
API's limit), each ticket on its own backoff, overlapped with StopMatchmaking calls, and
tests must drive time without sleeping. So :func:`batch_state` evaluates the model's
acceptors (botocore's own matcher functions) and the loop in ``tickets.py`` owns the clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.waiter import WaiterModel

ACTIVE_STATUSES = ("QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING")
FINAL_STATUSES = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")
DESCRIBE_BATCH = 10  # DescribeMatchmaking takes at most 10 ticket IDs
WAITER_NAME = "BackfillTicketsStopped"

_ACTIVE_FILTER = " || ".join(f"Status == '{s}'" for s in ACTIVE_STATUSES)

WAITER_CONFIG: dict[str, Any] = {
    "version": 2,
    "waiters": {
        WAITER_NAME: {
            "operation": "DescribeMatchmaking",
            "delay": 1,
            "maxAttempts": 120,
            "acceptors": [
                {
                    "state": "success",
                    "matcher": "path",
                    "argument": f"length(TicketList[?{_ACTIVE_FILTER}]) == `0`",
                    "expected": True,
                },
            ],
        }
    },
}

WAITER_MODEL = WaiterModel(WAITER_CONFIG)

BatchState = Literal["success", "failure", "retry"]


def batch_state(response: Mapping[str, Any]) -> BatchState:
    """Evaluate the model's acceptors, in order, on one DescribeMatchmaking response."""
    for acceptor in WAITER_MODEL.get_waiter(WAITER_NAME).acceptors:
        if acceptor.matcher_func(response):
            state: BatchState = acceptor.state
            return state
    return "retry"


def is_active(status: str | None) -> bool:
    """True for a status that blocks DeleteMatchmakingConfiguration."""
    return status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Backoff:
    """Delays between polls of one ticket: exponential from ``initial`` up to ``maximum``.

    The first poll comes ``initial`` after the stop's answer, when an asynchronous cancel
    (about 200 ms) has usually landed, so most tickets are confirmed by a single describe
    (0.1 call each); waiting longer only delays the end of a small drain.
    """

    initial: float = 0.25
    factor: float = 2.0
    maximum: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before poll number ``attempt`` (0-based)."""
        return float(min(self.maximum, self.initial * self.factor**attempt))

    def delays(self) -> Iterator[float]:
        """The infinite sequence of delays."""
        attempt = 0
        while True:
            yield self.delay(attempt)
            attempt += 1
