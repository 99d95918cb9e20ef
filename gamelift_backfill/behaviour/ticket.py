"""BackfillTicket's behaviour, once for every front end: one backfill ticket whose delete
stops it and waits until it has ended.

Properties are snake_case dicts of plain values (numbers may arrive as floats; unknowns of
a preview are the SDK's sentinel). Errors are the core's ``BackfillError``s, unphrased: each
front end words them (``translate.phrase`` with its phrasebook); Check's failures carry the
fix in this :class:`Ticket`'s own ``words``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gamelift_backfill.core.clients import DEFAULT_MAX_CONCURRENCY
from gamelift_backfill.core.errors import BackfillError, Failure, InputError, NotFoundError
from gamelift_backfill.core.matchmaker_data import same_configuration
from gamelift_backfill.core.starting import adopt_ticket, derive_ticket_id, start_or_resume
from gamelift_backfill.core.tickets import GONE, describe_tickets, start_backfill, stop_and_wait
from gamelift_backfill.core.validation import check_value, member_shape
from gamelift_backfill.declaration import TICKET
from gamelift_backfill.translate import (
    Phrasebook,
    ProviderConfig,
    Where,
    contains_unknown,
    endpoint_for,
    endpoint_or_raise,
    failures_of,
    given,
    is_unknown,
    normalise,
    region_for,
    stored_where,
)

from .common import NO_OVERRIDE, Checked, Diffed, Log, Waiting

INPUT_NAMES = TICKET.input_names
OUTPUT_NAMES = TICKET.output_names
# Inputs that define the ticket: a change replaces it, the old ticket stopped first
# (GameLift keeps one active backfill per game session). The others update in place.
REPLACE_KEYS = TICKET.replace_keys
# What a ticket ID is derived from when none is given: what defines the ticket, but its ID.
IDENTITY_KEYS = tuple(key for key in REPLACE_KEYS if key != "ticket_id")
# Not an output, never diffed: the ticket ID to start when the user gives no `ticket_id`,
# derived from the stack, the resource name and the identity inputs, so that a create
# retried after a crash finds the ticket it started (core/starting.py).
DERIVED_KEY = "derived_ticket_id"
DEFAULT_TIMEOUT = int(TICKET.defaults["stop_timeout_seconds"] or 0)


def derived_ticket_id(project: str, stack: str, name: str, props: Mapping[str, Any]) -> str:
    """The ticket ID of a resource given no ``ticket_id``: from its identity inputs."""
    return derive_ticket_id(project, stack, name, {k: props.get(k) for k in IDENTITY_KEYS})


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


def _validated(props: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs validated and normalised again: numbers arrive as floats after check."""
    inputs, failures = normalise(given(props, INPUT_NAMES))
    failures += _mode_failures(inputs)
    if failures:
        raise InputError(failures)
    return inputs


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


