# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""Matches made of tickets: matching passes, proposals, AcceptMatch, placement, backfill.

A matching pass per configuration (:mod:`matching` does the rules) proposes matches among
the SEARCHING tickets; with ``AcceptanceRequired`` they wait in REQUIRES_ACCEPTANCE for
AcceptMatch (AWS: https://docs.aws.amazon.com/gamelift/latest/apireference/API_AcceptMatch.html);
then WITH_QUEUE tickets are PLACING until a game session on a fleet of the queue holds them
(COMPLETED with GameSessionConnectionInfo), STANDALONE ones COMPLETE at once. A backfill
ticket's match joins its game session instead, and automatic backfill goes on while the
session has room.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from .backend_state import Json, locked
from .clock import Clock
from .exceptions import InvalidRequestException
from .matching import Backfill, Candidate, Match, MatchPlayer, find_matches, player_from_request
from .matchmaking import ACTIVE_STATUSES, Ticket, TicketOperations
from .players import Player
from .resources import Fleet, GameSession, NamedResource, PlayerSession
from .rulesets import RuleSet
from .settings import EmulatorSettings

__all__ = ["MatchOperations", "Proposal"]

DEFAULT_ACCEPTANCE_TIMEOUT_S = 60.0
MIN_PASS_SPACING_S = 0.1  # expansion re-passes never come closer than this


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


class MatchOperations(TicketOperations):
    """Matches of one account's GameLift in one Region, on top of its tickets."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        super().__init__(account_id, region, clock, settings)
        self._proposals: dict[str, Proposal] = {}
        self._candidates: dict[str, tuple[RuleSet, Candidate]] = {}  # by ticket ID

    # ------------------------------------------------------------------- hooks

    def _match_event(self, kind: str, key: str, at: float) -> None:
        if kind == "match":
            self._matching_pass(key, at)
        elif kind == "acceptance_timeout":
            self._acceptance_timed_out(key, at)
        elif kind == "placement":
            self._place(key, at)

    def _left_proposal(self, ticket: Ticket, at: float) -> None:
        """A ticket waiting for acceptance ended: the match is dropped, the rest search."""
        proposal = self._proposals.get(ticket.match_id or "")
        if proposal is not None and proposal.pending:
            self._drop_proposal(proposal, at, acceptance="Rejected", cancel=set())

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
        waiting = [self._candidate(t, rules) for t in searching if not t.backfill]
        backfills = [b for t in searching if t.backfill for b in self._backfill_of(t, rules)]
        for match in find_matches(rules, waiting, at, self._rng, backfills):
            self._propose(configuration, match, at)
        # Expansions relax the rules later: look again when the next step falls due.
        upcoming = _next_expansion(
            [t.start_time for t in searching if t.status == "SEARCHING"],
            rules.expansion_times(),
            at,
        )
        if upcoming is not None:  # one pass per match delay at most, however many wait
            spacing = max(self.settings.match_delay_ms / 1000.0, MIN_PASS_SPACING_S)
            self._want_pass(configuration_name, max(upcoming, at + spacing))

    def _candidate(self, ticket: Ticket, rules: RuleSet) -> Candidate:
        """The ticket as the rules see it, made once per ticket and rule set."""
        cached = self._candidates.get(ticket.ticket_id)
        if cached is not None and cached[0] is rules:
            return cached[1]
        made = _candidate(ticket, rules)
        self._candidates[ticket.ticket_id] = (rules, made)
        return made

    def _drop_ticket(self, ticket: Ticket) -> None:
        super()._drop_ticket(ticket)
        self._candidates.pop(ticket.ticket_id, None)

    def _backfill_of(self, ticket: Ticket, rules: RuleSet) -> list[Backfill]:
        session = self._sessions.get(ticket.game_session_arn or "")
        if session is not None and (session.status != "ACTIVE" or session.full):
            return []
        room = session.max_players - session.player_count if session is not None else None
        existing = tuple(player_from_request(p, rules) for p in ticket.players)
        return [Backfill(self._candidate(ticket, rules), existing, room)]

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
        proposal = self._proposals.get(ticket.match_id or "")
        if proposal is None or not proposal.pending:
            raise InvalidRequestException(
                f"Matchmaking ticket {TicketId} has no proposed match waiting for acceptance "
                "(its status was set through the control API)."
            )
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
        self._succeed(proposal, at, session, self._join(session, proposal, at))

    def _queue_fleet(self, configuration_name: str) -> Fleet | None:
        """The first fleet (or alias's fleet) among the configuration's queues' destinations."""
        configuration = self._configurations.get(configuration_name)
        for arn in configuration.data["GameSessionQueueArns"] if configuration else []:
            queue = self._queues.get(arn.rsplit("/", 1)[-1])
            for destination in queue.data.get("Destinations", []) if queue else []:
                target = str(destination.get("DestinationArn", "")).rsplit("/", 1)[-1]
                alias = self._aliases.get(target)
                fleet_id = alias.fleet_id if alias is not None else target
                if fleet_id is not None and fleet_id in self._fleets:
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

    def _join(self, session: GameSession, proposal: Proposal, at: float) -> dict[str, str]:
        """The proposal's new players join ``session`` (a player session each, RESERVED);
        MatchmakerData follows. Returns player ID -> player session ID."""
        configuration = self._configurations.get(proposal.configuration_name)
        rules = (self._rules_of(configuration) if configuration else None) or _NO_RULES
        joined: dict[str, str] = {}
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
                reserved = PlayerSession(
                    seq=self._next_seq(),
                    player_session_id=f"psess-{self._uuid()}",
                    player_id=seen.player_id,
                    session=session,
                    creation_time=at,
                    player_data=None,
                )
                self._player_sessions[reserved.player_session_id] = reserved
                joined[seen.player_id] = reserved.player_session_id
        session.set_auto_ticket(session.auto_ticket_id)  # MatchmakerData is rebuilt
        return joined

    def _succeed(
        self,
        proposal: Proposal,
        at: float,
        session: GameSession | None,
        player_sessions: dict[str, str] | None = None,
    ) -> None:
        self._proposals.pop(proposal.match_id, None)
        tickets = [t for t in self._proposal_tickets(proposal) if t.status in ACTIVE_STATUSES]
        fields = self._team_fields(proposal)
        matched: list[Json] = []
        for player_id, player_session_id in (player_sessions or {}).items():
            fields.setdefault(player_id, {})["playerSessionId"] = player_session_id
            matched.append({"PlayerId": player_id, "PlayerSessionId": player_session_id})
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
        self._replace_auto_backfill(session, at)

    def _fail(self, proposal: Proposal, at: float, message: str) -> None:
        self._proposals.pop(proposal.match_id, None)
        for ticket in self._proposal_tickets(proposal):
            if ticket.status == "PLACING":
                self._finish(ticket, "FAILED", at, reason="UNEXPECTED_ERROR", message=message)


_NO_RULES = RuleSet(None, (), (), (), (), {})


def _candidate(ticket: Ticket, rules: RuleSet) -> Candidate:
    players = tuple(player_from_request(p, rules) for p in ticket.players)
    if ticket.backfill:  # a backfill ticket's own players are already placed
        players = tuple(
            MatchPlayer(p.player_id, p.attributes, p.latencies, p.team) for p in players
        )
    return Candidate(ticket.ticket_id, ticket.start_time, players)


def _next_expansion(starts: list[float], waits: tuple[float, ...], at: float) -> float | None:
    """The earliest ``start + wait`` after ``at`` (when a ticket's rules relax next), or
    None: one bisection per expansion step, not one sum per ticket and step."""
    if not starts or not waits:
        return None
    starts.sort()
    due = [
        starts[i] + wait
        for wait in waits
        if (i := bisect.bisect_right(starts, at - wait)) < len(starts)
    ]
    return min(due, default=None)
