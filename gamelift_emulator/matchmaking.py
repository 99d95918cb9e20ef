# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""The ticket lifecycle: StartMatchmaking, StartMatchBackfill, StopMatchmaking, DescribeMatchmaking.

A ticket goes QUEUED -> SEARCHING, then whatever the matches layer (:mod:`matches`) makes
of it, or TIMED_OUT (``RequestTimeoutSeconds``) or CANCELLED (StopMatchmaking, a newer
request holding one of its players). Every change is recorded as a FlexMatch event
(:mod:`events`).

Automatic backfill: a non-full ACTIVE session of an AUTOMATIC configuration has an
automatic ticket; when a session's backfill ticket ends on its own (COMPLETED, TIMED_OUT,
FAILED) the replacement starts ``auto_backfill_delay_ms`` (+ seeded jitter) later, if the
session still wants one then. StopMatchmaking of the automatic ticket turns it off for the
session for good; BackfillMode MANUAL stops every new one, scheduled replacements included.

Time only moves through the injected clock. Changes happen on a heap of due events
(search, timeout, cancel, expire, and the matches layer's own) that every call drains
first, in time order, so a call costs O(its own work + events that fell due).
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .backend_state import Json, earliest, locked
from .clock import Clock
from .events import EventLog, iso_time, matchmaking_event
from .exceptions import InvalidRequestException, NotFoundException
from .players import ticket_player
from .resources import GameSession, NamedResource, ResourceOperations
from .settings import EmulatorSettings

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "FINAL_STATUSES",
    "MAX_PLAYERS_PER_REQUEST",
    "PLACING_MESSAGE",
    "Ticket",
    "TicketOperations",
]

ACTIVE_STATUSES = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"})
FINAL_STATUSES = frozenset({"CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"})
ALL_STATUSES = ACTIVE_STATUSES | FINAL_STATUSES
# Statuses in which RequestTimeoutSeconds still runs; PLACING waits for the placement.
TIMEOUT_STATUSES = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE"})
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

_TICKET_EVENTS = frozenset({"search", "timeout", "cancel", "expire"})
_REPLACE = "replace"  # a session's replacement automatic ticket falls due (key: its ARN)

PLACING_MESSAGE = "Matchmaking ticket is in PLACING status and cannot be canceled."


@dataclass(eq=False)
class Ticket:
    """A matchmaking or backfill ticket and its lifecycle bookkeeping."""

    ticket_id: str
    configuration_name: str
    configuration_arn: str
    players: list[Json]
    start_time: float
    timeout_at: float
    status: str = "QUEUED"
    status_reason: str | None = None
    status_message: str | None = None
    end_time: float | None = None
    game_session_arn: str | None = None
    automatic: bool = False
    backfill: bool = False
    cancel_requested: bool = False
    epoch: int = 0  # bumped by forced statuses so events scheduled before are ignored
    match_id: str | None = None  # the proposed or placed match holding the ticket
    connection_info: Json | None = None

    def describe(self) -> Json:
        """The ticket as DescribeMatchmaking returns it."""
        out: Json = {
            "TicketId": self.ticket_id,
            "ConfigurationName": self.configuration_name,
            "ConfigurationArn": self.configuration_arn,
            "Status": self.status,
            "StartTime": self.start_time,
            "Players": self.players,
        }
        if self.status_reason is not None:
            out["StatusReason"] = self.status_reason
        if self.status_message is not None:
            out["StatusMessage"] = self.status_message
        if self.end_time is not None:
            out["EndTime"] = self.end_time
        if self.connection_info is not None:
            out["GameSessionConnectionInfo"] = self.connection_info
        return out

    def player_ids(self) -> list[str]:
        return [str(p.get("PlayerId")) for p in self.players]


# The bits uuid.UUID(int=..., version=4) sets: version 4, RFC 4122 variant.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


