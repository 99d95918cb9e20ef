"""The one description of every resource, property and setting users can see.

The native plugin's schema (`gamelift_backfill.native.schema`) and the README's
"Native provider reference" tables are both made from this module, so a description cannot
say one thing in the schema and another in the README (tests/test_native_schema.py checks
that the README holds exactly the tables :func:`markdown_reference` renders).
"""

from __future__ import annotations

from dataclasses import dataclass

PACKAGE = "gamelift-backfill"
TICKET_TOKEN = f"{PACKAGE}:index:BackfillTicket"
GUARD_TOKEN = f"{PACKAGE}:index:BackfillGuard"
README_BEGIN = "<!-- reference:begin (generated from gamelift_backfill/reference.py) -->"
README_END = "<!-- reference:end -->"


@dataclass(frozen=True)
class Property:
    """One property: its schema type, whether it is an input, required, secret, and why."""

    name: str  # camelCase, as every Pulumi language sees it
    type: str  # "string", "integer", "string[]" or "object[]"
    description: str
    input: bool = True
    required: bool = False
    secret: bool = False


@dataclass(frozen=True)
class ResourceDoc:
    """A resource: its type token, what it is for, and its properties."""

    token: str
    description: str
    properties: tuple[Property, ...]


REGION = Property(
    "region",
    "string",
    "AWS region of the GameLift resources. Defaults to the provider's `region`, then "
    "AWS_REGION / the AWS profile. Resolved at create and stored, so destroy talks to the "
    "same region from any machine.",
)
ENDPOINT_URL = Property(
    "endpointUrl",
    "string",
    "GameLift endpoint: `https://...`, or `http://` to a loopback host (the local "
    "emulator). Defaults to the provider's `endpointUrl`, then AWS_ENDPOINT_URL_GAMELIFT / "
    "AWS_ENDPOINT_URL, then AWS itself. Stored at create.",
)
STOP_TIMEOUT = Property(
    "stopTimeoutSeconds",
    "integer",
    "How long a delete waits for the tickets to end after StopMatchmaking (default 900). "
    "A resource's `customTimeouts.delete`, when set, bounds the wait instead.",
)

TICKET = ResourceDoc(
    TICKET_TOKEN,
    "One FlexMatch backfill ticket. Create starts a backfill (StartMatchBackfill) or adopts "
    "an existing ticket (`ticketId` alone, or `pulumi import " + TICKET_TOKEN + " NAME "
    "TICKET_ID`); delete calls StopMatchmaking and waits until the ticket has ended.",
    (
        Property(
            "configurationName",
            "string",
            "Matchmaking configuration (name or ARN) the backfill runs against. Required to "
            "start a backfill; optional when adopting. A change replaces the ticket.",
        ),
        Property(
            "gameSessionArn",
            "string",
            "Game session to backfill. When `players` is omitted, the players are taken from "
            "this session's MatchmakerData. A change replaces the ticket.",
        ),
        Property(
            "players",
            "object[]",
            "GameLift Player objects (PlayerId, PlayerAttributes, Team, LatencyInMs) now in "
            "the session. Secret: player IDs never appear in state or logs in clear. "
            "A change replaces the ticket.",
            secret=True,
        ),
        Property(
            "ticketId",
            "string",
            "ID of the ticket to start or, alone, of an existing ticket to adopt. When "
            "omitted, derived from the stack, the resource name and the inputs, so a create "
            "retried after a crash adopts the ticket it started.",
        ),
        REGION,
        ENDPOINT_URL,
        STOP_TIMEOUT,
        Property("status", "string", "The ticket's status when last read.", input=False),
        Property(
            "statusReason", "string", "GameLift's reason for the status, if any.", input=False
        ),
        Property(
            "configurationArn",
            "string",
            "ARN of the matchmaking configuration the ticket belongs to.",
            input=False,
        ),
        Property("startTime", "string", "When the ticket started (ISO 8601).", input=False),
    ),
)

GUARD = ResourceDoc(
    GUARD_TOKEN,
    "Drains FlexMatch backfill on delete: finds every active backfill ticket of the game "
    "sessions on the given fleets (automatic ones included), stops them all and waits until "
    "none is active. Make it depend on the fleets and the matchmaking configuration it "
    "protects (`dependsOn`), so the engine deletes it, and drains, before them.",
    (
        Property(
            "fleetIds",
            "string[]",
            "Fleets whose game sessions' backfill is drained: fleet IDs, fleet ARNs or alias IDs.",
            required=True,
        ),
        Property(
            "configurationName",
            "string",
            "Only drain sessions whose MatchmakerData names this configuration (name or ARN).",
        ),
        Property(
            "ticketIds",
            "string[]",
            "Extra tickets to stop, e.g. manual backfills started outside this stack.",
        ),
        REGION,
        ENDPOINT_URL,
        STOP_TIMEOUT,
        Property(
            "maxConcurrency",
            "integer",
            "How many StopMatchmaking calls run at once during the drain (default 10).",
        ),
        Property(
            "activeTicketCount",
            "integer",
            "Active backfill tickets on the fleets when last created, updated or refreshed.",
            input=False,
        ),
    ),
)

RESOURCES = (TICKET, GUARD)

PROVIDER_DESCRIPTION = (
    "Provider settings that every resource of this provider uses unless it sets its own."
)
CONFIG = (
    Property(
        "region",
        "string",
        "Default AWS region for the resources (`gamelift-backfill:region`), as `aws:region` "
        "is for pulumi-aws. Falls back to AWS_REGION / the AWS profile.",
    ),
    Property(
        "endpointUrl",
        "string",
        "Default GameLift endpoint (`gamelift-backfill:endpointUrl`): `https://...`, or "
        "`http://` to a loopback host. Falls back to AWS_ENDPOINT_URL_GAMELIFT / "
        "AWS_ENDPOINT_URL.",
    ),
)


def _row(prop: Property) -> str:
    kind = "input" if prop.input else "output"
    flags = [kind, *(["required"] if prop.required else []), *(["secret"] if prop.secret else [])]
    return f"| `{prop.name}` | {prop.type} | {', '.join(flags)} | {prop.description} |"


def _table(props: tuple[Property, ...]) -> list[str]:
    return [
        "| Property | Type | Kind | Description |",
        "|---|---|---|---|",
        *(_row(p) for p in props),
    ]


def markdown_reference() -> str:
    """The README's reference tables (between README_BEGIN and README_END)."""
    lines: list[str] = []
    for resource in RESOURCES:
        lines += [
            f"#### `{resource.token}`",
            "",
            resource.description,
            "",
            *_table(resource.properties),
            "",
        ]
    lines += ["#### Provider configuration", "", PROVIDER_DESCRIPTION, "", *_table(CONFIG)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_reference())
