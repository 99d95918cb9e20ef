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
from collections.abc import Callable
from typing import Any

from . import game_sessions, matchmaking
from .exceptions import InvalidRequestException
from .matching import Backfill, Candidate, Match, MatchPlayer, find_matches, player_from_request
from .players import Player
from .records import ACTIVE_STATUSES, Fleet, GameSession, NamedResource, Proposal, Ticket
from .rulesets import RuleSet
from .state import BackendState, Json

__all__ = ["OPERATIONS", "TIMED", "left_proposal"]

DEFAULT_ACCEPTANCE_TIMEOUT_S = 60.0
MIN_PASS_SPACING_S = 0.1  # expansion re-passes never come closer than this


def left_proposal(state: BackendState, ticket: Ticket, at: float) -> None:
    """A ticket waiting for acceptance ended: the match is dropped, the rest search."""
    proposal = state.proposals.get(ticket.match_id or "")
    if proposal is not None and proposal.pending:
        _drop_proposal(state, proposal, at, acceptance="Rejected", cancel=set())


# ---------------------------------------------------------------- matching


def _rules_of(state: BackendState, configuration: NamedResource) -> RuleSet | None:
    rule_set = state.rule_sets.find(configuration.data["RuleSetName"])
    return rule_set.rules if rule_set is not None else None


def _matching_pass(state: BackendState, configuration_name: str, at: float) -> None:
    """Form every match the configuration's rules allow at ``at``."""
    if state.pass_due.get(configuration_name) == at:
        del state.pass_due[configuration_name]
    configuration = state.configurations.find(configuration_name)
    rules = _rules_of(state, configuration) if configuration is not None else None
    searching = [
        t for t in state.searching.get(configuration_name, {}).values() if not t.cancel_requested
    ]
    if configuration is None or rules is None or not searching:
        return
    waiting = [_cached_candidate(state, t, rules) for t in searching if not t.backfill]
    backfills = [b for t in searching if t.backfill for b in _backfill_of(state, t, rules)]
    for match in find_matches(rules, waiting, at, state.rng, backfills):
        _propose(state, configuration, match, at)
    # Expansions relax the rules later: look again when the next step falls due.
    upcoming = _next_expansion(
        [t.start_time for t in searching if t.status == "SEARCHING"],
        rules.expansion_times(),
        at,
    )
    if upcoming is not None:  # one pass per match delay at most, however many wait
        spacing = max(state.settings.match_delay_ms / 1000.0, MIN_PASS_SPACING_S)
        matchmaking.want_pass(state, configuration_name, max(upcoming, at + spacing))


def _cached_candidate(state: BackendState, ticket: Ticket, rules: RuleSet) -> Candidate:
    """The ticket as the rules see it, made once per ticket and rule set."""
    cached = state.candidates.get(ticket.ticket_id)
    if cached is not None and cached[0] is rules:
        return cached[1]
    made = _candidate(ticket, rules)
    state.candidates[ticket.ticket_id] = (rules, made)
    return made


def _backfill_of(state: BackendState, ticket: Ticket, rules: RuleSet) -> list[Backfill]:
    session = state.sessions.find(ticket.game_session_arn or "")
    if session is not None and (session.status != "ACTIVE" or session.full):
        return []
    room = session.max_players - session.player_count if session is not None else None
    existing = tuple(player_from_request(p, rules) for p in ticket.players)
    return [Backfill(_cached_candidate(state, ticket, rules), existing, room)]


def _propose(state: BackendState, configuration: NamedResource, match: Match, at: float) -> None:
    data = configuration.data
    proposal = Proposal(
        state.uuid(),
        data["Name"],
        list(match.ticket_ids),
        dict(match.teams),
        match.backfill_ticket_id,
    )
    state.proposals[proposal.match_id] = proposal
    tickets = _proposal_tickets(state, proposal)
    for ticket in tickets:
        ticket.match_id = proposal.match_id
    acceptance = bool(data.get("AcceptanceRequired"))  # for backfill: new players only
    timeout = float(data.get("AcceptanceTimeoutSeconds") or DEFAULT_ACCEPTANCE_TIMEOUT_S)
    detail: Json = {"acceptanceRequired": acceptance, "matchId": proposal.match_id}
    if acceptance:
        detail["acceptanceTimeout"] = int(timeout)
    detail["ruleEvaluationMetrics"] = [
        {"ruleName": r.name, "passedCount": 1, "failedCount": 0}
        for r in (_rules_of(state, configuration) or _NO_RULES).rules
    ]
    matchmaking.emit(
        state,
        "PotentialMatchCreated",
        data["ConfigurationArn"],
        at,
        tickets,
        detail,
        _team_fields(state, proposal),
    )
    if acceptance:
        for ticket in tickets:
            matchmaking.set_status(state, ticket, "REQUIRES_ACCEPTANCE", at, None, None)
        state.schedule(at + timeout, "acceptance_timeout", proposal.match_id)
    else:
        _confirm(state, proposal, at)


def _proposal_tickets(state: BackendState, proposal: Proposal) -> list[Ticket]:
    ids = [*proposal.ticket_ids]
    if proposal.backfill_ticket_id is not None:
        ids.insert(0, proposal.backfill_ticket_id)
    return [state.tickets[i] for i in ids if i in state.tickets]


