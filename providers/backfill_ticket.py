"""One FlexMatch backfill ticket as a Pulumi resource whose destroy cancels it.

CONTRACT: this module path and the names `BackfillTicket`, `BackfillTicketArgs` and
`BackfillTicketProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

# Output names a stack can read. Inputs are stored back resolved (region and endpoint
# included) so that destroy talks to the same place from any machine.
INPUT_NAMES = (
    "configuration_name",
    "game_session_arn",
    "players",
    "ticket_id",
    "region",
    "endpoint_url",
    "stop_timeout_seconds",
)
OUTPUT_NAMES = ("status", "status_reason", "configuration_arn", "start_time")


class BackfillTicketArgs:
    """Inputs of a `BackfillTicket`.

    Two ways to create one: start a backfill (`configuration_name` with
    `game_session_arn` and/or `players`), or adopt an existing ticket (`ticket_id` alone,
    e.g. an automatic backfill ticket). Pulumi's `import` cannot reach a dynamic
    provider, so adoption is how an existing ticket comes under a stack.
    """

    configuration_name: pulumi.Input[str] | None
    """Matchmaking configuration (name or ARN) the backfill runs against. Required to start
    a backfill; optional when adopting."""

    game_session_arn: pulumi.Input[str] | None
    """Game session to backfill. When `players` is omitted, the players are derived from
    this session's MatchmakerData."""

    players: pulumi.Input[Sequence[Mapping[str, Any]]] | None
    """GameLift Player objects (PlayerId, PlayerAttributes with S/N/SL/SDM, Team,
    LatencyInMs) currently in the session. Kept secret in state."""

    ticket_id: pulumi.Input[str] | None
    """ID of the ticket to start (a new ticket gets this ID) or, alone, to adopt.
    Generated when omitted."""

    region: pulumi.Input[str] | None
    """AWS region. Defaults to the stack's `aws:region`, then the environment/profile.
    Resolved at create and stored, so destroy uses the same region."""

    endpoint_url: pulumi.Input[str] | None
    """GameLift endpoint: `https://...`, or `http://` to a loopback host (the local
    emulator). Defaults to `AWS_ENDPOINT_URL_GAMELIFT` / `AWS_ENDPOINT_URL`, then AWS.
    Updates in place."""

    stop_timeout_seconds: pulumi.Input[int] | None
    """How long destroy waits for the ticket to end after StopMatchmaking. Updates in
    place."""

    def __init__(
        self,
        *,
        configuration_name: pulumi.Input[str] | None = None,
        game_session_arn: pulumi.Input[str] | None = None,
        players: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None,
        ticket_id: pulumi.Input[str] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint_url: pulumi.Input[str] | None = None,
        stop_timeout_seconds: pulumi.Input[int] | None = None,
    ) -> None:
        self.configuration_name = configuration_name
        self.game_session_arn = game_session_arn
        self.players = players
        self.ticket_id = ticket_id
        self.region = region
        self.endpoint_url = endpoint_url
        self.stop_timeout_seconds = stop_timeout_seconds

    def to_props(self) -> dict[str, Any]:
        """The property bag the provider receives: inputs, plus outputs to be filled."""
        props: dict[str, Any] = {name: getattr(self, name) for name in INPUT_NAMES}
        props.update(dict.fromkeys(OUTPUT_NAMES))
        return props


class BackfillTicketProvider(ResourceProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared core.

    Holds no client, lock or session: it is pickled into the stack's state.
    """


class BackfillTicket(Resource, module="gamelift", name="BackfillTicket"):
    """A FlexMatch backfill ticket; `pulumi destroy` stops it and waits until it ended."""

    configuration_name: pulumi.Output[str | None]
    game_session_arn: pulumi.Output[str | None]
    players: pulumi.Output[list[dict[str, Any]] | None]
    ticket_id: pulumi.Output[str]
    region: pulumi.Output[str]
    endpoint_url: pulumi.Output[str | None]
    stop_timeout_seconds: pulumi.Output[int]
    status: pulumi.Output[str]
    status_reason: pulumi.Output[str | None]
    configuration_arn: pulumi.Output[str | None]
    start_time: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        args: BackfillTicketArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret_players = pulumi.ResourceOptions(additional_secret_outputs=["players"])
        super().__init__(
            BackfillTicketProvider(),
            resource_name,
            args.to_props(),
            pulumi.ResourceOptions.merge(opts, secret_players),
        )
