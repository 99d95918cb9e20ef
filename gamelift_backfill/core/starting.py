"""Bringing a ticket under a resource: adopt an existing one, or start one under an ID
derived from the resource, resuming the ticket an interrupted create already started.

Inputs are the resources' snake_case inputs (``configuration_name``, ``game_session_arn``,
``players``, ``ticket_id``), already validated. StartMatchBackfill itself is called in
tickets.py only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import Failure, InputError, NotFoundError
from .matchmaker_data import same_configuration
from .tickets import describe_tickets, start_backfill
from .waiters import DESCRIBE_BATCH, is_active

# Suffixes tried after the derived ID itself: a replacement or a retry whose earlier ticket
# already ended takes the next free one (GameLift remembers an ended ticket's ID a while).
MAX_DERIVED_SUFFIX = 20


def adopt_ticket(client: Any, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The existing ticket, verified with DescribeMatchmaking (and its configuration)."""
    ticket_id = inputs["ticket_id"]
    ticket = describe_tickets(client, [ticket_id]).get(ticket_id)
    if ticket is None:
        raise NotFoundError(
            f"cannot adopt backfill ticket {ticket_id}: GameLift in region {region} does not "
            "know it (ended tickets are forgotten after a while). Check `ticket_id` and "
            "`region`, or start a new backfill with configuration_name and game_session_arn."
        )
    wanted = inputs.get("configuration_name")
    if wanted and not same_configuration(ticket.get("ConfigurationArn"), wanted):
        raise InputError(
            [
                Failure(
                    "configuration_name",
                    f"ticket {ticket_id} belongs to {ticket.get('ConfigurationArn')}, "
                    f"not {wanted}: fix or remove configuration_name",
                )
            ]
        )
    return ticket


def derive_ticket_id(
    project: str, stack: str, resource_name: str, identity: Mapping[str, Any]
) -> str:
    """A TicketId that is the same for every run of this resource with these inputs.

    ``identity`` holds the inputs that replace the ticket when they change (configuration,
    game session, players, region, as the program gives them), so a replacement for a
    change gets another ID. Readable prefix from the resource name, then 24 hex digits of
    SHA-256 over everything; at most 100 characters (room for a ``-N`` suffix).
    """
    material = json.dumps(
        [project, stack, resource_name, identity],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    digest = hashlib.sha256(material.encode()).hexdigest()[:24]
    readable = re.sub(r"[^a-zA-Z0-9-]+", "-", resource_name).strip("-")[:60] or "ticket"
    return f"pulumi-{readable}-{digest}"


def _candidates(derived: str) -> list[str]:
    return [derived] + [f"{derived}-{n}" for n in range(1, MAX_DERIVED_SUFFIX + 1)]


def _resumable(ticket: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    """An active ticket of this configuration (and of this game session and these players,
    where the ticket shows them): the one an earlier attempt of this create started.

    DescribeMatchmaking does not return a backfill ticket's game session before placement;
    the session is part of the derived ID itself, so the configuration is the check left.
    """
    if not is_active(ticket.get("Status")):
        return False
    if not same_configuration(ticket.get("ConfigurationArn"), inputs["configuration_name"]):
        return False
    shown = (ticket.get("GameSessionConnectionInfo") or {}).get("GameSessionArn")
    if shown and inputs.get("game_session_arn") and shown != inputs["game_session_arn"]:
        return False
    wanted = inputs.get("players")
    if wanted:
        return {p.get("PlayerId") for p in ticket.get("Players", [])} == {
            p.get("PlayerId") for p in wanted
        }
    return True


def start_or_resume(
    client: Any,
    inputs: Mapping[str, Any],
    derived: str,
    on_started: Callable[[dict[str, Any]], None],
    on_resumed: Callable[[str], None] = lambda _: None,
) -> None:
    """Adopt the ticket an interrupted create started under the derived ID, or start one.

    The derived ID, then ``-1``, ``-2``... in order: the first one GameLift does not know is
    started; an active one for the same configuration and game session is the ticket an
    earlier attempt of this create started (its answer lost to a crash) and is adopted
    instead of leaving it orphaned; a final one (a replaced ticket that was stopped, an
    earlier attempt's ticket that has ended) or another's is skipped.
    """
    candidates = _candidates(derived)
    known: dict[str, dict[str, Any]] = {}
    for index, candidate in enumerate(candidates):
        if index % DESCRIBE_BATCH == 0:  # one DescribeMatchmaking per 10 candidates
            known = describe_tickets(client, candidates[index : index + DESCRIBE_BATCH])
        ticket = known.get(candidate)
        if ticket is None:
            start_backfill(
                client,
                configuration_name=inputs["configuration_name"],
                game_session_arn=inputs.get("game_session_arn"),
                players=inputs.get("players"),
                ticket_id=candidate,
                on_started=on_started,
            )
            return
        if _resumable(ticket, inputs):
            on_resumed(candidate)
            on_started(ticket)
            return
    raise InputError(
        [
            Failure(
                "ticket_id",
                f"the derived ticket IDs {derived} to {candidates[-1]} are all taken by "
                "tickets that ended recently; set `ticket_id` or retry once GameLift has "
                "forgotten them",
            )
        ]
    )
