"""The backend's timed changes, of every kind, applied in the order they fell due.

Each operation module declares its kinds and what each does (``TIMED``: kind ->
``handler(state, key, epoch, at)``); they all wait on the state's one heap
(``BackendState.schedule``). :func:`advance` runs before every call (``models``) and from
the lifecycle timer (:mod:`ticker`), each change stamped with the time it fell due.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from . import game_sessions, matches, matchmaking
from .state import BackendState

__all__ = ["HANDLERS", "advance", "next_due"]

Handler = Callable[[BackendState, str, int, float], None]
HANDLERS: dict[str, Handler] = {**game_sessions.TIMED, **matchmaking.TIMED, **matches.TIMED}


def advance(state: BackendState) -> None:
    """Apply every change that fell due by the state's clock, earliest first."""
    due = state.due
    if not due:
        return
    now = state.clock.now()
    while due and due[0][0] <= now:
        at, _, kind, key, epoch = heapq.heappop(due)
        HANDLERS[kind](state, key, epoch, at)


def next_due(state: BackendState) -> float | None:
    """When the earliest change falls due, or None when none is waiting."""
    return state.due[0][0] if state.due else None
