"""Rule 6: which tickets hold each guarded configuration right now (``--live``).

Read calls only, the ones the project's IAM policy already allows: DescribeGameSessions
(through the core's discovery, as a guard's delete lists its fleets) and
DescribeMatchmaking (the core's batched describe). Each guard and ticket is asked where
its destroy would go: ``translate.stored_where``, the rule every front end's delete uses
(the region and endpoint stored at create, as they are: a stored "no endpoint" is AWS
itself, whatever ``AWS_ENDPOINT_URL*`` say on this machine), unless
``--region``/``--endpoint-url`` say otherwise. An endpoint from the state passes the same
rule as any input (https, or http to loopback only) before anything is sent to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gamelift_backfill.core.clients import gamelift_client
from gamelift_backfill.core.discovery import backfill_ticket_ids
from gamelift_backfill.core.errors import BackfillError, InputError
from gamelift_backfill.core.tickets import describe_tickets
from gamelift_backfill.core.validation import check_endpoint_url
from gamelift_backfill.core.waiters import is_active
from gamelift_backfill.translate import ProviderConfig, Where, stored_where

from .model import Finding, Resource, Stack, Unknown
from .rules import PROTECTORS, protector_configuration, protector_fleets

# GameLift refuses StopMatchmaking in these: they end on their own.
MUST_WAIT = frozenset({"PLACING", "REQUIRES_ACCEPTANCE"})
ClientFactory = Callable[[str, str | None], Any]


def _read_client(region: str, endpoint: str | None) -> Any:
    return gamelift_client(region, endpoint, role="read")


@dataclass
class Target:
    """The guards and tickets of one configuration in one region and endpoint."""

    configuration: str | None
    region: str
    endpoint: str | None
    urns: list[str] = field(default_factory=list)
    fleet_ids: list[str] = field(default_factory=list)
    ticket_ids: list[str] = field(default_factory=list)


def _text(resource: Resource, *names: str) -> str | None:
    value = resource.prop(*names)
    return value if isinstance(value, str) and value else None


def where_to_ask(
    resource: Resource, region: str | None = None, endpoint: str | None = None
) -> Where:
    """Where ``resource``'s destroy would send its calls (``stored_where``), unless the
    ``--region`` / ``--endpoint-url`` options say otherwise. Raises InputError (no region
    anywhere) as destroy would."""
    stored = {
        "region": region or _text(resource, "region"),
        "endpoint_url": endpoint or _text(resource, "endpoint_url", "endpointUrl"),
    }
    return stored_where(stored, ProviderConfig())


def targets(
    stack: Stack, region: str | None, endpoint: str | None
) -> tuple[list[Target], list[Finding]]:
    """Group the guards and tickets by where to ask; a finding for each that cannot be asked."""
    grouped: dict[tuple[str | None, str, str | None], Target] = {}
    unchecked: list[Finding] = []
    for resource in stack.resources.values():
        if resource.kind not in PROTECTORS or resource.pending_operation == "creating":
            continue
        try:
            where = where_to_ask(resource, region, endpoint)
        except InputError:
            unchecked.append(_unchecked(resource, "no region in its state", "pass --region"))
            continue
        where_region, where_endpoint = where.region, where.endpoint_url
        if where_endpoint and (problems := check_endpoint_url(where_endpoint)):
            reason = f"its endpoint {where_endpoint!r} is refused: {problems[0].reason}"
            unchecked.append(_unchecked(resource, reason, "pass --endpoint-url"))
            continue
        configuration = protector_configuration(resource)
        if isinstance(configuration, Unknown):
            configuration = None
        key = (configuration, where_region, where_endpoint)
        target = grouped.setdefault(key, Target(configuration, where_region, where_endpoint))
        target.urns.append(resource.urn)
        if resource.kind == "guard":
            target.fleet_ids += [f for f in protector_fleets(resource) if f not in target.fleet_ids]
        ticket_id = _text(resource, "ticket_id", "ticketId") or (resource.id or None)
        if resource.kind == "ticket" and ticket_id:
            target.ticket_ids.append(ticket_id)
    return list(grouped.values()), unchecked


def _unchecked(resource: Resource, reason: str, fix: str) -> Finding:
    return Finding(
        rule="live-unchecked",
        title=f"{resource.name}: its tickets could not be checked",
        at_destroy=f"unknown: {reason}",
        urns=(resource.urn,),
        fix=fix,
    )


def check_live(
    stack: Stack,
    region: str | None = None,
    endpoint: str | None = None,
    client_factory: ClientFactory = _read_client,
) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Findings for configurations that active tickets hold now, and what was seen."""
    groups, findings = targets(stack, region, endpoint)
    seen: list[dict[str, Any]] = []
    for target in groups:
        try:
            report = _ask(target, client_factory(target.region, target.endpoint))
        except BackfillError as error:
            findings.append(
                Finding(
                    rule="live-unchecked",
                    title=f"tickets of {target.configuration or 'the guards'} could not be checked",
                    at_destroy=f"unknown: {error.code}: {error.message}",
                    urns=tuple(target.urns),
                    fix="fix what the message names (credentials, --region, --endpoint-url) and "
                    "run the doctor again",
                )
            )
            continue
        seen.append(report)
        if report["active"]:
            findings.append(_held(target, report))
    return findings, seen


