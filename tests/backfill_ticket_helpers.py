"""Helpers of the BackfillTicket tests: an isolated AWS environment and a seeded GameLift.

The environment is isolated from the developer's own AWS setup (profile, region, endpoint
variables, config files) so that region and endpoint resolution are deterministic; the
credentials are the emulator's (`test`/`test`), from the standard chain as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import seed_configuration

from gamelift_emulator import EmulatorControl

AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_GAMELIFT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_SESSION_TOKEN",
)
EXPLICIT_PLAYERS = [
    {
        "PlayerId": "secret-player-7f3a",
        "PlayerAttributes": {"skill": {"N": 21.5}},
        "Team": "red",
        "LatencyInMs": {"us-east-1": 40},
    }
]
"""A player whose ID the tests look for in logs and error messages (it must never appear)."""


def isolate_aws(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Credentials test/test from the environment; no profile, region or endpoint."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config-absent"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials-absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Seeded:
    """A MANUAL configuration `cfg`, an AUTOMATIC one `auto`, a fleet, in one region."""

    gamelift: Any
    control: EmulatorControl
    region: str
    fleet_id: str
    configuration_arn: str

    def session(self, configuration: str = "cfg") -> dict[str, Any]:
        """A matchmade game session of 2 players out of 8 (AUTOMATIC: with a ticket)."""
        return self.control.create_game_session(
            self.fleet_id, configuration, 2, 8, region=self.region
        )

    def status(self, ticket_id: str) -> str | None:
        """The ticket's status as DescribeMatchmaking reports it (None when gone)."""
        tickets = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        return str(tickets[0]["Status"]) if tickets else None

    def players_of(self, ticket_id: str) -> list[dict[str, Any]]:
        tickets = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        players: list[dict[str, Any]] = tickets[0]["Players"]
        return players


def seed(gamelift: Any, control: EmulatorControl, region: str = "us-east-1") -> Seeded:
    """Configurations and a fleet in ``region`` (``gamelift`` must be a client of it)."""
    configuration = seed_configuration(gamelift, "cfg", backfill_mode="MANUAL")
    seed_configuration(gamelift, "auto", backfill_mode="AUTOMATIC")
    fleet = control.create_fleet(region=region)
    return Seeded(
        gamelift=gamelift,
        control=control,
        region=region,
        fleet_id=fleet["fleet_id"],
        configuration_arn=configuration["ConfigurationArn"],
    )
