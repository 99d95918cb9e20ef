# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""The ticket lifecycle: StartMatchmaking, StartMatchBackfill, StopMatchmaking, DescribeMatchmaking.

A ticket goes QUEUED -> SEARCHING, then whatever :mod:`matches` makes of it, or TIMED_OUT
(``RequestTimeoutSeconds``) or CANCELLED (StopMatchmaking, a newer request holding one of
its players). Every change is recorded as a FlexMatch event (:mod:`events`).

Automatic backfill: a non-full ACTIVE session of an AUTOMATIC configuration has an
automatic ticket; when a session's backfill ticket ends on its own (COMPLETED, TIMED_OUT,
FAILED) the replacement starts ``auto_backfill_delay_ms`` (+ seeded jitter) later, if the
session still wants one then. StopMatchmaking of the automatic ticket turns it off for the
session for good; BackfillMode MANUAL stops every new one, scheduled replacements included.

Time only moves through the injected clock. Timed changes (search, timeout, cancel,
expire, replace: :data:`TIMED`) wait on the backend's one heap, applied in time order by
:mod:`lifecycle` before every call, so a call costs O(its own work + changes that fell due).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from . import matches
from .events import iso_time, matchmaking_event
from .exceptions import InvalidRequestException
from .players import ticket_player
from .records import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    TIMEOUT_STATUSES,
    GameSession,
    NamedResource,
    Ticket,
)
from .state import BackendState, Json

__all__ = [
    "MAX_PLAYERS_PER_REQUEST",
    "OPERATIONS",
    "PLACING_MESSAGE",
    "TIMED",
    "automatic_backfill_stopped",
    "emit",
    "finish",
    "maybe_auto_backfill",
    "replace_auto_backfill",
    "session_ended",
    "set_status",
    "start_searching",
    "want_pass",
]

# Final statuses after which GameLift starts the next automatic backfill ticket.
_REGENERATE_AFTER = frozenset({"TIMED_OUT", "COMPLETED", "FAILED"})
# Statuses a newer ticket holding the same player cancels (PLACING cannot be cancelled).
_SUPERSEDED = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE"})
MAX_DESCRIBE_TICKETS = 10
MAX_PLAYERS_PER_REQUEST = 10
_FINAL_EVENTS = {
    "CANCELLED": ("MatchmakingCancelled", "Cancelled"),
    "TIMED_OUT": ("MatchmakingTimedOut", "TimedOut"),
    "FAILED": ("MatchmakingFailed", "UNEXPECTED_ERROR"),
}
_REPLACE = "replace"  # a session's replacement automatic ticket falls due (key: its ARN)

PLACING_MESSAGE = "Matchmaking ticket is in PLACING status and cannot be canceled."


# ------------------------------------------------- what other modules tell


def session_ended(state: BackendState, session: GameSession, at: float) -> None:
    """The session's automatic backfill ends; its active backfill ticket is cancelled."""
    session.auto_backfill = False
    ticket = state.tickets.get(session.backfill_ticket_id or "")
    if ticket is not None and ticket.status in ACTIVE_STATUSES:
        finish(state, ticket, "CANCELLED", at, message="The game session ended.")


def automatic_backfill_stopped(state: BackendState, configuration_name: str) -> None:
    """The configuration left AUTOMATIC: replacements scheduled for its sessions are
    dropped (they do not come back if it returns to AUTOMATIC before they fall due)."""
    for arn in list(state.replacements):
        session = state.sessions.find(arn)
        if session is None or session.configuration_name == configuration_name:
            del state.replacements[arn]


def _schedule(state: BackendState, due: float, kind: str, ticket: Ticket) -> None:
    state.schedule(due, kind, ticket.ticket_id, ticket.epoch)


# ------------------------------------------------------------------ events


def emit(
    state: BackendState,
    event_type: str,
    configuration_arn: str,
    at: float,
    tickets: list[Ticket],
    detail: Json | None = None,
    player_fields: dict[str, Json] | None = None,
) -> None:
    """Record one FlexMatch event about ``tickets`` (players with their extra fields)."""
    extra = player_fields or {}

    def player(p: Json) -> Json:
        return {"playerId": p.get("PlayerId"), **extra.get(str(p.get("PlayerId")), {})}

    entries = [
        {
            "ticketId": t.ticket_id,
            "startTime": iso_time(t.start_time),
            "players": [player(p) for p in t.players],
        }
        for t in tickets
    ]
    body: Json = {"gameSessionInfo": {"players": [p for e in entries for p in e["players"]]}}
    body.update(detail or {})
    configuration = state.configurations.find(tickets[0].configuration_name if tickets else "")
    if configuration is not None and "CustomEventData" in configuration.data:
        body.setdefault("customEventData", configuration.data["CustomEventData"])
    state.event_log.record(
        matchmaking_event(
            event_type,
            event_id=state.uuid(),
            account=state.account_id,
            region=state.region,
            at=at,
            configuration_arn=configuration_arn,
            tickets=entries,
            detail=body,
        )
    )


