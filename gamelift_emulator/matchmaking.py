# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""The ticket lifecycle and matchmaking: StartMatchmaking, StartMatchBackfill, AcceptMatch,
StopMatchmaking, DescribeMatchmaking.

A ticket goes QUEUED -> SEARCHING; a matching pass (:mod:`matching`) per configuration
proposes matches; with acceptance the tickets wait in REQUIRES_ACCEPTANCE for AcceptMatch;
then WITH_QUEUE tickets are PLACING until a game session on a fleet of the queue holds
them (COMPLETED with GameSessionConnectionInfo), STANDALONE ones COMPLETE at once. A
backfill ticket matches waiting tickets into its game session. Every change is recorded
as a FlexMatch event (:mod:`events`).

Time only moves through the injected clock. Changes happen on a heap of due events
(search, timeout, cancel, expire, match pass, acceptance timeout, placement) that every
call drains first, in time order, so a call costs O(its own work + events that fell due).
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .backend_state import Json, locked
from .clock import Clock
from .events import EventLog, iso_time, matchmaking_event
from .exceptions import InvalidRequestException, NotFoundException
from .matching import Backfill, Candidate, Match, MatchPlayer, find_matches, player_from_request
from .players import Player, ticket_player
from .resources import Fleet, GameSession, NamedResource, ResourceOperations
from .rulesets import RuleSet
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
DEFAULT_ACCEPTANCE_TIMEOUT_S = 60.0
_FINAL_EVENTS = {
    "CANCELLED": ("MatchmakingCancelled", "Cancelled"),
    "TIMED_OUT": ("MatchmakingTimedOut", "TimedOut"),
    "FAILED": ("MatchmakingFailed", "UNEXPECTED_ERROR"),
}

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


@dataclass(eq=False)
class Proposal:
    """A match from proposal to placement: its tickets, teams and acceptances."""

    match_id: str
    configuration_name: str
    ticket_ids: list[str]
    teams: dict[str, str]  # player ID -> team (new players)
    backfill_ticket_id: str | None
    acceptance: dict[str, bool] = field(default_factory=dict)  # player ID -> accepted
    pending: bool = True  # waiting for acceptances


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
        self._proposals: dict[str, Proposal] = {}
        self._pass_due: dict[str, float] = {}  # configuration -> next matching pass
        self._events: list[tuple[float, int, str, str, int]] = []  # (due, seq, kind, id, epoch)
        self._rng = random.Random(int(settings.seed))
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
        """A UUID from the backend's seeded generator: same seed, same IDs."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

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
            if kind == "match":
                self._matching_pass(key, at)
            elif kind == "acceptance_timeout":
                self._acceptance_timed_out(key, at)
            elif kind == "placement":
                self._place(key, at)
            else:
                self._ticket_event(kind, key, epoch, at)

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
        proposal = self._proposals.get(ticket.match_id or "")
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
        if proposal is not None and proposal.pending and was_waiting:
            self._drop_proposal(proposal, at, acceptance="Rejected", cancel=set())
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
        self._searching.get(ticket.configuration_name, {}).pop(ticket.ticket_id, None)
        del self._tickets[ticket.ticket_id]

    # ---------------------------------------------------------------- matching

    def _rules_of(self, configuration: NamedResource) -> RuleSet | None:
        rule_set = self._rule_sets.get(configuration.data["RuleSetName"])
        return rule_set.rules if rule_set is not None else None

    def _matching_pass(self, configuration_name: str, at: float) -> None:
        """Form every match the configuration's rules allow at ``at``."""
        if self._pass_due.get(configuration_name) == at:
            del self._pass_due[configuration_name]
        configuration = self._configurations.get(configuration_name)
        rules = self._rules_of(configuration) if configuration is not None else None
        searching = [
            t
            for t in self._searching.get(configuration_name, {}).values()
            if not t.cancel_requested
        ]
        if configuration is None or rules is None or not searching:
            return
        waiting = [_candidate(t, rules) for t in searching if not t.backfill]
        backfills = [b for t in searching if t.backfill for b in self._backfill_of(t, rules)]
        for match in find_matches(rules, waiting, at, self._rng, backfills):
            self._propose(configuration, match, at)
        # Expansions relax the rules later: look again when the next step falls due.
        left = [t for t in searching if t.status == "SEARCHING"]
        upcoming = [
            t.start_time + wait
            for t in left
            for wait in rules.expansion_times()
            if t.start_time + wait > at
        ]
        if upcoming:
            self._want_pass(configuration_name, min(upcoming))

    def _backfill_of(self, ticket: Ticket, rules: RuleSet) -> list[Backfill]:
        session = self._sessions.get(ticket.game_session_arn or "")
        if session is not None and (session.status != "ACTIVE" or session.full):
            return []
        room = session.max_players - session.player_count if session is not None else None
        existing = tuple(player_from_request(p, rules) for p in ticket.players)
        return [Backfill(_candidate(ticket, rules), existing, room)]

    def _propose(self, configuration: NamedResource, match: Match, at: float) -> None:
        data = configuration.data
        proposal = Proposal(
            self._uuid(),
            data["Name"],
            list(match.ticket_ids),
            dict(match.teams),
            match.backfill_ticket_id,
        )
        self._proposals[proposal.match_id] = proposal
        tickets = self._proposal_tickets(proposal)
        for ticket in tickets:
            ticket.match_id = proposal.match_id
        acceptance = bool(data.get("AcceptanceRequired"))  # for backfill: new players only
        timeout = float(data.get("AcceptanceTimeoutSeconds") or DEFAULT_ACCEPTANCE_TIMEOUT_S)
        detail: Json = {"acceptanceRequired": acceptance, "matchId": proposal.match_id}
        if acceptance:
            detail["acceptanceTimeout"] = int(timeout)
        detail["ruleEvaluationMetrics"] = [
            {"ruleName": r.name, "passedCount": 1, "failedCount": 0}
            for r in (self._rules_of(configuration) or _NO_RULES).rules
        ]
        self._emit(
            "PotentialMatchCreated",
            data["ConfigurationArn"],
            at,
            tickets,
            detail,
            self._team_fields(proposal),
        )
        if acceptance:
            for ticket in tickets:
                self._set_status(ticket, "REQUIRES_ACCEPTANCE", at, None, None)
            self._schedule_id(at + timeout, "acceptance_timeout", proposal.match_id)
        else:
            self._confirm(proposal, at)

    def _proposal_tickets(self, proposal: Proposal) -> list[Ticket]:
        ids = [*proposal.ticket_ids]
        if proposal.backfill_ticket_id is not None:
            ids.insert(0, proposal.backfill_ticket_id)
        return [self._tickets[i] for i in ids if i in self._tickets]

    def _team_fields(self, proposal: Proposal) -> dict[str, Json]:
        return {player: {"team": team} for player, team in proposal.teams.items()}

    def _confirm(self, proposal: Proposal, at: float) -> None:
        """Every player accepted (or none had to): place the match, or complete it."""
        proposal.pending = False
        configuration = self._configurations.get(proposal.configuration_name)
        standalone = configuration is None or configuration.data["FlexMatchMode"] == "STANDALONE"
        if standalone and proposal.backfill_ticket_id is None:
            self._succeed(proposal, at, None)
            return
        for ticket in self._proposal_tickets(proposal):
            if ticket.status in ("SEARCHING", "REQUIRES_ACCEPTANCE"):
                self._set_status(ticket, "PLACING", at, None, None)
        self._schedule_id(at + self.settings.placement_ms / 1000.0, "placement", proposal.match_id)

    # -------------------------------------------------------------- acceptance

    @locked
    def accept_match(
        self, *, TicketId: str, PlayerIds: list[str], AcceptanceType: str, **_ignored: Any
    ) -> Json:
        ticket = self._ticket(TicketId)
        if ticket.status != "REQUIRES_ACCEPTANCE":
            raise InvalidRequestException(
                f"Matchmaking ticket {TicketId} is in {ticket.status} status; "
                "AcceptMatch is valid only for tickets in REQUIRES_ACCEPTANCE."
            )
        unknown = sorted(set(PlayerIds) - set(ticket.player_ids()))
        if unknown:
            raise InvalidRequestException(
                f"Players {', '.join(unknown)} are not in matchmaking ticket {TicketId}."
            )
        if AcceptanceType not in ("ACCEPT", "REJECT"):
            raise InvalidRequestException("AcceptanceType must be ACCEPT or REJECT.")
        proposal = self._proposals[ticket.match_id or ""]
        now = self.clock.now()
        for player_id in PlayerIds:
            proposal.acceptance[player_id] = AcceptanceType == "ACCEPT"
        tickets = self._proposal_tickets(proposal)
        fields = self._team_fields(proposal)
        for player_id, accepted in proposal.acceptance.items():
            fields.setdefault(player_id, {})["accepted"] = accepted
        self._emit(
            "AcceptMatch",
            ticket.configuration_arn,
            now,
            tickets,
            {"matchId": proposal.match_id},
            fields,
        )
        if AcceptanceType == "REJECT":
            self._drop_proposal(proposal, now, acceptance="Rejected", cancel=set(PlayerIds))
        elif all(proposal.acceptance.get(p) for p in self._must_accept(proposal)):
            self._emit(
                "AcceptMatchCompleted",
                ticket.configuration_arn,
                now,
                tickets,
                {"acceptance": "Accepted", "matchId": proposal.match_id},
                self._team_fields(proposal),
            )
            self._confirm(proposal, now)
        return {}

    def _must_accept(self, proposal: Proposal) -> list[str]:
        """Players whose acceptance the match waits for: all but a backfilled session's."""
        return [
            p
            for t in self._proposal_tickets(proposal)
            if t.ticket_id != proposal.backfill_ticket_id
            for p in t.player_ids()
        ]

    def _acceptance_timed_out(self, match_id: str, at: float) -> None:
        proposal = self._proposals.get(match_id)
        if proposal is None or not proposal.pending:
            return
        silent = {p for p in self._must_accept(proposal) if not proposal.acceptance.get(p)}
        self._drop_proposal(proposal, at, acceptance="TimedOut", cancel=silent)

    def _drop_proposal(
        self, proposal: Proposal, at: float, *, acceptance: str, cancel: set[str]
    ) -> None:
        """The match is dropped: tickets with a player in ``cancel`` are CANCELLED, the
        rest (all accepted or not yet answered) go back to SEARCHING."""
        proposal.pending = False
        del self._proposals[proposal.match_id]
        tickets = [t for t in self._proposal_tickets(proposal) if t.match_id == proposal.match_id]
        waiting = [t for t in tickets if t.status == "REQUIRES_ACCEPTANCE"]
        if waiting:
            self._emit(
                "AcceptMatchCompleted",
                waiting[0].configuration_arn,
                at,
                waiting,
                {"acceptance": acceptance, "matchId": proposal.match_id},
                self._team_fields(proposal),
            )
        for ticket in waiting:
            ticket.match_id = None
            if cancel & set(ticket.player_ids()):
                message = (
                    "A player rejected the proposed match."
                    if acceptance == "Rejected"
                    else "A player did not accept the proposed match in time."
                )
                self._finish(ticket, "CANCELLED", at, reason="CANCELLED", message=message)
            else:
                self._start_searching(ticket, at, reason="PROPOSED_MATCH_FAILED")

    # --------------------------------------------------------------- placement

    def _place(self, match_id: str, at: float) -> None:
        """The queue found a game session for the match (or the backfilled one took it)."""
        proposal = self._proposals.get(match_id)
        if proposal is None:
            return
        tickets = [
            t
            for t in self._proposal_tickets(proposal)
            if t.status == "PLACING" and t.match_id == match_id
        ]
        if not tickets:
            del self._proposals[match_id]
            return
        if proposal.backfill_ticket_id is not None:
            session = self._sessions.get(tickets[0].game_session_arn or "")
            if session is None:  # STANDALONE backfill: nothing to place
                self._succeed(proposal, at, None)
                return
            if session.status != "ACTIVE" or session.player_count + len(proposal.teams) > (
                session.max_players
            ):
                self._fail(proposal, at, "The game session can no longer take the players.")
                return
        else:
            fleet = self._queue_fleet(proposal.configuration_name)
            if fleet is None:
                self._fail(proposal, at, "No fleet of the game session queue can host the match.")
                return
            session = self._matched_session(fleet, proposal, at)
        self._join(session, proposal)
        self._succeed(proposal, at, session)

    def _queue_fleet(self, configuration_name: str) -> Fleet | None:
        """The first fleet (or alias's fleet) among the configuration's queues' destinations."""
        configuration = self._configurations.get(configuration_name)
        for arn in configuration.data["GameSessionQueueArns"] if configuration else []:
            queue = self._queues.get(arn.rsplit("/", 1)[-1])
            for destination in queue.data.get("Destinations", []) if queue else []:
                target = str(destination.get("DestinationArn", "")).rsplit("/", 1)[-1]
                fleet_id = self._aliases[target][1] if target in self._aliases else target
                if fleet_id in self._fleets:
                    return self._fleets[fleet_id]
        return None

    def _matched_session(self, fleet: Fleet, proposal: Proposal, at: float) -> GameSession:
        configuration = self._configurations[proposal.configuration_name]
        rules = self._rules_of(configuration) or _NO_RULES
        session = self._add_session(
            fleet, None, rules.max_players, session_id=f"gsess-{self._uuid()}"
        )
        session.configuration_name = configuration.data["Name"]
        session.configuration_arn = configuration.data["ConfigurationArn"]
        session.match_id = proposal.match_id
        session.teams = rules.team_names
        session.backfill_mode = configuration.data["BackfillMode"]
        session.auto_backfill = session.backfill_mode == "AUTOMATIC"
        return session

    def _join(self, session: GameSession, proposal: Proposal) -> None:
        """The proposal's new players join ``session``; MatchmakerData follows."""
        configuration = self._configurations.get(proposal.configuration_name)
        rules = (self._rules_of(configuration) if configuration else None) or _NO_RULES
        for ticket in self._proposal_tickets(proposal):
            if ticket.ticket_id == proposal.backfill_ticket_id:
                continue
            for raw in ticket.players:
                seen = player_from_request(raw, rules)
                session.players.append(
                    Player(
                        player_id=seen.player_id,
                        team=proposal.teams.get(seen.player_id, ""),
                        attributes=tuple(
                            (a.name, a.type, seen.attributes.get(a.name)) for a in rules.attributes
                        ),
                    )
                )
                session.player_count += 1
        session.set_auto_ticket(session.auto_ticket_id)  # MatchmakerData is rebuilt

    def _succeed(self, proposal: Proposal, at: float, session: GameSession | None) -> None:
        self._proposals.pop(proposal.match_id, None)
        tickets = [t for t in self._proposal_tickets(proposal) if t.status in ACTIVE_STATUSES]
        fields = self._team_fields(proposal)
        matched: list[Json] = []
        if session is not None:
            for player_id in proposal.teams:
                fields[player_id]["playerSessionId"] = f"psess-{self._uuid()}"
                matched.append(
                    {"PlayerId": player_id, "PlayerSessionId": fields[player_id]["playerSessionId"]}
                )
        info: Json = {}
        if session is not None:
            described = session.describe()
            info = {
                "gameSessionArn": session.arn,
                "ipAddress": described["IpAddress"],
                "port": described["Port"],
            }
        for ticket in tickets:
            if session is not None:
                own = set(ticket.player_ids())
                ticket.connection_info = {
                    "GameSessionArn": session.arn,
                    "IpAddress": info["ipAddress"],
                    "DnsName": described["DnsName"],
                    "Port": info["port"],
                    "MatchedPlayerSessions": [m for m in matched if m["PlayerId"] in own],
                }
        if tickets:
            players = [
                {"playerId": p, **fields.get(p, {})} for t in tickets for p in t.player_ids()
            ]
            self._emit(
                "MatchmakingSucceeded",
                tickets[0].configuration_arn,
                at,
                tickets,
                {"matchId": proposal.match_id, "gameSessionInfo": {**info, "players": players}},
                fields,
            )
        for ticket in tickets:
            self._set_status(ticket, "COMPLETED", at, None, None)
        backfill = self._tickets.get(proposal.backfill_ticket_id or "")
        if backfill is not None and session is not None:
            self._after_backfill(backfill, session, at)
        elif session is not None:
            self._maybe_auto_backfill(session, at)

    def _after_backfill(self, ticket: Ticket, session: GameSession, at: float) -> None:
        """The backfill ticket is done; automatic backfill goes on while the session has room."""
        if session.backfill_ticket_id == ticket.ticket_id:
            session.backfill_ticket_id = None
        if self.settings.auto_backfill_regenerate:
            self._maybe_auto_backfill(session, at)

    def _fail(self, proposal: Proposal, at: float, message: str) -> None:
        self._proposals.pop(proposal.match_id, None)
        for ticket in self._proposal_tickets(proposal):
            if ticket.status == "PLACING":
                self._finish(ticket, "FAILED", at, reason="UNEXPECTED_ERROR", message=message)

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


_NO_RULES = RuleSet(None, (), (), (), (), {})


def _candidate(ticket: Ticket, rules: RuleSet) -> Candidate:
    players = tuple(player_from_request(p, rules) for p in ticket.players)
    if ticket.backfill:  # a backfill ticket's own players are already placed
        players = tuple(
            MatchPlayer(p.player_id, p.attributes, p.latencies, p.team) for p in players
        )
    return Candidate(ticket.ticket_id, ticket.start_time, players)
