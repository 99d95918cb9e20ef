"""The Pulumi program: guard a fleet's FlexMatch backfill so that teardown never stalls on it.

Two modes, chosen by the stack config `manageInfrastructure` (see program_config.py):

- guard only (default): the fleets and the matchmaking configuration exist elsewhere
  (a shared fleet, the local emulator); the stack holds a BackfillGuard over them and a
  BackfillTicket per backfill it starts or adopts.
- managed (real AWS): the stack also creates the per-environment FlexMatch pieces in front
  of existing fleets: a game session queue, a rule set and a configuration with automatic
  backfill. Every backfill resource depends on the configuration, the queue and the fleets,
  so `pulumi destroy` deletes it, and so cancels backfill, before any of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

import program_config
from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicket, BackfillTicketArgs
from program_config import ProgramConfig

REQUEST_TIMEOUT_SECONDS = 120
"""How long a matchmaking request of the managed configuration may search."""


@dataclass
class Protected:
    """What the backfill resources protect: the values they take and the resources they
    must be deleted before."""

    fleet_ids: Sequence[pulumi.Input[str]]
    configuration_name: pulumi.Input[str] | None
    resources: list[pulumi.Resource] = field(default_factory=list)


def main() -> None:
    """Entry point when Pulumi runs the program."""
    config = program_config.load()
    protected = managed_flexmatch(config) if config.manage_infrastructure else existing(config)
    guard = BackfillGuard(
        "backfill-guard",
        BackfillGuardArgs(
            fleet_ids=protected.fleet_ids,
            configuration_name=protected.configuration_name,
            region=config.region,
            endpoint_url=config.endpoint_url,
            stop_timeout_seconds=config.stop_timeout_seconds,
        ),
        pulumi.ResourceOptions(depends_on=protected.resources),
    )
    tickets = backfill_tickets(config, protected)

    pulumi.export("configurationName", protected.configuration_name)
    pulumi.export("guardedFleets", guard.fleet_ids)
    pulumi.export("activeTicketCount", guard.active_ticket_count)
    pulumi.export("ticketIds", [ticket.ticket_id for ticket in tickets])
    pulumi.export(
        "ticketStatuses",
        pulumi.Output.all(*[pulumi.Output.all(t.ticket_id, t.status) for t in tickets]).apply(
            lambda pairs: {ticket_id: status for ticket_id, status in pairs}
        ),
    )


def existing(config: ProgramConfig) -> Protected:
    """Guard-only mode: the infrastructure is named in config and not managed here."""
    return Protected(fleet_ids=list(config.fleet_ids), configuration_name=config.configuration_name)


def managed_flexmatch(config: ProgramConfig) -> Protected:
    """Managed mode: the queue, rule set and configuration of one environment.

    pulumi-aws 7 has no FlexMatch resources of its own, so the rule set and the
    configuration go through Cloud Control. The fleets are read, not created: their
    outputs give the guard a dependency on each, and the queue its default destinations.
    """
    name = config.configuration_name
    assert name is not None  # program_config requires it in managed mode
    region = config.region
    fleets = [
        aws.gamelift.Fleet.get(fleet_id, fleet_id, region=region) for fleet_id in config.fleet_ids
    ]
    destinations: Sequence[pulumi.Input[str]] = list(config.queue_destinations) or [
        fleet.arn for fleet in fleets
    ]
    queue = aws.gamelift.GameSessionQueue(
        "queue",
        name=f"{name}-queue",
        destinations=destinations,
        region=region,
        opts=pulumi.ResourceOptions(depends_on=fleets),
    )
    rule_set = aws.cloudcontrol.Resource(
        "rule-set",
        type_name="AWS::GameLift::MatchmakingRuleSet",
        desired_state=json.dumps({"Name": f"{name}-rules", "RuleSetBody": config.rule_set_body}),
        region=region,
    )
    configuration = aws.cloudcontrol.Resource(
        "matchmaking-configuration",
        type_name="AWS::GameLift::MatchmakingConfiguration",
        desired_state=pulumi.Output.json_dumps(
            {
                "Name": name,
                "RuleSetName": rule_set.id,
                "GameSessionQueueArns": [queue.arn],
                "FlexMatchMode": "WITH_QUEUE",
                "BackfillMode": "AUTOMATIC",
                "AcceptanceRequired": False,
                "RequestTimeoutSeconds": REQUEST_TIMEOUT_SECONDS,
            }
        ),
        region=region,
    )
    return Protected(
        # Cloud Control's ID of a configuration is its name; taking it from the resource
        # makes the dependency visible in the property graph as well.
        fleet_ids=[fleet.id for fleet in fleets],
        configuration_name=configuration.id,
        resources=[configuration, queue, *fleets],
    )


def backfill_tickets(config: ProgramConfig, protected: Protected) -> list[BackfillTicket]:
    """One BackfillTicket per game session to backfill and per ticket to adopt."""

    def ticket(name: str, game_session_arn: str | None, ticket_id: str | None) -> BackfillTicket:
        args = BackfillTicketArgs(
            configuration_name=protected.configuration_name,
            game_session_arn=game_session_arn,
            ticket_id=ticket_id,
            region=config.region,
            endpoint_url=config.endpoint_url,
            stop_timeout_seconds=config.stop_timeout_seconds,
        )
        return BackfillTicket(name, args, pulumi.ResourceOptions(depends_on=protected.resources))

    started = [
        ticket(f"backfill-{resource_suffix(arn)}", game_session_arn=arn, ticket_id=None)
        for arn in config.backfill_game_sessions
    ]
    adopted = [
        ticket(f"ticket-{ticket_id}", game_session_arn=None, ticket_id=ticket_id)
        for ticket_id in config.ticket_ids
    ]
    return started + adopted


def resource_suffix(game_session_arn: str) -> str:
    """A stable, readable resource name part: the fleet and session IDs of the ARN."""
    _, _, path = game_session_arn.partition("gamesession/")
    return re.sub(r"[^A-Za-z0-9.-]+", "-", path or game_session_arn).strip("-")


if __name__ == "__main__":
    main()
