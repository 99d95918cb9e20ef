"""A seeded GameLift world on an emulator: the one helper tests, bench and soak build on.

A world is a fleet (home region, plus remote locations) and matchmaking configurations
created on demand; sessions are seeded through the control API as if matchmaking had placed
them, so a configuration with automatic backfill gets a backfill ticket per non-full session,
exactly what a teardown must stop. With a ``ManualClock`` the world also plays the core's
injected clock and sleep, so waits move the emulator's time instead of the test's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gamelift_backfill.core.tickets import ProgressEvent
from gamelift_backfill.core.waiters import ACTIVE_STATUSES
from gamelift_emulator import EmulatorControl, ManualClock
from testkit.seeding import seed_configuration

REGION = "us-east-1"
SESSION_PLAYERS = 2
SESSION_MAX_PLAYERS = 8


@dataclass
class World:
    """A fleet and configurations on an emulator; sessions and tickets made on demand."""

    gamelift: Any
    control: EmulatorControl
    region: str = REGION
    clock: ManualClock | None = None
    fleet_id: str = ""
    fleet_arn: str = ""
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[ProgressEvent] = field(default_factory=list)
    """Progress the core reported while working on this world (tests pass ``events.append``)."""

    # -- the core's injected time (manual-clock worlds) ----------------------------------

    def sleep(self, seconds: float) -> None:
        """The core's injected sleep: move the emulator's clock instead of waiting."""
        self._clock().advance(seconds)

    def now(self) -> float:
        """The core's injected clock."""
        return self._clock().now()

    def _clock(self) -> ManualClock:
        if self.clock is None:
            raise RuntimeError("this world runs on the system clock: make it with clock=...")
        return self.clock

    # -- seeding ---------------------------------------------------------------------------

    def configuration(self, name: str = "cfg", backfill_mode: str = "AUTOMATIC") -> dict[str, Any]:
        """A WITH_QUEUE configuration ``name``, created once (request timeout 600 s)."""
        if name not in self.configurations:
            self.configurations[name] = seed_configuration(
                self.gamelift, name, backfill_mode=backfill_mode, timeout_seconds=600
            )
        return self.configurations[name]

    @property
    def configuration_arn(self) -> str:
        """The ARN of configuration ``cfg``."""
        return str(self.configuration("cfg")["ConfigurationArn"])

    def session(
        self, configuration: str = "cfg", fleet_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A matchmade, non-full game session (with an automatic ticket when AUTOMATIC)."""
        self.configuration(configuration)
        kwargs.setdefault("region", self.region)
        return self.control.create_game_session(
            fleet_id or self.fleet_id, configuration, SESSION_PLAYERS, SESSION_MAX_PLAYERS, **kwargs
        )

    def tickets(self, count: int, configuration: str = "cfg") -> list[str]:
        """``count`` new sessions' automatic backfill ticket IDs."""
        return [self.session(configuration)["auto_backfill_ticket_id"] for _ in range(count)]

    # -- looking ---------------------------------------------------------------------------

    def status(self, ticket_id: str) -> str | None:
        """The ticket's status as DescribeMatchmaking reports it (None when gone)."""
        tickets = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        return str(tickets[0]["Status"]) if tickets else None

    def players_of(self, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's players as DescribeMatchmaking reports them."""
        tickets = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        players: list[dict[str, Any]] = tickets[0]["Players"]
        return players

    def active_tickets(self, configuration: str | None = None) -> list[str]:
        """Every ticket the emulator holds in an active status (of one configuration)."""
        return [
            t["TicketId"]
            for t in self.control.tickets()
            if t["Status"] in ACTIVE_STATUSES
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


def make_world(
    control: EmulatorControl,
    gamelift: Any,
    *,
    clock: ManualClock | None = None,
    region: str = REGION,
    locations: Sequence[str] = ("us-west-2",),
) -> World:
    """A World with one fleet in ``region`` (plus remote ``locations``).

    ``gamelift`` must be a client of the same emulator and region.
    """
    world = World(gamelift=gamelift, control=control, region=region, clock=clock)
    fleet = control.create_fleet(region=region, locations=list(locations) or None)
    world.fleet_id, world.fleet_arn = fleet["fleet_id"], fleet["fleet_arn"]
    return world
