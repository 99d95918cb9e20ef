"""One FlexMatch backfill ticket as a Pulumi resource whose destroy cancels it.

CONTRACT: this module path and the names `BackfillTicket`, `BackfillTicketArgs` and
`BackfillTicketProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.

The dynamic provider's adapter of :mod:`gamelift_backfill.behaviour.ticket`: the inputs
come from the one declaration (``declaration.TICKET``), the behaviour is shared with the
native plugin, and what is said here is said in a Python program's words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from gamelift_backfill.behaviour.ticket import (
    DEFAULT_TIMEOUT,
    DERIVED_KEY,
    IDENTITY_KEYS,
    INPUT_NAMES,
    OUTPUT_NAMES,
    REPLACE_KEYS,
    Ticket,
    derived_ticket_id,
)
from gamelift_backfill.declaration import TICKET
from gamelift_backfill.dynamic import (
    ConfiguredProvider,
    DeclaredArgs,
    check_failures,
    worded,
)
from gamelift_backfill.provider_reference import needs_new_reference
from gamelift_backfill.translate import DYNAMIC

__all__ = [
    "DEFAULT_TIMEOUT",
    "DERIVED_KEY",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "REPLACE_KEYS",
    "BackfillTicket",
    "BackfillTicketArgs",
    "BackfillTicketProvider",
]


# BEGIN generated: BackfillTicketArgs (python -m gamelift_backfill.codegen)
class BackfillTicketArgs(DeclaredArgs):
    """Inputs of a `BackfillTicket`.

    One FlexMatch backfill ticket. Create starts a backfill (StartMatchBackfill) or adopts an
    existing ticket (`ticket_id` alone); delete calls StopMatchmaking and waits until the ticket
    has ended.

    Pulumi's `import` cannot reach a dynamic provider: adopting by `ticket_id` is how an existing
    ticket comes under a stack."""

    declaration = TICKET

    configuration_name: pulumi.Input[str] | None
    """Matchmaking configuration (name or ARN) the backfill runs against. Required to start a
    backfill; optional when adopting. A change replaces the resource."""

    game_session_arn: pulumi.Input[str] | None
    """Game session to backfill. When `players` is omitted, the players are taken from this
    session's MatchmakerData. A change replaces the resource."""

    players: pulumi.Input[Sequence[Mapping[str, Any]]] | None
    """GameLift Player objects (PlayerId, PlayerAttributes with S/N/SL/SDM, Team, LatencyInMs)
    now in the session. Secret: player IDs never appear in state or logs in clear. A change
    replaces the resource."""

    ticket_id: pulumi.Input[str] | None
    """ID of the ticket to start or, alone, of an existing ticket to adopt. When omitted, derived
    from the stack, the resource name and the inputs, so a create retried after a crash adopts
    the ticket it started. A change replaces the resource."""

    region: pulumi.Input[str] | None
    """AWS region of the GameLift resources. Defaults to the stack config
    `gamelift-backfill:region`, then `aws:region`, then AWS_REGION / the AWS profile's region.
    Resolved at create and stored, so destroy talks to the same region from any machine. A change
    replaces the resource."""

    endpoint_url: pulumi.Input[str] | None
    """GameLift endpoint: `https://...`, or `http://` to a loopback host (the local emulator).
    Defaults to the stack config `gamelift-backfill:endpointUrl`, then AWS_ENDPOINT_URL_GAMELIFT
    / AWS_ENDPOINT_URL (the same rule applies to them), then AWS itself. Stored at create; a
    change updates in place, with no API call."""

    stop_timeout_seconds: pulumi.Input[int] | None
    """How long a delete waits for the tickets to end after StopMatchmaking (1 to 86400 seconds).
    Default: 900."""

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


# END generated: BackfillTicketArgs


class BackfillTicketProvider(ConfiguredProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared behaviour."""

    def _ticket(self) -> Ticket:
        return Ticket(self._config, DYNAMIC, pulumi.log)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; resolve region and endpoint so that diff compares like with like."""
        checked = self._ticket().check(news)
        return CheckResult(checked.inputs, check_failures(checked.failures))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace (old ticket stopped first) on what defines the ticket; update the rest."""
        diffed = self._ticket().diff(olds, news)
        # A release-1 state (`providers.backfill_ticket`) updates in place to re-record
        # the package's provider reference (provider_reference.py).
        rerecord = needs_new_reference(olds, news)
        return DiffResult(
            changes=diffed.changes or rerecord,
            replaces=diffed.replaces,
            delete_before_replace=diffed.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Start a backfill or adopt an existing ticket; store where it lives."""
        derived = props.get(DERIVED_KEY)
        with worded():
            id_, outs = self._ticket().create(props, derived if isinstance(derived, str) else None)
        return CreateResult(id_, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The live status; a ticket GameLift no longer returns is dropped (empty ID)."""
        with worded():
            found, outs = self._ticket().read(id_, props)
        return ReadResult(found, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only endpoint and timeout change in place: no API call; every output returned."""
        with worded():
            return UpdateResult(self._ticket().update(olds, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """StopMatchmaking, then wait until the ticket is final or gone, or raise.

        On any error (the core's data phrased with this front end's fix) the engine keeps
        the resource, so the next destroy finishes the job.
        """
        with worded():
            self._ticket().delete(id_, props)


class BackfillTicket(Resource, module="gamelift", name="BackfillTicket"):
    """A FlexMatch backfill ticket; `pulumi destroy` stops it and waits until it ended.

    Every property of ``declaration.TICKET`` is an output attribute (``ticket.status``).
    """

    # BEGIN generated: BackfillTicket outputs (python -m gamelift_backfill.codegen)
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
    # END generated: BackfillTicket outputs

    def __init__(
        self,
        resource_name: str,
        args: BackfillTicketArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(TICKET.secret_names))
        props = args.to_props()
        for name in TICKET.secret_names:
            if props.get(name) is not None:
                # The engine stores inputs as the program gives them
                # (additional_secret_outputs covers outputs only): player IDs must be
                # secret in the state's inputs too.
                props[name] = pulumi.Output.secret(props[name])
        if args.ticket_id is None:
            # The provider never sees the URN: the stable ID is derived here (docstring of
            # `derive_ticket_id`); secret players make it secret, which is harmless.
            project, stack = pulumi.get_project(), pulumi.get_stack()
            identity = pulumi.Output.all(**{key: getattr(args, key) for key in IDENTITY_KEYS})
            props[DERIVED_KEY] = identity.apply(
                lambda given: derived_ticket_id(project, stack, resource_name, given)
            )
        super().__init__(
            BackfillTicketProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )
