# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""The ticket lifecycle and matchmaking: StartMatchmaking, StartMatchBackfill, StopMatchmaking.

Time only moves through the injected clock. Tickets change status on a heap of due events
(search, timeout, cancel, expire) that every call drains first, so a call costs O(its own
work + events that fell due), never a scan of every ticket.
"""

from __future__ import annotations

import heapq
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .backend_state import Json, locked
from .clock import Clock
from .exceptions import InvalidRequestException, NotFoundException
from .players import ticket_player
from .resources import GameSession, NamedResource, ResourceOperations
from .settings import EmulatorSettings

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "FINAL_STATUSES",
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
MAX_DESCRIBE_TICKETS = 10

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
    cancel_requested: bool = False
    epoch: int = 0  # bumped by forced statuses so events scheduled before are ignored

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
        return out


class TicketOperations(ResourceOperations):
    """Tickets of one account's GameLift in one Region, on top of its resources."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        super().__init__(account_id, region, clock, settings)
        self._tickets: dict[str, Ticket] = {}  # in creation order
        self._active_by_configuration: Counter[str] = Counter()
        self._events: list[tuple[float, int, str, str, int]] = []  # (due, seq, kind, id, epoch)

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

    def _ticket(self, ticket_id: str) -> Ticket:
        try:
            return self._tickets[ticket_id]
        except KeyError:
            raise NotFoundException(f"Matchmaking ticket {ticket_id} not found.") from None

    def _schedule(self, due: float, kind: str, ticket: Ticket) -> None:
        heapq.heappush(self._events, (due, self._next_seq(), kind, ticket.ticket_id, ticket.epoch))

    # --------------------------------------------------------------- lifecycle

    def _advance(self) -> None:
        """Apply every lifecycle event that fell due, at the time it fell due."""
        super()._advance()
        now = self.clock.now()
        while self._events and self._events[0][0] <= now:
            at, _, kind, ticket_id, epoch = heapq.heappop(self._events)
            ticket = self._tickets.get(ticket_id)
            if ticket is None or ticket.epoch != epoch:
                continue
            if kind == "search" and ticket.status == "QUEUED":
                ticket.status = "SEARCHING"
            elif (
                kind == "timeout"
                and ticket.status in TIMEOUT_STATUSES
                and not ticket.cancel_requested
            ):
                self._finish(
                    ticket,
                    "TIMED_OUT",
                    at,
                    reason="TIMED_OUT",
                    message="Matchmaking request timed out.",
                )
            elif kind == "cancel" and ticket.status in ACTIVE_STATUSES:
                self._finish(ticket, "CANCELLED", at, message="Cancelled by StopMatchmaking.")
            elif kind == "expire" and ticket.status in FINAL_STATUSES:
                self._drop_ticket(ticket)

    def _new_ticket(
        self,
        ticket_id: str | None,
        configuration: NamedResource,
        players: list[Json],
        at: float,
        *,
        game_session_arn: str | None = None,
        automatic: bool = False,
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
        )
        self._tickets[ticket_id] = ticket
        self._active_by_configuration[ticket.configuration_name] += 1
        self._schedule(at + self.settings.queued_ms / 1000.0, "search", ticket)
        self._schedule(ticket.timeout_at, "timeout", ticket)
        return ticket

    def _set_status(
        self, ticket: Ticket, status: str, at: float, reason: str | None, message: str | None
    ) -> None:
        """The one place a status changes, so the active counts never drift."""
        was_active = ticket.status in ACTIVE_STATUSES
        ticket.status, ticket.status_reason, ticket.status_message = status, reason, message
        is_active = status in ACTIVE_STATUSES
        if was_active and not is_active:
            self._active_by_configuration[ticket.configuration_name] -= 1
        elif is_active and not was_active:
            self._active_by_configuration[ticket.configuration_name] += 1
        if is_active:
            ticket.end_time = None
        else:
            ticket.end_time = at
            ticket.cancel_requested = False
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
        self._set_status(ticket, status, at, reason, message)
        session = self._sessions.get(ticket.game_session_arn or "")
        if session is None or session.backfill_ticket_id != ticket.ticket_id:
            return
        session.backfill_ticket_id = None
        if status in _REGENERATE_AFTER and self.settings.auto_backfill_regenerate:
            self._maybe_auto_backfill(session, at)

    def _maybe_auto_backfill(self, session: GameSession, at: float) -> None:
        """Start an automatic backfill ticket if GameLift would: AUTOMATIC, on, not full."""
        configuration = self._configurations.get(session.configuration_name or "")
        if (
            configuration is None
            or configuration.data.get("BackfillMode") != "AUTOMATIC"
            or not session.auto_backfill
            or session.status != "ACTIVE"
            or session.full
            or session.backfill_ticket_id is not None
        ):
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
        configuration = self._configuration(ConfigurationName)
        ticket = self._new_ticket(TicketId, configuration, Players, self.clock.now())
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
            TicketId, configuration, Players, now, game_session_arn=GameSessionArn
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