# --------------------------------------------------------------- lifecycle


def _ticket_event(kind: str) -> Callable[[BackendState, str, int, float], None]:
    """The handler of a ticket's timed change of ``kind`` (stale epochs are ignored)."""

    def handle(state: BackendState, ticket_id: str, epoch: int, at: float) -> None:
        ticket = state.tickets.get(ticket_id)
        if ticket is None or ticket.epoch != epoch:
            return
        if kind == "search" and ticket.status == "QUEUED":
            start_searching(state, ticket, at)
        elif (
            kind == "timeout" and ticket.status in TIMEOUT_STATUSES and not ticket.cancel_requested
        ):
            finish(
                state,
                ticket,
                "TIMED_OUT",
                at,
                reason="TIMED_OUT",
                message="Matchmaking request timed out.",
            )
        elif kind == "cancel" and ticket.status in ACTIVE_STATUSES and ticket.status != "PLACING":
            finish(state, ticket, "CANCELLED", at, message="Cancelled by StopMatchmaking.")
        elif kind == "expire" and ticket.status in FINAL_STATUSES:
            _drop_ticket(state, ticket)

    return handle


def start_searching(
    state: BackendState, ticket: Ticket, at: float, *, reason: str | None = None
) -> None:
    set_status(state, ticket, "SEARCHING", at, reason, None)
    emit(
        state,
        "MatchmakingSearching",
        ticket.configuration_arn,
        at,
        [ticket],
        {"estimatedWaitMillis": "NOT_AVAILABLE"},
    )
    want_pass(state, ticket.configuration_name, at + state.settings.match_delay_ms / 1000.0)


def want_pass(state: BackendState, configuration_name: str, due: float) -> None:
    """A matching pass of the configuration at ``due`` (or an earlier one already due)."""
    current = state.pass_due.get(configuration_name)
    if current is not None and current <= due:
        return
    state.pass_due[configuration_name] = due
    state.schedule(due, "match", configuration_name)


def _new_ticket(
    state: BackendState,
    ticket_id: str | None,
    configuration: NamedResource,
    players: list[Json],
    at: float,
    *,
    game_session_arn: str | None = None,
    automatic: bool = False,
    backfill: bool = False,
) -> Ticket:
    ticket_id = ticket_id or str(uuid.uuid4())
    if ticket_id in state.tickets:
        raise InvalidRequestException(f"Matchmaking ticket {ticket_id} already exists.")
    data = configuration.data
    ticket = Ticket(
        ticket_id=ticket_id,
        configuration_name=data["Name"],
        configuration_arn=data["ConfigurationArn"],
        players=players,
        start_time=at,
        timeout_at=at + float(data["RequestTimeoutSeconds"]),
        game_session_arn=game_session_arn,
        automatic=automatic,
        backfill=backfill or automatic,
    )
    state.tickets[ticket_id] = ticket
    state.active_by_configuration[ticket.configuration_name] += 1
    _schedule(state, at + state.settings.queued_ms / 1000.0, "search", ticket)
    _schedule(state, ticket.timeout_at, "timeout", ticket)
    return ticket


def set_status(
    state: BackendState,
    ticket: Ticket,
    status: str,
    at: float,
    reason: str | None,
    message: str | None,
) -> None:
    """The one place a status changes, so the counts and indexes never drift."""
    was_active = ticket.status in ACTIVE_STATUSES
    ticket.status, ticket.status_reason, ticket.status_message = status, reason, message
    is_active = status in ACTIVE_STATUSES
    if was_active and not is_active:
        state.active_by_configuration[ticket.configuration_name] -= 1
    elif is_active and not was_active:
        state.active_by_configuration[ticket.configuration_name] += 1
    searching = state.searching.setdefault(ticket.configuration_name, {})
    if status == "SEARCHING":
        searching[ticket.ticket_id] = ticket
    else:
        searching.pop(ticket.ticket_id, None)
    if is_active:
        ticket.end_time = None
    else:
        ticket.end_time = at
        ticket.cancel_requested = False
        for player_id in ticket.player_ids():
            if state.player_tickets.get(player_id) == ticket.ticket_id:
                del state.player_tickets[player_id]
        _schedule(state, at + state.settings.retention_s, "expire", ticket)