def _team_fields(state: BackendState, proposal: Proposal) -> dict[str, Json]:
    return {player: {"team": team} for player, team in proposal.teams.items()}


def _confirm(state: BackendState, proposal: Proposal, at: float) -> None:
    """Every player accepted (or none had to): place the match, or complete it."""
    proposal.pending = False
    configuration = state.configurations.find(proposal.configuration_name)
    standalone = configuration is None or configuration.data["FlexMatchMode"] == "STANDALONE"
    if standalone and proposal.backfill_ticket_id is None:
        _succeed(state, proposal, at, None)
        return
    for ticket in _proposal_tickets(state, proposal):
        if ticket.status in ("SEARCHING", "REQUIRES_ACCEPTANCE"):
            matchmaking.set_status(state, ticket, "PLACING", at, None, None)
    state.schedule(at + state.settings.placement_ms / 1000.0, "placement", proposal.match_id)


# -------------------------------------------------------------- acceptance


def accept_match(
    state: BackendState,
    *,
    TicketId: str,
    PlayerIds: list[str],
    AcceptanceType: str,
    **_ignored: Any,
) -> Json:
    ticket = state.ticket(TicketId)
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
    proposal = state.proposals.get(ticket.match_id or "")
    if proposal is None or not proposal.pending:
        raise InvalidRequestException(
            f"Matchmaking ticket {TicketId} has no proposed match waiting for acceptance "
            "(its status was set through the control API)."
        )
    now = state.clock.now()
    for player_id in PlayerIds:
        proposal.acceptance[player_id] = AcceptanceType == "ACCEPT"
    tickets = _proposal_tickets(state, proposal)
    fields = _team_fields(state, proposal)
    for player_id, accepted in proposal.acceptance.items():
        fields.setdefault(player_id, {})["accepted"] = accepted
    matchmaking.emit(
        state,
        "AcceptMatch",
        ticket.configuration_arn,
        now,
        tickets,
        {"matchId": proposal.match_id},
        fields,
    )
    if AcceptanceType == "REJECT":
        _drop_proposal(state, proposal, now, acceptance="Rejected", cancel=set(PlayerIds))
    elif all(proposal.acceptance.get(p) for p in _must_accept(state, proposal)):
        matchmaking.emit(
            state,
            "AcceptMatchCompleted",
            ticket.configuration_arn,
            now,
            tickets,
            {"acceptance": "Accepted", "matchId": proposal.match_id},
            _team_fields(state, proposal),
        )
        _confirm(state, proposal, now)
    return {}


def _must_accept(state: BackendState, proposal: Proposal) -> list[str]:
    """Players whose acceptance the match waits for: all but a backfilled session's."""
    return [
        p
        for t in _proposal_tickets(state, proposal)
        if t.ticket_id != proposal.backfill_ticket_id
        for p in t.player_ids()
    ]


def _acceptance_timed_out(state: BackendState, match_id: str, at: float) -> None:
    proposal = state.proposals.get(match_id)
    if proposal is None or not proposal.pending:
        return
    silent = {p for p in _must_accept(state, proposal) if not proposal.acceptance.get(p)}
    _drop_proposal(state, proposal, at, acceptance="TimedOut", cancel=silent)


def _drop_proposal(
    state: BackendState, proposal: Proposal, at: float, *, acceptance: str, cancel: set[str]
) -> None:
    """The match is dropped: tickets with a player in ``cancel`` are CANCELLED, the
    rest (all accepted or not yet answered) go back to SEARCHING."""
    proposal.pending = False
    del state.proposals[proposal.match_id]
    tickets = [t for t in _proposal_tickets(state, proposal) if t.match_id == proposal.match_id]
    waiting = [t for t in tickets if t.status == "REQUIRES_ACCEPTANCE"]
    if waiting:
        matchmaking.emit(
            state,
            "AcceptMatchCompleted",
            waiting[0].configuration_arn,
            at,
            waiting,
            {"acceptance": acceptance, "matchId": proposal.match_id},
            _team_fields(state, proposal),
        )
    for ticket in waiting:
        ticket.match_id = None
        if cancel & set(ticket.player_ids()):
            message = (
                "A player rejected the proposed match."
                if acceptance == "Rejected"
                else "A player did not accept the proposed match in time."
            )
            matchmaking.finish(state, ticket, "CANCELLED", at, reason="CANCELLED", message=message)
        else:
            matchmaking.start_searching(state, ticket, at, reason="PROPOSED_MATCH_FAILED")


# --------------------------------------------------------------- placement


