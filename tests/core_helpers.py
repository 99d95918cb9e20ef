"""Helpers of the core's tests: a seeded GameLift world on an emulator with a manual clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gamelift_backfill.core.tickets import ProgressEvent
from gamelift_emulator import EmulatorControl, ManualClock

RULE_SET_BODY = json.dumps(
    {
        "name": "two_teams",
        "ruleLanguageVersion": "1.0",
        "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
        "teams": [
            {"name": "red", "minPlayers": 1, "maxPlayers": 4},
            {"name": "blue", "minPlayers": 1, "maxPlayers": 4},
        ],
        "rules": [],
    }
)


@dataclass
class World:
    """A fleet and configurations on an emulator whose clock the test drives."""

    gamelift: Any
    control: EmulatorControl
    clock: ManualClock
    fleet_id: str = ""
    fleet_arn: str = ""
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[ProgressEvent] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        """The core's injected sleep: move the emulator's clock instead of waiting."""
        self.clock.advance(seconds)

    def now(self) -> float:
        """The core's injected clock."""
        return self.clock.now()

    def configuration(self, name: str = "cfg", backfill_mode: str = "AUTOMATIC") -> dict[str, Any]:
        """Create (once) a WITH_QUEUE configuration named ``name``."""
        if name not in self.configurations:
            rule_sets = self.gamelift.describe_matchmaking_rule_sets()["RuleSets"]
            if not rule_sets:
                self.gamelift.create_matchmaking_rule_set(Name="rules", RuleSetBody=RULE_SET_BODY)
                self.gamelift.create_game_session_queue(Name="queue")
            queue = self.gamelift.describe_game_session_queues(Names=["queue"])
            self.configurations[name] = self.gamelift.create_matchmaking_configuration(
                Name=name,
                RequestTimeoutSeconds=600,
                AcceptanceRequired=False,
                RuleSetName="rules",
                GameSessionQueueArns=[queue["GameSessionQueues"][0]["GameSessionQueueArn"]],
                BackfillMode=backfill_mode,
                FlexMatchMode="WITH_QUEUE",
            )["Configuration"]
        return self.configurations[name]

    def session(
        self, configuration: str = "cfg", fleet_id: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A matchmade, non-full game session (with an automatic ticket when AUTOMATIC)."""
        self.configuration(configuration)
        return self.control.create_game_session(
            fleet_id or self.fleet_id, configuration, 2, 8, **kwargs
        )

    def status(self, ticket_id: str) -> str | None:
        """The ticket's status as DescribeMatchmaking reports it (None when gone)."""
        tickets = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        return str(tickets[0]["Status"]) if tickets else None

    def active_tickets(self) -> list[str]:
        """Every ticket the emulator holds in an active status."""
        active = {"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"}
        return [t["TicketId"] for t in self.control.tickets() if t["Status"] in active]


def make_world(emulator_control: EmulatorControl, clock: ManualClock, gamelift: Any) -> World:
    """A World with one fleet; the clock moved past the first QUEUED -> SEARCHING step."""
    world = World(gamelift=gamelift, control=emulator_control, clock=clock)
    fleet = emulator_control.create_fleet(locations=["us-west-2"])
    world.fleet_id, world.fleet_arn = fleet["fleet_id"], fleet["fleet_arn"]
    return world