def finish(
    state: BackendState,
    ticket: Ticket,
    status: str,
    at: float,
    *,
    reason: str | None = None,
    message: str | None = None,
) -> None:
    """End a ticket; an ended automatic backfill may start the session's next one."""
    was_waiting = ticket.status == "REQUIRES_ACCEPTANCE"
    set_status(state, ticket, status, at, reason, message)
    if status in _FINAL_EVENTS:
        event_type, event_reason = _FINAL_EVENTS[status]
        emit(
            state,
            event_type,
            ticket.configuration_arn,
            at,
            [ticket],
            {"reason": event_reason, "message": message or status, "matchId": ticket.match_id}
            if ticket.match_id
            else {"reason": event_reason, "message": message or status},
        )
    if was_waiting:
        matches.left_proposal(state, ticket, at)
    session = state.sessions.find(ticket.game_session_arn or "")
    if session is None or session.backfill_ticket_id != ticket.ticket_id:
        return
    session.backfill_ticket_id = None
    if status in _REGENERATE_AFTER:
        replace_auto_backfill(state, session, at)


def replace_auto_backfill(state: BackendState, session: GameSession, at: float) -> None:
    """A backfill ticket of ``session`` ended on its own at ``at``: the next automatic
    one starts now (delay 0, as before) or is scheduled after the configured delay."""
    if not state.settings.auto_backfill_regenerate:
        return
    delay_ms = state.settings.auto_backfill_delay_ms
    jitter_ms = state.settings.auto_backfill_delay_jitter_ms
    if delay_ms <= 0 and jitter_ms <= 0:
        maybe_auto_backfill(state, session, at)
        return
    if session.arn in state.replacements or not _wants_auto_backfill(state, session):
        return  # one is scheduled already, or none would start
    if jitter_ms > 0:
        delay_ms += state.delay_rng.uniform(0.0, jitter_ms)
    token = state.next_seq()
    state.replacements[session.arn] = token
    state.schedule(at + delay_ms / 1000.0, _REPLACE, session.arn, token)


def _replacement_due(state: BackendState, arn: str, token: int, at: float) -> None:
    """A scheduled replacement falls due: it starts if the session still wants one."""
    if state.replacements.get(arn) != token:
        return  # dropped (MANUAL) or superseded
    del state.replacements[arn]
    session = state.sessions.find(arn)
    if session is not None and state.settings.auto_backfill_regenerate:
        maybe_auto_backfill(state, session, at)


def _wants_auto_backfill(state: BackendState, session: GameSession) -> bool:
    """GameLift would run automatic backfill for it: AUTOMATIC, not turned off by
    StopMatchmaking, ACTIVE, not full, and no backfill ticket active."""
    configuration = state.configurations.find(session.configuration_name or "")
    return (
        configuration is not None
        and configuration.data.get("BackfillMode") == "AUTOMATIC"
        and session.auto_backfill
        and session.status == "ACTIVE"
        and not session.full
        and session.backfill_ticket_id is None
    )


def maybe_auto_backfill(state: BackendState, session: GameSession, at: float) -> None:
    """Start an automatic backfill ticket if GameLift would: AUTOMATIC, on, not full."""
    configuration = state.configurations.find(session.configuration_name or "")
    if configuration is None or not _wants_auto_backfill(state, session):
        return
    ticket = _new_ticket(
        state,
        None,
        configuration,
        [ticket_player(p) for p in session.players],
        at,
        game_session_arn=session.arn,
        automatic=True,
    )
    session.backfill_ticket_id = ticket.ticket_id
    session.set_auto_ticket(ticket.ticket_id)


def _drop_ticket(state: BackendState, ticket: Ticket) -> None:
    if ticket.status in ACTIVE_STATUSES:
        state.active_by_configuration[ticket.configuration_name] -= 1
    state.searching.get(ticket.configuration_name, {}).pop(ticket.ticket_id, None)
    del state.tickets[ticket.ticket_id]
    state.candidates.pop(ticket.ticket_id, None)


# ----------------------------------------------------------------- tickets


