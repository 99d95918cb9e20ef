"""GameLift FlexMatch state, with no HTTP: one backend per account and Region (moto style).

``GameLiftBackend`` stacks the layers, each in a module with one job:
:mod:`resources` (rule sets, configurations, queues, fleets, aliases, game sessions, tags),
:mod:`matchmaking` (the ticket lifecycle), :mod:`matches` (matching, acceptance,
placement, backfill), :mod:`control_ops` (seeding and forcing states
for the control API). ``BackendStore`` holds every backend, the clock and the settings
(:mod:`settings`), which it validates, applies and resets.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from .backend_state import earliest
from .clock import Clock, SystemClock
from .control_ops import ControlOperations
from .events import Webhook
from .matchmaking import ACTIVE_STATUSES, ALL_STATUSES, FINAL_STATUSES, PLACING_MESSAGE
from .settings import EmulatorSettings, assign_settings, copy_settings, validated_changes
from .sigv4 import DEFAULT_ACCOUNT_ID

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "DEFAULT_ACCOUNT_ID",
    "FINAL_STATUSES",
    "PLACING_MESSAGE",
    "BackendStore",
    "EmulatorSettings",
    "GameLiftBackend",
]


class GameLiftBackend(ControlOperations):
    """One account's GameLift in one Region. Thread-safe: every call holds one lock."""


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
                regions[region].event_log.sink = self.webhook
            return regions[region]

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
                    backend.event_log.sink = webhook
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