def live(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs that follow the ticket's life."""
    return {
        "status": ticket.get("Status"),
        "status_reason": ticket.get("StatusReason"),
        "configuration_arn": ticket.get("ConfigurationArn"),
        "start_time": _iso(ticket.get("StartTime")),
    }


def outputs(
    inputs: Mapping[str, Any], ticket: Mapping[str, Any], where: Mapping[str, Any]
) -> dict[str, Any]:
    """Inputs as resolved (what GameLift says where they were left out), plus live fields."""
    return {
        "configuration_name": inputs.get("configuration_name") or ticket.get("ConfigurationName"),
        "game_session_arn": inputs.get("game_session_arn") or ticket.get("GameSessionArn"),
        "players": inputs.get("players") or ticket.get("Players"),
        "ticket_id": ticket["TicketId"],
        **where,
        **live(ticket),
    }


def stored(props: Mapping[str, Any]) -> dict[str, Any]:
    """Every output in ``props`` (state), nothing else (no ``__provider``)."""
    return {key: props.get(key) for key in (*INPUT_NAMES, *OUTPUT_NAMES)}


@dataclass(frozen=True)
class Ticket:
    """A BackfillTicket for one provider configuration, worded and logged by one front end."""

    config: ProviderConfig
    words: Phrasebook
    log: Log

    def check(self, news: Mapping[str, Any]) -> Checked:
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
                inputs["region"] = region_for(None, self.config)
            except BackfillError as exc:
                failures += failures_of(exc, "region", self.words)
        if "endpoint_url" not in inputs:
            try:
                endpoint, problems = endpoint_for(None, self.config)
            except BackfillError as exc:
                failures += failures_of(exc, "endpoint_url", self.words)
            else:
                failures += problems
                if endpoint:
                    inputs["endpoint_url"] = endpoint
        return Checked(inputs, failures)

    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diffed:
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
        return Diffed(bool(changed), replaces, TICKET.delete_before_replace)

    def create(
        self, props: Mapping[str, Any], derived: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a backfill or adopt an existing ticket; (ticket ID, outputs).

        ``derived`` is the ticket ID to start when no ``ticket_id`` is given (a create
        retried after a crash then resumes the ticket it started).
        """
        inputs = _validated(props)
        region = region_for(inputs.get("region"), self.config)
        endpoint = endpoint_or_raise(inputs.get("endpoint_url"), self.config)
        client = Where(region, endpoint).client()
        where = {
            "region": region,
            "endpoint_url": endpoint,
            "stop_timeout_seconds": inputs.get("stop_timeout_seconds", DEFAULT_TIMEOUT),
        }
        outs: dict[str, Any] = {}
        if _adopting(inputs):
            ticket = adopt_ticket(client, inputs, region)
            outs = outputs(inputs, ticket, where)
            return outs["ticket_id"], outs

        # Outputs are built inside the start's transaction: if that fails, the ticket is
        # stopped before the error propagates.
        def on_started(ticket: dict[str, Any]) -> None:
            outs.update(outputs(inputs, ticket, where))

        if "ticket_id" not in inputs and derived:
            start_or_resume(client, inputs, derived, on_started, self._resumed)
        else:
            start_backfill(
                client,
                configuration_name=inputs["configuration_name"],
                game_session_arn=inputs.get("game_session_arn"),
                players=inputs.get("players"),
                ticket_id=inputs.get("ticket_id"),
                on_started=on_started,
            )
        return outs["ticket_id"], outs

    def _resumed(self, ticket_id: str) -> None:
        self.log.info(
            f"backfill ticket {ticket_id} was started by an interrupted create of this "
            "resource: adopting it instead of starting another"
        )

    def read(self, id_: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The live status; ("", outputs) for a ticket GameLift no longer returns.

        Errors propagate (the refresh fails, the resource stays): only an answer that does
        not list the ticket means it is gone.
        """
        outs = stored(props)
        ticket = describe_tickets(stored_where(outs, self.config).client(), [id_]).get(id_)
        if ticket is None:
            self.log.warn(
                f"backfill ticket {id_} is no longer known to GameLift in region "
                f"{outs.get('region')}; removing it from the stack"
            )
            return "", outs
        outs.update(live(ticket))
        return id_, outs

    def adopt_by_id(self, id_: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A ticket known by its ID alone (``pulumi import``): (outputs, inputs), where the
        provider's configuration says."""
        region = region_for(None, self.config)
        endpoint = endpoint_or_raise(None, self.config)
        ticket = describe_tickets(Where(region, endpoint).client(), [id_]).get(id_)
        if ticket is None:
            raise NotFoundError(
                f"cannot import backfill ticket {id_}: GameLift in region {region} does not "
                "know it. Check the ID, the region and the endpoint.",
                remedies=("set_region", "check_endpoint"),
            )
        where = {
            "region": region,
            "endpoint_url": endpoint,
            "stop_timeout_seconds": DEFAULT_TIMEOUT,
        }
        outs = outputs({"ticket_id": id_}, ticket, where)
        inputs = {"ticket_id": id_, "region": region, "endpoint_url": endpoint}
        return outs, {k: v for k, v in inputs.items() if v is not None}

    def update(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """Only endpoint and timeout change in place: no API call; every output returned."""
        outs = stored(olds)
        inputs = _validated(news)
        outs["endpoint_url"] = endpoint_or_raise(inputs.get("endpoint_url"), self.config)
        outs["stop_timeout_seconds"] = inputs.get("stop_timeout_seconds", DEFAULT_TIMEOUT)
        return outs

    def delete(
        self,
        id_: str,
        props: Mapping[str, Any],
        waiting: Waiting = NO_OVERRIDE,
        connections: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        """StopMatchmaking, then wait until the ticket is final or gone, or raise.

        Region and endpoint are the stored ones (destroy talks to where create did).
        ``connections`` sizes the process's clients for that many deletes at once.
        """
        where = stored_where(props, self.config, connections)
        timeout = waiting.timeout(props.get("stop_timeout_seconds"), DEFAULT_TIMEOUT)
        options = waiting.options(timeout)
        options["stop_client"] = where.client("stop")
        report = stop_and_wait(where.client(), [id_], **options)
        self.log.info(f"backfill ticket {id_} ended: {report.final_status.get(id_, GONE)}")
