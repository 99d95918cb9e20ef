"""Helpers of the BackfillGuard and CLI tests: a seeded world on the shared emulator.

The emulator runs on the system clock here, as it does for a real drain (the provider and
the CLI own their clocks). Credentials come from the environment only, as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from emulator_helpers import seed_configuration

from gamelift_backfill.core.clients import clear_client_cache
from gamelift_emulator import EmulatorControl

REGION = "us-east-1"
ACTIVE = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"})
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
# Variables that would let this machine's AWS setup leak into a test.
AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_GAMELIFT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def isolate_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Test credentials from the environment, no region, no profile, fresh clients."""
    for name in AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    clear_client_cache()


@dataclass
class World:
    """Configurations, a fleet and its sessions on the (reset) shared emulator."""

    gamelift: Any
    control: EmulatorControl
    fleet_id: str = ""
    fleet_arn: str = ""
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)

    def configuration(self, name: str = "cfg") -> dict[str, Any]:
        """An AUTOMATIC-backfill configuration, created once."""
        if name not in self.configurations:
            self.configurations[name] = seed_configuration(
                self.gamelift, name, backfill_mode="AUTOMATIC", timeout_seconds=600
            )
        return self.configurations[name]

    def session(self, configuration: str = "cfg", fleet_id: str | None = None) -> dict[str, Any]:
        """A matchmade, non-full session: GameLift starts an automatic backfill for it."""
        self.configuration(configuration)
        return self.control.create_game_session(fleet_id or self.fleet_id, configuration, 2, 8)

    def tickets(self, count: int, configuration: str = "cfg") -> list[str]:
        """``count`` new sessions' automatic backfill ticket IDs."""
        return [self.session(configuration)["auto_backfill_ticket_id"] for _ in range(count)]

    def status(self, ticket_id: str) -> str | None:
        """The ticket's status as DescribeMatchmaking reports it (None when gone)."""
        tickets = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        return str(tickets[0]["Status"]) if tickets else None

    def active_tickets(self, configuration: str | None = None) -> list[str]:
        """Every ticket the emulator holds in an active status (of one configuration)."""
        return [
            t["TicketId"]
            for t in self.control.tickets()
            if t["Status"] in ACTIVE
            and (configuration is None or t["ConfigurationName"] == configuration)
        ]

    def player_ids(self) -> set[str]:
        """Every player ID of every ticket: none may ever appear in a log or message."""
        return {p["PlayerId"] for t in self.control.tickets() for p in t.get("Players", [])}

    def deletable(self, configuration: str = "cfg") -> bool:
        """Whether DeleteMatchmakingConfiguration succeeds now (it fails while any is active)."""
        try:
            self.gamelift.delete_matchmaking_configuration(Name=configuration)
        except self.gamelift.exceptions.InvalidRequestException:
            return False
        return True


def make_world(control: EmulatorControl, gamelift: Any) -> World:
    """A World with one fleet (home region plus a remote location)."""
    world = World(gamelift=gamelift, control=control)
    fleet = control.create_fleet(locations=["us-west-2"])
    world.fleet_id, world.fleet_arn = fleet["fleet_id"], fleet["fleet_arn"]
    return world


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
