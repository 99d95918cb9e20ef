"""Drains every active backfill ticket of a set of fleets when the stack is destroyed.

CONTRACT: this module path and the names `BackfillGuard`, `BackfillGuardArgs` and
`BackfillGuardProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

INPUT_NAMES = (
    "fleet_ids",
    "configuration_name",
    "ticket_ids",
    "region",
    "endpoint_url",
    "stop_timeout_seconds",
    "max_concurrency",
)
OUTPUT_NAMES = ("active_ticket_count",)


class BackfillGuardArgs:
    """Inputs of a `BackfillGuard`.

    Make the guard depend on the fleets, the queue and the matchmaking configuration it
    protects (pass their outputs, or `depends_on`): the engine then deletes the guard,
    and so drains backfill, before any of them.
    """

    fleet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Fleets whose game sessions' backfill is drained: fleet IDs, fleet ARNs or alias
    IDs."""

    configuration_name: pulumi.Input[str] | None
    """Only drain sessions whose MatchmakerData names this configuration (name or ARN)."""

    ticket_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None
    """Extra tickets to stop, e.g. manual backfills started outside this stack."""

    region: pulumi.Input[str] | None
    """AWS region. Defaults to the stack's `aws:region`, then the environment/profile.
    Resolved at create and stored; changing it replaces the guard."""

    endpoint_url: pulumi.Input[str] | None
    """GameLift endpoint: `https://...`, or `http://` to a loopback host (the local
    emulator). Defaults to `AWS_ENDPOINT_URL_GAMELIFT` / `AWS_ENDPOINT_URL`, then AWS."""

    stop_timeout_seconds: pulumi.Input[int] | None
    """How long destroy may take to see every ticket ended."""

    max_concurrency: pulumi.Input[int] | None
    """How many StopMatchmaking calls run at once during the drain."""

    def __init__(
        self,
        *,
        fleet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        configuration_name: pulumi.Input[str] | None = None,
        ticket_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint_url: pulumi.Input[str] | None = None,
        stop_timeout_seconds: pulumi.Input[int] | None = None,
        max_concurrency: pulumi.Input[int] | None = None,
    ) -> None:
        self.fleet_ids = fleet_ids
        self.configuration_name = configuration_name
        self.ticket_ids = ticket_ids
        self.region = region
        self.endpoint_url = endpoint_url
        self.stop_timeout_seconds = stop_timeout_seconds
        self.max_concurrency = max_concurrency

    def to_props(self) -> dict[str, Any]:
        """The property bag the provider receives: inputs, plus outputs to be filled."""
        props: dict[str, Any] = {name: getattr(self, name) for name in INPUT_NAMES}
        props.update(dict.fromkeys(OUTPUT_NAMES))
        return props


class BackfillGuardProvider(ResourceProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared core.

    Holds no client, lock or session: it is pickled into the stack's state.
    """


class BackfillGuard(Resource, module="gamelift", name="BackfillGuard"):
    """Drains every active backfill ticket of the given fleets before they are destroyed."""

    fleet_ids: pulumi.Output[list[str]]
    configuration_name: pulumi.Output[str | None]
    ticket_ids: pulumi.Output[list[str] | None]
    region: pulumi.Output[str]
    endpoint_url: pulumi.Output[str | None]
    stop_timeout_seconds: pulumi.Output[int]
    max_concurrency: pulumi.Output[int]
    active_ticket_count: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        args: BackfillGuardArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(BackfillGuardProvider(), resource_name, args.to_props(), opts)
