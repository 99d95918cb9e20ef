"""One FlexMatch backfill ticket as a Pulumi resource whose destroy cancels it.

CONTRACT: this module path and the names `BackfillTicket`, `BackfillTicketArgs` and
`BackfillTicketProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from gamelift_backfill import translate
from gamelift_backfill.core.clients import Role
from gamelift_backfill.core.errors import BackfillError, Failure, InputError
from gamelift_backfill.core.matchmaker_data import same_configuration
from gamelift_backfill.core.starting import adopt_ticket, derive_ticket_id, start_or_resume
from gamelift_backfill.core.tickets import (
    DEFAULT_STOP_TIMEOUT_SECONDS,
    GONE,
    describe_tickets,
    start_backfill,
)
from gamelift_backfill.core.validation import check_value, member_shape
from gamelift_backfill.provider_reference import needs_new_reference
from gamelift_backfill.translate import (
    DYNAMIC,
    ProviderConfig,
    contains_unknown,
    endpoint_for,
    endpoint_or_raise,
    failures_of,
    given,
    is_unknown,
    normalise,
    phrase,
    region_for,
    stored_where,
)

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
# Inputs that define the ticket: a change replaces it, the old ticket stopped first
# (GameLift keeps one active backfill per game session). The others update in place.
REPLACE_KEYS = ("configuration_name", "game_session_arn", "players", "ticket_id", "region")
# Program-side input (not an output, never diffed): the ticket ID to start when the user
# gives no `ticket_id`, derived from the stack, the resource name and the identity inputs,
# so that a create retried after a crash finds the ticket it started (core/starting.py).
DERIVED_KEY = "derived_ticket_id"
# The core's default, justified in providers/core/tickets.py: the longest acceptance wait
# (600 s) plus an asynchronous cancel and a placement.
DEFAULT_TIMEOUT = int(DEFAULT_STOP_TIMEOUT_SECONDS)


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
    When omitted, derived from the stack, the resource name and the inputs that replace
    the ticket, so a create retried after a crash adopts the ticket it started."""

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


def _stored(props: Mapping[str, Any]) -> dict[str, Any]:
    """Every output in ``props`` (state), without ``__provider`` (the plugin adds it back)."""
    return {key: props.get(key) for key in (*INPUT_NAMES, *OUTPUT_NAMES)}