def start_matchmaking(
    state: BackendState,
    *,
    ConfigurationName: str,
    Players: list[Json],
    TicketId: str | None = None,
    **_ignored: Any,
) -> Json:
    if len(Players) > MAX_PLAYERS_PER_REQUEST:
        raise InvalidRequestException(
            f"A matchmaking request holds at most {MAX_PLAYERS_PER_REQUEST} players; "
            f"got {len(Players)}. Split the group into several requests."
        )
    configuration = state.configurations.get(ConfigurationName)
    now = state.clock.now()
    if TicketId is not None and TicketId in state.tickets:
        raise InvalidRequestException(f"Matchmaking ticket {TicketId} already exists.")
    ticket = _new_ticket(state, TicketId, configuration, Players, now)
    for player_id in ticket.player_ids():
        older = state.tickets.get(state.player_tickets.get(player_id, ""))
        if older is not None and older.status in _SUPERSEDED:
            finish(
                state,
                older,
                "CANCELLED",
                now,
                message=f"Player {player_id} is in a newer matchmaking request "
                f"({ticket.ticket_id}).",
            )
        state.player_tickets[player_id] = ticket.ticket_id
    return {"MatchmakingTicket": ticket.describe()}


def start_match_backfill(
    state: BackendState,
    *,
    ConfigurationName: str,
    Players: list[Json],
    TicketId: str | None = None,
    GameSessionArn: str | None = None,
    **_ignored: Any,
) -> Json:
    configuration = state.configurations.get(ConfigurationName)
    now = state.clock.now()
    session: GameSession | None = None
    if GameSessionArn is not None:
        session = state.sessions.get(GameSessionArn)
        if session.status != "ACTIVE":
            raise InvalidRequestException(
                f"Game session {GameSessionArn} is {session.status} and cannot be backfilled."
            )
    elif configuration.data["FlexMatchMode"] == "WITH_QUEUE":
        raise InvalidRequestException(
            "GameSessionArn is required for a matchmaking configuration in WITH_QUEUE mode."
        )
    if TicketId is not None and TicketId in state.tickets:
        raise InvalidRequestException(f"Matchmaking ticket {TicketId} already exists.")
    if session is not None and session.backfill_ticket_id is not None:
        previous = state.tickets.get(session.backfill_ticket_id)
        if previous is not None and previous.status in ACTIVE_STATUSES:
            finish(
                state, previous, "CANCELLED", now, message="Replaced by a newer backfill request."
            )
    ticket = _new_ticket(
        state, TicketId, configuration, Players, now, game_session_arn=GameSessionArn, backfill=True
    )
    if session is not None:
        session.backfill_ticket_id = ticket.ticket_id
    return {"MatchmakingTicket": ticket.describe()}


def stop_matchmaking(state: BackendState, *, TicketId: str, **_ignored: Any) -> Json:
    ticket = state.ticket(TicketId)
    if ticket.status == "PLACING":
        raise InvalidRequestException(PLACING_MESSAGE)
    if ticket.status in FINAL_STATUSES:
        raise InvalidRequestException(
            f"Matchmaking ticket is in {ticket.status} status and cannot be canceled."
        )
    session = state.sessions.find(ticket.game_session_arn or "")
    if session is not None and session.auto_ticket_id == ticket.ticket_id:
        session.auto_backfill = False
    if not ticket.cancel_requested:
        ticket.cancel_requested = True
        now = state.clock.now()
        delay = state.settings.stop_delay_ms / 1000.0
        if delay <= 0:
            finish(state, ticket, "CANCELLED", now, message="Cancelled by StopMatchmaking.")
        else:
            _schedule(state, now + delay, "cancel", ticket)
    return {}


def describe_matchmaking(state: BackendState, *, TicketIds: list[str], **_ignored: Any) -> Json:
    if len(TicketIds) > MAX_DESCRIBE_TICKETS:
        raise InvalidRequestException(
            "1 validation error detected: Value at 'ticketIds' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_DESCRIBE_TICKETS}"
        )
    tickets = (state.tickets.get(ticket_id) for ticket_id in dict.fromkeys(TicketIds))
    return {"TicketList": [t.describe() for t in tickets if t is not None]}


# The timed changes of tickets, by kind (see :mod:`lifecycle`).
TIMED: dict[str, Callable[[BackendState, str, int, float], None]] = {
    "search": _ticket_event("search"),
    "timeout": _ticket_event("timeout"),
    "cancel": _ticket_event("cancel"),
    "expire": _ticket_event("expire"),
    _REPLACE: _replacement_due,
}

OPERATIONS = (start_matchmaking, start_match_backfill, stop_matchmaking, describe_matchmaking)
