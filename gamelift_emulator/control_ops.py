"""Control operations of a backend: seeding, forcing states and views for ``/_emulator/``.

None of these is a GameLift operation, and none is reachable through ``X-Amz-Target``:
the wire layer dispatches only its explicit table (``responses.OPERATIONS``). Their names
therefore never collide with GameLift's (``seed_fleet``, not ``create_fleet``).
"""

from __future__ import annotations

import uuid

from . import game_sessions, matchmaking
from .exceptions import InvalidRequestException
from .fleets import add_alias
from .players import generate_players
from .records import ALL_STATUSES, FINAL_STATUSES, TIMEOUT_STATUSES, Fleet, Ticket
from .state import BackendState, Json

__all__ = ["OPERATIONS"]


def seed_fleet(
    state: BackendState, fleet_id: str | None = None, locations: list[str] | None = None
) -> Json:
    """A fleet homed in this Region, with optional remote locations."""
    fleet_id = state.fleets.claim(fleet_id or f"fleet-{uuid.uuid4()}")
    remote = [loc for loc in dict.fromkeys(locations or []) if loc != state.region]
    fleet = Fleet(
        fleet_id,
        state.arn("fleet", fleet_id),
        [state.region, *remote],
        creation_time=state.clock.now(),
        seq=state.next_seq(),
    )
    state.fleets.add(fleet_id, fleet)
    return {"fleet_id": fleet.fleet_id, "fleet_arn": fleet.fleet_arn}


def remove_fleet(state: BackendState, fleet_id: str) -> None:
    """Drop a fleet, its aliases and sessions; their active tickets fail."""
    fleet = state.fleets.get(fleet_id)
    now = state.clock.now()
    for seq in fleet.session_seqs:
        session = state.sessions_by_seq.pop(seq, None)
        if session is not None:
            game_sessions.end_session(state, session, now)
            state.sessions.remove(session.arn, state.tags)
    state.aliases.keep_only(lambda a: a.fleet_id != fleet.fleet_id)
    state.fleets.remove(fleet.fleet_id, state.tags)


def seed_alias(state: BackendState, fleet_id: str, alias_id: str | None = None) -> Json:
    """An alias routing to ``fleet_id`` (alias ARNs carry no account)."""
    fleet = state.fleets.get(fleet_id)
    routing = {"Type": "SIMPLE", "FleetId": fleet.fleet_id}
    alias = add_alias(state, alias_id or fleet.fleet_id, routing, alias_id=alias_id)
    return {"alias_id": alias.alias_id, "alias_arn": alias.data["AliasArn"]}


def seed_game_session(
    state: BackendState,
    fleet_id: str,
    configuration_name: str,
    player_count: int,
    max_players: int,
    location: str | None = None,
) -> Json:
    """A session as a match of ``configuration_name`` would have made it.

    Returns the session as DescribeGameSessions does plus ``auto_backfill_ticket_id``.
    """
    fleet = state.fleets.get(fleet_id)
    configuration = state.configurations.get(configuration_name)
    if not 0 <= player_count <= max_players or max_players < 1:
        raise InvalidRequestException(
            "player_count must be between 0 and max_players, and max_players at least 1."
        )
    shape = state.rule_sets.get(configuration.data["RuleSetName"]).shape
    assert shape is not None  # rule sets always carry their parsed shape
    session = game_sessions.add_session(state, fleet, location, max_players)
    session.player_count = player_count
    session.configuration_name = configuration.data["Name"]
    session.configuration_arn = configuration.data["ConfigurationArn"]
    session.match_id = str(uuid.uuid4())
    session.teams = shape.teams
    session.players = generate_players(shape, player_count)
    session.backfill_mode = configuration.data["BackfillMode"]
    session.auto_backfill = session.backfill_mode == "AUTOMATIC"
    matchmaking.maybe_auto_backfill(state, session, session.creation_time)
    return {**session.describe(), "auto_backfill_ticket_id": session.auto_ticket_id}


def end_game_session(state: BackendState, game_session_arn: str) -> None:
    """The session ends at once; its active backfill ticket is cancelled."""
    game_sessions.end_session(state, state.sessions.get(game_session_arn), state.clock.now())


def force_ticket_status(state: BackendState, ticket_id: str, status: str) -> Json:
    """Put a ticket in any GameLift status; final ones get an EndTime."""
    if status not in ALL_STATUSES:
        raise InvalidRequestException(
            f"Unknown ticket status {status}; valid: " + ", ".join(sorted(ALL_STATUSES))
        )
    ticket = state.ticket(ticket_id)
    now = state.clock.now()
    ticket.epoch += 1  # whatever was scheduled for the old status no longer applies
    ticket.cancel_requested = False
    if status in FINAL_STATUSES:
        reason = None if status in ("COMPLETED", "CANCELLED") else status
        matchmaking.finish(
            state, ticket, status, now, reason=reason, message=f"Forced to {status}."
        )
    else:
        matchmaking.set_status(state, ticket, status, now, None, None)
        if status == "QUEUED":
            state.schedule(
                now + state.settings.queued_ms / 1000.0, "search", ticket_id, ticket.epoch
            )
        if status in TIMEOUT_STATUSES:
            state.schedule(max(now, ticket.timeout_at), "timeout", ticket_id, ticket.epoch)
    return _list_entry(ticket)


def list_tickets(state: BackendState) -> list[Json]:
    """Every ticket still visible, in creation order, with GameLift names."""
    return [_list_entry(t) for t in state.tickets.values()]


def _list_entry(ticket: Ticket) -> Json:
    entry = ticket.describe()
    entry["GameSessionArn"] = ticket.game_session_arn
    entry["Automatic"] = ticket.automatic
    return entry


def matchmaking_events(state: BackendState, configuration: str | None = None) -> list[Json]:
    """FlexMatch events oldest first, all or of one configuration (name or ARN)."""
    return state.event_log.events(configuration)


def fleet_records(state: BackendState) -> list[Json]:
    """Fleets with their locations, for inspection."""
    return [
        {"fleet_id": f.fleet_id, "fleet_arn": f.fleet_arn, "locations": list(f.locations)}
        for f in state.fleets
    ]


OPERATIONS = (
    seed_fleet,
    remove_fleet,
    seed_alias,
    seed_game_session,
    end_game_session,
    force_ticket_status,
    list_tickets,
    matchmaking_events,
    fleet_records,
)