def _validated(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs validated and normalised again: numbers arrive as floats after check."""
    inputs, failures = normalise(given(props, INPUT_NAMES))
    failures += _mode_failures(inputs)
    if failures:
        raise InputError(failures)
    return inputs


def _starting(inputs: Mapping[str, Any]) -> bool:
    return "game_session_arn" in inputs or "players" in inputs


def _adopting(inputs: Mapping[str, Any]) -> bool:
    return not _starting(inputs) and "ticket_id" in inputs


def _mode_failures(inputs: Mapping[str, Any]) -> list[Failure]:
    """Exactly one way to create: start (configuration + session/players), or adopt (ID)."""
    if _starting(inputs) and "configuration_name" not in inputs:
        return [
            Failure(
                "configuration_name",
                "is required to start a backfill (with game_session_arn and/or players)",
            )
        ]
    if not _starting(inputs) and "ticket_id" not in inputs:
        return [
            Failure(
                "ticket_id",
                "nothing to create: give configuration_name with game_session_arn and/or "
                "players to start a backfill, or ticket_id alone to adopt an existing ticket",
            )
        ]
    return []


def _same(key: str, olds: Mapping[str, Any], new: Any) -> bool:
    """Equal as stored (floats equal ints in Python; absent is None), or the same
    configuration given by name instead of ARN (or the reverse)."""
    old = olds.get(key)
    if old == new:
        return True
    if key == "configuration_name" and isinstance(new, str):
        return same_configuration(olds.get("configuration_arn"), new)
    return False


def _iso(value: Any) -> str | None:
    """GameLift timestamps (datetime from boto3) as ISO 8601 strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


def _live(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs that follow the ticket's life."""
    return {
        "status": ticket.get("Status"),
        "status_reason": ticket.get("StatusReason"),
        "configuration_arn": ticket.get("ConfigurationArn"),
        "start_time": _iso(ticket.get("StartTime")),
    }


def _outputs(
    inputs: Mapping[str, Any], ticket: Mapping[str, Any], where: Mapping[str, Any]
) -> dict[str, Any]:
    """Inputs as resolved (what GameLift says where they were left out), plus live fields."""
    return {
        "configuration_name": inputs.get("configuration_name") or ticket.get("ConfigurationName"),
        "game_session_arn": inputs.get("game_session_arn") or ticket.get("GameSessionArn"),
        "players": inputs.get("players") or ticket.get("Players"),
        "ticket_id": ticket["TicketId"],
        **where,
        **_live(ticket),
    }


def _log_resumed(ticket_id: str) -> None:
    pulumi.log.info(
        f"backfill ticket {ticket_id} was started by an interrupted create of this "
        "resource: adopting it instead of starting another"
    )


class BackfillTicketProvider(ResourceProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared core.

    Holds no client, lock or session: it is pickled into the stack's state. The only state
    is the stack's configuration (region, endpoint), set by ``configure`` on the instance
    the plugin unpickled (never on the instance a program pickles, so it never enters the
    state).
    """

    _config: ProviderConfig = ProviderConfig()

    def configure(self, req: ConfigureRequest) -> None:
        """Remember the stack's configuration: ``pulumi.Config()`` does not work here."""
        self._config = ProviderConfig.from_mapping(req.config)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; resolve region and endpoint so that diff compares like with like."""
        inputs, failures = normalise(given(news, INPUT_NAMES))
        failures += _mode_failures(inputs)
        inputs.setdefault("stop_timeout_seconds", DEFAULT_TIMEOUT)
        derived = news.get(DERIVED_KEY)
        if derived is not None:
            inputs[DERIVED_KEY] = derived
            if not is_unknown(derived):
                failures += check_value(
                    derived, member_shape("StartMatchBackfill", "TicketId"), DERIVED_KEY
                )
        if "region" not in inputs:
            try:
                inputs["region"] = region_for(None, self._config)
            except BackfillError as exc:
                failures += failures_of(exc, "region", DYNAMIC)
        if "endpoint_url" not in inputs:
            try:
                endpoint, problems = endpoint_for(None, self._config)
            except BackfillError as exc:
                failures += failures_of(exc, "endpoint_url", DYNAMIC)
            else:
                failures += problems
                if endpoint:
                    inputs["endpoint_url"] = endpoint
        return CheckResult(inputs, [CheckFailure(f.field, f.reason) for f in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace (old ticket stopped first) on what defines the ticket; update the rest.

        ``olds`` are the outputs in state. An identity input left out of ``news`` is no
        change: the ticket keeps its generated ID, derived players or adopted configuration.
        """
        changed = []
        for key in INPUT_NAMES:
            new = news.get(key)
            if contains_unknown(new):
                changed.append(key)  # may change: the engine shows it as such
            elif new is None and key in REPLACE_KEYS:
                continue
            elif not _same(key, olds, new):
                changed.append(key)
        replaces = [key for key in changed if key in REPLACE_KEYS]
        # A release-1 state (`providers.backfill_ticket`) updates in place to re-record
        # the package's provider reference (provider_reference.py).
        rerecord = needs_new_reference(olds, news)
        return DiffResult(
            changes=bool(changed) or rerecord, replaces=replaces, delete_before_replace=True
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Start a backfill or adopt an existing ticket; store where it lives."""
        try:
            return self._create(props)
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None

    def _create(self, props: dict[str, Any]) -> CreateResult:
        inputs = _validated(props)
        region = region_for(inputs.get("region"), self._config)
        endpoint = endpoint_or_raise(inputs.get("endpoint_url"), self._config)
        client = translate.Where(region, endpoint).client()
        where = {
            "region": region,
            "endpoint_url": endpoint,
            "stop_timeout_seconds": inputs.get("stop_timeout_seconds", DEFAULT_TIMEOUT),
        }
        outs: dict[str, Any] = {}
        derived = props.get(DERIVED_KEY)
        if _adopting(inputs):
            ticket = adopt_ticket(client, inputs, region)
            outs = _outputs(inputs, ticket, where)
        else:
            # Outputs are built inside the start's transaction: if that fails, the ticket
            # is stopped before the error propagates.
            def on_started(ticket: dict[str, Any]) -> None:
                outs.update(_outputs(inputs, ticket, where))

            if "ticket_id" not in inputs and isinstance(derived, str) and derived:
                start_or_resume(client, inputs, derived, on_started, _log_resumed)
                return CreateResult(outs["ticket_id"], outs)
            start_backfill(
                client,
                configuration_name=inputs["configuration_name"],
                game_session_arn=inputs.get("game_session_arn"),
                players=inputs.get("players"),
                ticket_id=inputs.get("ticket_id"),
                on_started=on_started,
            )
        return CreateResult(outs["ticket_id"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The live status; a ticket GameLift no longer returns is dropped (empty ID).

        Errors propagate (the refresh fails, the resource stays): only an answer that does
        not list the ticket means it is gone.
        """
        outs = _stored(props)
        try:
            ticket = describe_tickets(self._client(outs), [id_]).get(id_)
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None
        if ticket is None:
            pulumi.log.warn(
                f"backfill ticket {id_} is no longer known to GameLift in region "
                f"{outs.get('region')}; removing it from the stack"
            )
            return ReadResult("", outs)
        outs.update(_live(ticket))
        return ReadResult(id_, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only endpoint and timeout change in place: no API call; every output returned."""
        outs = _stored(olds)
        try:
            inputs = _validated(news)
            outs["endpoint_url"] = endpoint_or_raise(inputs.get("endpoint_url"), self._config)
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None
        outs["stop_timeout_seconds"] = inputs.get("stop_timeout_seconds", DEFAULT_TIMEOUT)
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """StopMatchmaking, then wait until the ticket is final or gone, or raise.

        On any error (the core's data phrased with this front end's fix) the engine keeps
        the resource, so the next destroy finishes the job.
        """
        timeout = props.get("stop_timeout_seconds") or DEFAULT_TIMEOUT
        try:
            report = stored_where(props, self._config).stop([id_], float(timeout))
        except BackfillError as error:
            raise phrase(error, DYNAMIC) from None
        pulumi.log.info(f"backfill ticket {id_} ended: {report.final_status.get(id_, GONE)}")

    def _client(self, props: Mapping[str, Any], role: Role = "read") -> Any:
        """The process's client for where the ticket lives (stored at create), by role."""
        return stored_where(props, self._config).client(role)


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
        props = args.to_props()
        if args.players is not None:
            # The engine stores inputs as the program gives them (additional_secret_outputs
            # covers outputs only): player IDs must be secret in the state's inputs too.
            props["players"] = pulumi.Output.secret(args.players)
        if args.ticket_id is None:
            # The provider never sees the URN: the stable ID is derived here (docstring of
            # `derive_ticket_id`); secret players make it secret, which is harmless.
            project, stack = pulumi.get_project(), pulumi.get_stack()
            identity = pulumi.Output.all(
                configuration_name=args.configuration_name,
                game_session_arn=args.game_session_arn,
                players=args.players,
                region=args.region,
            )
            props[DERIVED_KEY] = identity.apply(
                lambda given: derive_ticket_id(project, stack, resource_name, given)
            )
        super().__init__(
            BackfillTicketProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_players),
        )