class TicketOperations(ResourceOperations):
    """Tickets of one account's GameLift in one Region, on top of its resources."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        super().__init__(account_id, region, clock, settings)
        self._tickets: dict[str, Ticket] = {}  # in creation order
        self._active_by_configuration: Counter[str] = Counter()
        self._searching: dict[str, dict[str, Ticket]] = {}  # configuration -> tickets
        self._player_tickets: dict[str, str] = {}  # player ID -> newest matchmaking ticket
        self._pass_due: dict[str, float] = {}  # configuration -> next matching pass
        self._events: list[tuple[float, int, str, str, int]] = []  # (due, seq, kind, id, epoch)
        self._rng = random.Random(int(settings.seed))
        # Delays of replacement automatic tickets: a generator of their own, so that drawing
        # them changes no ID or match of a seeded run.
        self._delay_rng = random.Random(f"auto-backfill-delay:{int(settings.seed)}")
        self._replacements: dict[str, int] = {}  # session ARN -> token of its scheduled one
        self.event_log = EventLog()

    # ------------------------------------------------------------------- hooks

    def _session_ended(self, session: GameSession, at: float) -> None:
        """The session's automatic backfill ends; its active backfill ticket is cancelled."""
        super()._session_ended(session, at)
        session.auto_backfill = False
        ticket = self._tickets.get(session.backfill_ticket_id or "")
        if ticket is not None and ticket.status in ACTIVE_STATUSES:
            self._finish(ticket, "CANCELLED", at, message="The game session ended.")

    def _active_tickets(self, configuration_name: str) -> int:
        return self._active_by_configuration[configuration_name]

    def _automatic_backfill_stopped(self, configuration_name: str, at: float) -> None:
        """The configuration left AUTOMATIC: replacements scheduled for its sessions are
        dropped (they do not come back if it returns to AUTOMATIC before they fall due)."""
        super()._automatic_backfill_stopped(configuration_name, at)
        for arn in list(self._replacements):
            session = self._sessions.get(arn)
            if session is None or session.configuration_name == configuration_name:
                del self._replacements[arn]

    def _ticket(self, ticket_id: str) -> Ticket:
        try:
            return self._tickets[ticket_id]
        except KeyError:
            raise NotFoundException(f"Matchmaking ticket {ticket_id} not found.") from None

    def _schedule(self, due: float, kind: str, ticket: Ticket) -> None:
        self._schedule_id(due, kind, ticket.ticket_id, ticket.epoch)

    def _schedule_id(self, due: float, kind: str, key: str, epoch: int = 0) -> None:
        heapq.heappush(self._events, (due, self._next_seq(), kind, key, epoch))

    def _uuid(self) -> str:
        """A UUID (version 4) from the backend's seeded generator: same seed, same IDs."""
        digits = f"{self._rng.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    # ------------------------------------------------------------------ events

    def _emit(
        self,
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
        configuration = self._configurations.get(tickets[0].configuration_name if tickets else "")
        if configuration is not None and "CustomEventData" in configuration.data:
            body.setdefault("customEventData", configuration.data["CustomEventData"])
        self.event_log.record(
            matchmaking_event(
                event_type,
                event_id=self._uuid(),
                account=self.account_id,
                region=self.region,
                at=at,
                configuration_arn=configuration_arn,
                tickets=entries,
                detail=body,
            )
        )

    # --------------------------------------------------------------- lifecycle

    def _advance(self) -> None:
        """Apply every lifecycle event that fell due, at the time it fell due."""
        super()._advance()
        now = self.clock.now()
        while self._events and self._events[0][0] <= now:
            at, _, kind, key, epoch = heapq.heappop(self._events)
            if kind in _TICKET_EVENTS:
                self._ticket_event(kind, key, epoch, at)
            elif kind == _REPLACE:
                self._replacement_due(key, epoch, at)
            else:
                self._match_event(kind, key, at)

    def _next_due(self) -> float | None:
        mine = self._events[0][0] if self._events else None
        return earliest(super()._next_due(), mine)

    def _match_event(self, kind: str, key: str, at: float) -> None:
        """Hook for the matches layer: one of its scheduled events fell due."""

    def _left_proposal(self, ticket: Ticket, at: float) -> None:
        """Hook for the matches layer: a ticket waiting for acceptance ended."""

    def _ticket_event(self, kind: str, ticket_id: str, epoch: int, at: float) -> None:
        ticket = self._tickets.get(ticket_id)
        if ticket is None or ticket.epoch != epoch:
            return
        if kind == "search" and ticket.status == "QUEUED":
            self._start_searching(ticket, at)
        elif (
            kind == "timeout" and ticket.status in TIMEOUT_STATUSES and not ticket.cancel_requested
        ):
            self._finish(
                ticket,
                "TIMED_OUT",
                at,
                reason="TIMED_OUT",
                message="Matchmaking request timed out.",
            )
        elif kind == "cancel" and ticket.status in ACTIVE_STATUSES and ticket.status != "PLACING":
            self._finish(ticket, "CANCELLED", at, message="Cancelled by StopMatchmaking.")
        elif kind == "expire" and ticket.status in FINAL_STATUSES:
            self._drop_ticket(ticket)

    def _start_searching(self, ticket: Ticket, at: float, *, reason: str | None = None) -> None:
        self._set_status(ticket, "SEARCHING", at, reason, None)
        self._emit(
            "MatchmakingSearching",
            ticket.configuration_arn,
            at,
            [ticket],
            {"estimatedWaitMillis": "NOT_AVAILABLE"},
        )
        self._want_pass(ticket.configuration_name, at + self.settings.match_delay_ms / 1000.0)

    def _want_pass(self, configuration_name: str, due: float) -> None:
        """A matching pass of the configuration at ``due`` (or an earlier one already due)."""
        current = self._pass_due.get(configuration_name)
        if current is not None and current <= due:
            return
        self._pass_due[configuration_name] = due
        self._schedule_id(due, "match", configuration_name)

    def _new_ticket(
        self,
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
        if ticket_id in self._tickets:
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
        self._tickets[ticket_id] = ticket
        self._active_by_configuration[ticket.configuration_name] += 1
        self._schedule(at + self.settings.queued_ms / 1000.0, "search", ticket)
        self._schedule(ticket.timeout_at, "timeout", ticket)
        return ticket

    def _set_status(
        self, ticket: Ticket, status: str, at: float, reason: str | None, message: str | None
    ) -> None:
        """The one place a status changes, so the counts and indexes never drift."""
        was_active = ticket.status in ACTIVE_STATUSES
        ticket.status, ticket.status_reason, ticket.status_message = status, reason, message
        is_active = status in ACTIVE_STATUSES
        if was_active and not is_active:
            self._active_by_configuration[ticket.configuration_name] -= 1
        elif is_active and not was_active:
            self._active_by_configuration[ticket.configuration_name] += 1
        searching = self._searching.setdefault(ticket.configuration_name, {})
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
                if self._player_tickets.get(player_id) == ticket.ticket_id:
                    del self._player_tickets[player_id]
            self._schedule(at + self.settings.retention_s, "expire", ticket)

    def _finish(
        self,
        ticket: Ticket,
        status: str,
        at: float,
        *,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """End a ticket; an ended automatic backfill may start the session's next one."""
        was_waiting = ticket.status == "REQUIRES_ACCEPTANCE"
        self._set_status(ticket, status, at, reason, message)
        if status in _FINAL_EVENTS:
            event_type, event_reason = _FINAL_EVENTS[status]
            self._emit(
                event_type,
                ticket.configuration_arn,
                at,
                [ticket],
                {"reason": event_reason, "message": message or status, "matchId": ticket.match_id}
                if ticket.match_id
                else {"reason": event_reason, "message": message or status},
            )
        if was_waiting:
            self._left_proposal(ticket, at)
        session = self._sessions.get(ticket.game_session_arn or "")
        if session is None or session.backfill_ticket_id != ticket.ticket_id:
            return
        session.backfill_ticket_id = None
        if status in _REGENERATE_AFTER:
            self._replace_auto_backfill(session, at)

    def _replace_auto_backfill(self, session: GameSession, at: float) -> None:
        """A backfill ticket of ``session`` ended on its own at ``at``: the next automatic
        one starts now (delay 0, as before) or is scheduled after the configured delay."""
        if not self.settings.auto_backfill_regenerate:
            return
        delay_ms = self.settings.auto_backfill_delay_ms
        jitter_ms = self.settings.auto_backfill_delay_jitter_ms
        if delay_ms <= 0 and jitter_ms <= 0:
            self._maybe_auto_backfill(session, at)
            return
        if session.arn in self._replacements or not self._wants_auto_backfill(session):
            return  # one is scheduled already, or none would start
        if jitter_ms > 0:
            delay_ms += self._delay_rng.uniform(0.0, jitter_ms)
        token = self._next_seq()
        self._replacements[session.arn] = token
        self._schedule_id(at + delay_ms / 1000.0, _REPLACE, session.arn, token)

    def _replacement_due(self, arn: str, token: int, at: float) -> None:
        """A scheduled replacement falls due: it starts if the session still wants one."""
        if self._replacements.get(arn) != token:
            return  # dropped (MANUAL) or superseded
        del self._replacements[arn]
        session = self._sessions.get(arn)
        if session is not None and self.settings.auto_backfill_regenerate:
            self._maybe_auto_backfill(session, at)

    def _wants_auto_backfill(self, session: GameSession) -> bool:
        """GameLift would run automatic backfill for it: AUTOMATIC, not turned off by
        StopMatchmaking, ACTIVE, not full, and no backfill ticket active."""
        configuration = self._configurations.get(session.configuration_name or "")
        return (
            configuration is not None
            and configuration.data.get("BackfillMode") == "AUTOMATIC"
            and session.auto_backfill
            and session.status == "ACTIVE"
            and not session.full
            and session.backfill_ticket_id is None
        )

    def _maybe_auto_backfill(self, session: GameSession, at: float) -> None:
        """Start an automatic backfill ticket if GameLift would: AUTOMATIC, on, not full."""
        configuration = self._configurations.get(session.configuration_name or "")
        if configuration is None or not self._wants_auto_backfill(session):
            return
        ticket = self._new_ticket(
            None,
            configuration,
            [ticket_player(p) for p in session.players],
            at,
            game_session_arn=session.arn,
            automatic=True,
        )
        session.backfill_ticket_id = ticket.ticket_id
        session.set_auto_ticket(ticket.ticket_id)

    def _drop_ticket(self, ticket: Ticket) -> None:
        if ticket.status in ACTIVE_STATUSES:
            self._active_by_configuration[ticket.configuration_name] -= 1
        self._searching.get(ticket.configuration_name, {}).pop(ticket.ticket_id, None)
        del self._tickets[ticket.ticket_id]

    # ----------------------------------------------------------------- tickets

    @locked
    def start_matchmaking(
        self,
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
        configuration = self._configuration(ConfigurationName)
        now = self.clock.now()
        if TicketId is not None and TicketId in self._tickets:
            raise InvalidRequestException(f"Matchmaking ticket {TicketId} already exists.")
        ticket = self._new_ticket(TicketId, configuration, Players, now)
        for player_id in ticket.player_ids():
            older = self._tickets.get(self._player_tickets.get(player_id, ""))
            if older is not None and older.status in _SUPERSEDED:
                self._finish(
                    older,
                    "CANCELLED",
                    now,
                    message=f"Player {player_id} is in a newer matchmaking request "
                    f"({ticket.ticket_id}).",
                )
            self._player_tickets[player_id] = ticket.ticket_id
        return {"MatchmakingTicket": ticket.describe()}

    @locked
    def start_match_backfill(
        self,
        *,
        ConfigurationName: str,
        Players: list[Json],
        TicketId: str | None = None,
        GameSessionArn: str | None = None,
        **_ignored: Any,
    ) -> Json:
        configuration = self._configuration(ConfigurationName)
        now = self.clock.now()
        session: GameSession | None = None
        if GameSessionArn is not None:
            session = self._session(GameSessionArn)
            if session.status != "ACTIVE":
                raise InvalidRequestException(
                    f"Game session {GameSessionArn} is {session.status} and cannot be backfilled."
                )
        elif configuration.data["FlexMatchMode"] == "WITH_QUEUE":
            raise InvalidRequestException(
                "GameSessionArn is required for a matchmaking configuration in WITH_QUEUE mode."
            )
        if TicketId is not None and TicketId in self._tickets:
            raise InvalidRequestException(f"Matchmaking ticket {TicketId} already exists.")
        if session is not None and session.backfill_ticket_id is not None:
            previous = self._tickets.get(session.backfill_ticket_id)
            if previous is not None and previous.status in ACTIVE_STATUSES:
                self._finish(
                    previous, "CANCELLED", now, message="Replaced by a newer backfill request."
                )
        ticket = self._new_ticket(
            TicketId, configuration, Players, now, game_session_arn=GameSessionArn, backfill=True
        )
        if session is not None:
            session.backfill_ticket_id = ticket.ticket_id
        return {"MatchmakingTicket": ticket.describe()}

    @locked
    def stop_matchmaking(self, *, TicketId: str, **_ignored: Any) -> Json:
        ticket = self._ticket(TicketId)
        if ticket.status == "PLACING":
            raise InvalidRequestException(PLACING_MESSAGE)
        if ticket.status in FINAL_STATUSES:
            raise InvalidRequestException(
                f"Matchmaking ticket is in {ticket.status} status and cannot be canceled."
            )
        session = self._sessions.get(ticket.game_session_arn or "")
        if session is not None and session.auto_ticket_id == ticket.ticket_id:
            session.auto_backfill = False
        if not ticket.cancel_requested:
            ticket.cancel_requested = True
            now = self.clock.now()
            delay = self.settings.stop_delay_ms / 1000.0
            if delay <= 0:
                self._finish(ticket, "CANCELLED", now, message="Cancelled by StopMatchmaking.")
            else:
                self._schedule(now + delay, "cancel", ticket)
        return {}

    @locked
    def describe_matchmaking(self, *, TicketIds: list[str], **_ignored: Any) -> Json:
        if len(TicketIds) > MAX_DESCRIBE_TICKETS:
            raise InvalidRequestException(
                "1 validation error detected: Value at 'ticketIds' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_DESCRIBE_TICKETS}"
            )
        tickets = (self._tickets.get(ticket_id) for ticket_id in dict.fromkeys(TicketIds))
        return {"TicketList": [t.describe() for t in tickets if t is not None]}