def _ask(target: Target, client: Any) -> dict[str, Any]:
    ids = list(target.ticket_ids)
    if target.fleet_ids:
        found = backfill_ticket_ids(
            client, target.fleet_ids, configuration_name=target.configuration
        )
        ids += [t for t in found if t not in ids]
    described = describe_tickets(client, ids) if ids else {}
    tickets = []
    for ticket_id in ids:
        ticket = described.get(ticket_id)
        if ticket is None:
            continue
        status = str(ticket.get("Status"))
        if is_active(status):
            tickets.append(
                {
                    "ticket_id": ticket_id,
                    "status": status,
                    "can_stop_now": status not in MUST_WAIT,
                }
            )
    return {
        "configuration_name": target.configuration,
        "region": target.region,
        "endpoint_url": target.endpoint,
        "urns": target.urns,
        "fleet_ids": target.fleet_ids,
        "tickets_checked": len(ids),
        "active": tickets,
        "delete_configuration_refused": bool(tickets),
    }


def _held(target: Target, report: dict[str, Any]) -> Finding:
    tickets = report["active"]
    stoppable = [t for t in tickets if t["can_stop_now"]]
    waiting = [t for t in tickets if not t["can_stop_now"]]
    shown = ", ".join(f"{t['ticket_id']} ({t['status']})" for t in tickets[:20])
    more = f" and {len(tickets) - 20} more" if len(tickets) > 20 else ""
    where = f"--region {target.region}" + (
        f" --endpoint-url {target.endpoint}" if target.endpoint else ""
    )
    configuration = target.configuration or "CONFIGURATION"
    steps = []
    if stoppable:
        if target.fleet_ids:
            fleets = " ".join(f"--fleet-id {f}" for f in target.fleet_ids)
            steps.append(
                f"stop the {len(stoppable)} that can be stopped now: `gamelift-backfill drain "
                f"{fleets} --configuration-name {configuration} {where}`"
            )
        else:
            ids = " ".join(t["ticket_id"] for t in stoppable)
            steps.append(f"stop them now: `gamelift-backfill stop {ids} {where}`")
    if waiting:
        ids = " ".join(t["ticket_id"] for t in waiting)
        steps.append(
            f"wait out the {len(waiting)} in PLACING/REQUIRES_ACCEPTANCE (GameLift refuses to "
            f"cancel them; they end on their own): `gamelift-backfill status {ids} {where}` "
            "exits 0 once none is active"
        )
    steps.append("then `pulumi destroy`")
    return Finding(
        rule="tickets-hold-configuration",
        title=f"{len(tickets)} active ticket(s) hold configuration {configuration}",
        at_destroy=(
            f"DeleteMatchmakingConfiguration would be refused right now: {shown}{more}. "
            f"{len(stoppable)} can be stopped now, {len(waiting)} must be waited out. The "
            "guard's delete stops the first and waits for the others up to its "
            "stop_timeout_seconds, then fails naming those still active."
        ),
        urns=tuple(target.urns),
        fix="; ".join(steps),
        details={k: report[k] for k in ("active", "delete_configuration_refused", "region")},
    )
