"""What every layer of a backend shares: identity, clock, settings, the lock, sequences.

A backend is built in layers, each in a module of its own, each a subclass of the one
below: :mod:`resources` (rule sets, configurations, queues, fleets, aliases, game sessions,
tags), :mod:`matchmaking` (the ticket lifecycle), :mod:`matches` (matching, acceptance,
placement, backfill), :mod:`control_ops` (seeding and forcing states for the control API).
``models.GameLiftBackend`` is the top layer. A lower layer reaches up only through the
hooks it declares (e.g. ``_session_ended``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from .clock import Clock
from .settings import EmulatorSettings

__all__ = ["BackendState", "Json", "earliest", "locked", "resource_id"]

Json = dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")


class BackendState:
    """One account's GameLift in one Region: the parts every layer uses."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.settings = settings
        self._lock = threading.Lock()
        self._seq = 0

    def _next_seq(self) -> int:
        """A process-wide creation order inside this backend (pages and event ties)."""
        self._seq += 1
        return self._seq

    def _arn(self, resource: str, name: str, *, account: bool = True) -> str:
        account_part = self.account_id if account else ""
        return f"arn:aws:gamelift:{self.region}:{account_part}:{resource}/{name}"

    def _advance(self) -> None:
        """Apply every timed change that fell due (each layer adds its own, then calls up)."""

    def _next_due(self) -> float | None:
        """When the earliest timed change falls due, or None (each layer adds its own)."""
        return None

    def next_due(self) -> float | None:
        """When the earliest timed change falls due, or None when none is scheduled."""
        with self._lock:
            return self._next_due()

    def catch_up(self) -> float | None:
        """Apply every timed change that fell due; return when the next one falls due."""
        with self._lock:
            self._advance()
            return self._next_due()


def locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run a backend method under its lock, after the lifecycle caught up with the clock."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        backend = cast(BackendState, args[0])
        with backend._lock:
            backend._advance()
            return method(*args, **kwargs)

    return wrapper


def resource_id(arn_or_name: str, resource: str) -> str:
    """The name or ID at the end of ``arn:...:<resource>/<id>`` (or the value itself)."""
    marker = f":{resource}/"
    return arn_or_name.split(marker, 1)[1] if marker in arn_or_name else arn_or_name


def earliest(first: float | None, second: float | None) -> float | None:
    """The earlier of two optional times."""
    if first is None:
        return second
    return first if second is None else min(first, second)