def _place(state: BackendState, match_id: str, at: float) -> None:
    """The queue found a game session for the match (or the backfilled one took it)."""
    proposal = state.proposals.get(match_id)
    if proposal is None:
        return
    tickets = [
        t
        for t in _proposal_tickets(state, proposal)
        if t.status == "PLACING" and t.match_id == match_id
    ]
    if not tickets:
        del state.proposals[match_id]
        return
    if proposal.backfill_ticket_id is not None:
        session = state.sessions.find(tickets[0].game_session_arn or "")
        if session is None:  # STANDALONE backfill: nothing to place
            _succeed(state, proposal, at, None)
            return
        if session.status != "ACTIVE" or session.player_count + len(proposal.teams) > (
            session.max_players
        ):
            _fail(state, proposal, at, "The game session can no longer take the players.")
            return
    else:
        fleet = _queue_fleet(state, proposal.configuration_name)
        if fleet is None:
            _fail(state, proposal, at, "No fleet of the game session queue can host the match.")
            return
        session = _matched_session(state, fleet, proposal, at)
    _succeed(state, proposal, at, session, _join(state, session, proposal, at))


def _queue_fleet(state: BackendState, configuration_name: str) -> Fleet | None:
    """The first fleet (or alias's fleet) among the configuration's queues' destinations."""
    configuration = state.configurations.find(configuration_name)
    for arn in configuration.data["GameSessionQueueArns"] if configuration else []:
        queue = state.queues.find(arn.rsplit("/", 1)[-1])
        for destination in queue.data.get("Destinations", []) if queue else []:
            target = str(destination.get("DestinationArn", "")).rsplit("/", 1)[-1]
            alias = state.aliases.find(target)
            fleet_id = alias.fleet_id if alias is not None else target
            if fleet_id is not None and fleet_id in state.fleets:
                return state.fleets.get(fleet_id)
    return None


def _matched_session(
    state: BackendState, fleet: Fleet, proposal: Proposal, at: float
) -> GameSession:
    configuration = state.configurations.get(proposal.configuration_name)
    rules = _rules_of(state, configuration) or _NO_RULES
    session = game_sessions.add_session(
        state, fleet, None, rules.max_players, session_id=f"gsess-{state.uuid()}"
    )
    session.configuration_name = configuration.data["Name"]
    session.configuration_arn = configuration.data["ConfigurationArn"]
    session.match_id = proposal.match_id
    session.teams = rules.team_names
    session.backfill_mode = configuration.data["BackfillMode"]
    session.auto_backfill = session.backfill_mode == "AUTOMATIC"
    return session


def _join(
    state: BackendState, session: GameSession, proposal: Proposal, at: float
) -> dict[str, str]:
    """The proposal's new players join ``session`` (a player session each, RESERVED);
    MatchmakerData follows. Returns player ID -> player session ID."""
    configuration = state.configurations.find(proposal.configuration_name)
    rules = (_rules_of(state, configuration) if configuration else None) or _NO_RULES
    joined: dict[str, str] = {}
    for ticket in _proposal_tickets(state, proposal):
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
            reserved = game_sessions.reserve(
                state, session, seen.player_id, at, player_session_id=f"psess-{state.uuid()}"
            )
            joined[seen.player_id] = reserved.player_session_id
    session.set_auto_ticket(session.auto_ticket_id)  # MatchmakerData is rebuilt
    return joined


def _succeed(
    state: BackendState,
    proposal: Proposal,
    at: float,
    session: GameSession | None,
    player_sessions: dict[str, str] | None = None,
) -> None:
    state.proposals.pop(proposal.match_id, None)
    tickets = [t for t in _proposal_tickets(state, proposal) if t.status in ACTIVE_STATUSES]
    fields = _team_fields(state, proposal)
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
        players = [{"playerId": p, **fields.get(p, {})} for t in tickets for p in t.player_ids()]
        matchmaking.emit(
            state,
            "MatchmakingSucceeded",
            tickets[0].configuration_arn,
            at,
            tickets,
            {"matchId": proposal.match_id, "gameSessionInfo": {**info, "players": players}},
            fields,
        )
    for ticket in tickets:
        matchmaking.set_status(state, ticket, "COMPLETED", at, None, None)
    backfill = state.tickets.get(proposal.backfill_ticket_id or "")
    if backfill is not None and session is not None:
        _after_backfill(state, backfill, session, at)
    elif session is not None:
        matchmaking.maybe_auto_backfill(state, session, at)


def _after_backfill(state: BackendState, ticket: Ticket, session: GameSession, at: float) -> None:
    """The backfill ticket is done; automatic backfill goes on while the session has room."""
    if session.backfill_ticket_id == ticket.ticket_id:
        session.backfill_ticket_id = None
    matchmaking.replace_auto_backfill(state, session, at)


def _fail(state: BackendState, proposal: Proposal, at: float, message: str) -> None:
    state.proposals.pop(proposal.match_id, None)
    for ticket in _proposal_tickets(state, proposal):
        if ticket.status == "PLACING":
            matchmaking.finish(
                state, ticket, "FAILED", at, reason="UNEXPECTED_ERROR", message=message
            )


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


# The timed changes of matches, by kind (see :mod:`lifecycle`).
TIMED: dict[str, Callable[[BackendState, str, int, float], None]] = {
    "match": lambda state, key, epoch, at: _matching_pass(state, key, at),
    "acceptance_timeout": lambda state, key, epoch, at: _acceptance_timed_out(state, key, at),
    "placement": lambda state, key, epoch, at: _place(state, key, at),
}

OPERATIONS = (accept_match,)
