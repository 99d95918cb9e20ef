"""GameLift FlexMatch state, with no HTTP: one backend per account and Region (moto style).

``GameLiftBackend`` is one account's GameLift in one Region: one state object
(:class:`state.BackendState`) and the operations of the sibling modules
:mod:`configurations` (rule sets, configurations, queues), :mod:`fleets` (fleets,
aliases, tags), :mod:`game_sessions` (game and player sessions), :mod:`matchmaking` (the
ticket lifecycle), :mod:`matches` (matching, acceptance, placement, backfill) and
:mod:`control_ops` (seeding and forcing states for the control API), each run under the
backend's lock after the timed changes that fell due (:mod:`lifecycle`).
``BackendStore`` holds every backend (``store[account][region]``), the clock and the
settings (:mod:`settings`), which it validates, applies and resets.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import configurations, control_ops, fleets, game_sessions, matches, matchmaking
from .clock import Clock, SystemClock
from .events import Webhook
from .lifecycle import advance, next_due
from .matchmaking import PLACING_MESSAGE
from .records import ACTIVE_STATUSES, ALL_STATUSES, FINAL_STATUSES
from .settings import EmulatorSettings, assign_settings, copy_settings, validated_changes
from .sigv4 import DEFAULT_ACCOUNT_ID
from .state import BackendState, earliest

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "BACKEND_OPERATIONS",
    "DEFAULT_ACCOUNT_ID",
    "FINAL_STATUSES",
    "PLACING_MESSAGE",
    "BackendStore",
    "EmulatorSettings",
    "GameLiftBackend",
]

Operation = Callable[..., Any]
# Every operation of a backend by name: GameLift's (``responses.OPERATIONS`` names which of
# them the wire serves) and the control API's. One table, built from the sibling modules.
_MODULES = (configurations, fleets, game_sessions, matchmaking, matches, control_ops)
BACKEND_OPERATIONS: Mapping[str, Operation] = {
    function.__name__: function for module in _MODULES for function in module.OPERATIONS
}
if len(BACKEND_OPERATIONS) != sum(len(module.OPERATIONS) for module in _MODULES):
    raise ImportError("two operation modules define an operation of the same name")


class GameLiftBackend:
    """One account's GameLift in one Region. Thread-safe: every call holds one lock.

    Each entry of ``BACKEND_OPERATIONS`` is a method: ``backend.stop_matchmaking(
    TicketId=...)`` runs ``matchmaking.stop_matchmaking(backend.state, TicketId=...)``.
    """

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        self.state = BackendState(account_id, region, clock, settings)

    @property
    def settings(self) -> EmulatorSettings:
        return self.state.settings

    def next_due(self) -> float | None:
        """When the earliest timed change falls due, or None when none is scheduled."""
        with self.state.lock:
            return next_due(self.state)

    def catch_up(self) -> float | None:
        """Apply every timed change that fell due; return when the next one falls due."""
        with self.state.lock:
            advance(self.state)
            return next_due(self.state)

    def __getattr__(self, name: str) -> Operation:
        """Reached only for a name that is no operation: the operations are methods,
        installed below from ``BACKEND_OPERATIONS`` (this also tells a type checker that
        ``backend.<operation>(...)`` exists)."""
        raise AttributeError(
            f"GameLiftBackend has no operation {name!r}; operations: {sorted(BACKEND_OPERATIONS)}"
        )


def _method(operation: Operation) -> Operation:
    """``operation`` as a backend method: under the lock, after the due changes."""

    @functools.wraps(operation)
    def method(backend: GameLiftBackend, *args: Any, **kwargs: Any) -> Any:
        state = backend.state
        with state.lock:
            advance(state)
            return operation(state, *args, **kwargs)

    return method


for _name, _operation in BACKEND_OPERATIONS.items():
    setattr(GameLiftBackend, _name, _method(_operation))


class AccountBackends:
    """One account's backends by Region: ``store[account_id][region]``."""

    def __init__(self, store: BackendStore, account_id: str) -> None:
        self._store = store
        self._account_id = account_id

    def __getitem__(self, region: str) -> GameLiftBackend:
        return self._store.backend(self._account_id, region)


class BackendStore:
    """Every backend of the process, by account and Region, sharing one clock and settings.

    ``settings`` is one object shared by every backend, changed only in place; ``reset``
    puts back the settings the store was created with.
    """

    def __init__(self, clock: Clock | None = None, settings: EmulatorSettings | None = None):
        self.clock: Clock = clock or SystemClock()
        self.settings = settings or EmulatorSettings()
        self._initial_settings = copy_settings(self.settings)
        self._backends: dict[str, dict[str, GameLiftBackend]] = {}
        self._lock = threading.Lock()
        self.webhook: Webhook | None = None  # where every backend's events are POSTed

    def backend(self, account_id: str, region: str) -> GameLiftBackend:
        """The backend of ``account_id`` in ``region``, created on first use."""
        found = self._backends.get(account_id, {}).get(region)  # every call asks: no lock
        if found is not None:
            return found
        with self._lock:
            regions = self._backends.setdefault(account_id, {})
            if region not in regions:
                regions[region] = GameLiftBackend(account_id, region, self.clock, self.settings)
                regions[region].state.event_log.sink = self.webhook
            return regions[region]

    def __getitem__(self, account_id: str) -> AccountBackends:
        """``store[account_id][region]``: the backend, created on first use (moto's shape)."""
        return AccountBackends(self, account_id)

    def backends(self) -> list[GameLiftBackend]:
        """Every backend created so far (for control views across Regions)."""
        with self._lock:
            return [b for regions in self._backends.values() for b in regions.values()]

    def next_due(self) -> float | None:
        """When the earliest timed change of any backend falls due, or None."""
        due: float | None = None
        for backend in self.backends():
            due = earliest(due, backend.next_due())
        return due

    def catch_up(self) -> float | None:
        """Apply every backend's timed changes that fell due; return the next due time."""
        due: float | None = None
        for backend in self.backends():
            due = earliest(due, backend.catch_up())
        return due

    def reset(self) -> None:
        """Forget all state and put every setting back to what the store started with."""
        with self._lock:
            self._backends.clear()
            assign_settings(self.settings, vars(self._initial_settings))
        self.set_webhook(None)

    def set_webhook(self, url: str | None) -> None:
        """POST every new event to ``url`` (loopback only; WebhookError otherwise), or stop."""
        webhook = Webhook(url) if url is not None else None
        with self._lock:
            old, self.webhook = self.webhook, webhook
            for regions in self._backends.values():
                for backend in regions.values():
                    backend.state.event_log.sink = webhook
        if old is not None:
            old.close()

    def webhook_status(self) -> dict[str, object]:
        """The webhook in force and how its deliveries went."""
        hook = self.webhook
        if hook is None:
            return {"url": None, "delivered": 0, "failed": 0}
        return {"url": hook.url, "delivered": hook.delivered, "failed": hook.failed}

    def update_settings(self, changes: Mapping[str, object]) -> EmulatorSettings:
        """Apply settings; InvalidRequest naming an unknown setting or a wrong type."""
        values = validated_changes(changes)
        with self._lock:
            assign_settings(self.settings, values)
        return self.settings
