"""Helpers of the BackfillTicket tests: an isolated AWS environment and a seeded GameLift.

The environment is isolated from the developer's own AWS setup (profile, region, endpoint
variables, config files) so that region and endpoint resolution are deterministic; the
credentials are the emulator's (`test`/`test`), from the standard chain as in production.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic
import pytest
from emulator_helpers import seed_configuration
from plugin_host import (
    PluginHost,
    Secret,
    make_urn,
    program_inputs,
    state_round_trip,
    type_token,
)

from gamelift_backfill.backfill_ticket import (
    BackfillTicket,
    BackfillTicketArgs,
    BackfillTicketProvider,
)
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
EXPLICIT_PLAYERS: list[dict[str, Any]] = [
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


# -- the plugin side -----------------------------------------------------------------------

URN = make_urn("ticket", type_token(BackfillTicket))
STATE_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "state" / "backfill_ticket_v1.json"
FIXTURE_TICKET_ID = "state-fixture-ticket-v1"


def declared_secret_outputs() -> list[str]:
    """The ``additional_secret_outputs`` that `BackfillTicket` registers with, as declared."""
    seen: list[pulumi.ResourceOptions] = []

    def record(self: Any, provider: Any, name: str, props: Any, opts: Any = None) -> None:
        seen.append(opts)

    original = pulumi.dynamic.Resource.__init__
    pulumi.dynamic.Resource.__init__ = record  # type: ignore[method-assign]
    try:
        BackfillTicket("t", BackfillTicketArgs(ticket_id="t-1"))
    finally:
        pulumi.dynamic.Resource.__init__ = original  # type: ignore[method-assign]
    return list(seen[0].additional_secret_outputs or [])


def engine_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """What the engine stores: ``additional_secret_outputs`` of the resource made secret.

    The engine applies that option itself (the plugin cannot return secrets), so the host
    leaves it to the caller.
    """
    secret = declared_secret_outputs()
    return {
        key: Secret(value) if key in secret and not isinstance(value, Secret) else value
        for key, value in outs.items()
    }


def program(**inputs: Any) -> dict[str, Any]:
    """The inputs a program registers for ``BackfillTicket(name, BackfillTicketArgs(...))``."""
    return program_inputs(BackfillTicketProvider(), BackfillTicketArgs(**inputs).to_props())


def up(host: PluginHost, **inputs: Any) -> tuple[str, dict[str, Any]]:
    """Check then create, as ``pulumi up`` does; the ID and the outputs as stored."""
    checked = host.check(URN, {}, program(**inputs))
    assert checked.failures == []
    created = host.create(URN, checked.inputs)
    return created.id, state_round_trip(engine_outputs(created.outs))


@contextmanager
def plugin(
    endpoint_url: str | None, home: Path, config: Mapping[str, str] | None = None
) -> Iterator[PluginHost]:
    """The real plugin with test credentials; the endpoint (if any) through the env."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_aws(monkeypatch, home)
        if endpoint_url:
            monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", endpoint_url)
        host = PluginHost(config=dict(config or {"aws:region": "us-east-1"}))
        host.start()  # the plugin's environment is taken here
    try:
        yield host
    finally:
        host.close()
