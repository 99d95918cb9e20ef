# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""Game sessions and player sessions: create, describe, search, update, terminate.

The operation contract is :mod:`configurations`'s. A session ending (terminated, its fleet
removed) ends its player sessions and, through :func:`matchmaking.session_ended`, its
backfill; the timed ACTIVATING -> ACTIVE and TERMINATING -> TERMINATED changes are
:data:`TIMED` kinds on the backend's one heap (:mod:`lifecycle`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from . import fleets, matchmaking
from .exceptions import (
    GameSessionFullException,
    InvalidGameSessionStatusException,
    InvalidRequestException,
)
from .paging import Listing, Pages, paged
from .records import Fleet, GameSession, PlayerSession
from .session_search import parse_filter, parse_sort
from .state import BackendState, Json

__all__ = ["OPERATIONS", "TIMED", "add_session", "end_session", "reserve"]

GAME_SESSION_STATUSES = frozenset({"ACTIVE", "ACTIVATING", "TERMINATED", "TERMINATING", "ERROR"})
PLAYER_SESSION_STATUSES = ("RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT")
GAME_SESSION_PAGES = Pages("GameSessions", "gs", default=100)
GAME_SESSION_DETAIL_PAGES = Pages("GameSessionDetails", "gd", default=100)
PLAYER_SESSION_PAGES = Pages("PlayerSessions", "ps")
# AWS: "The maximum number of results returned is 20"
SEARCH_PAGES = Pages("GameSessions", "sg", default=20, maximum=20)


# ------------------------------------------------------- session lifecycle


def end_session(state: BackendState, session: GameSession, at: float) -> None:
    """The session is TERMINATED at ``at``: its player sessions complete, its backfill ends."""
    if session.status == "TERMINATED":
        return
    session.status = "TERMINATED"
    session.termination_time = at
    for player_session in state.player_sessions.values():
        if player_session.session is session and player_session.status != "COMPLETED":
            player_session.status = "COMPLETED"
    matchmaking.session_ended(state, session, at)


def _activate(state: BackendState, arn: str, epoch: int, at: float) -> None:
    session = state.sessions.find(arn)
    if session is not None and session.status == "ACTIVATING":
        session.status = "ACTIVE"


def _terminate(state: BackendState, arn: str, epoch: int, at: float) -> None:
    session = state.sessions.find(arn)
    if session is not None and session.status == "TERMINATING":
        end_session(state, session, at)


# The timed changes of game sessions, by kind (see :mod:`lifecycle`).
TIMED: dict[str, Callable[[BackendState, str, int, float], None]] = {
    "activate": _activate,
    "terminate": _terminate,
}


def _schedule_session(
    state: BackendState, delay_ms: float, kind: str, session: GameSession
) -> None:
    state.schedule(state.clock.now() + delay_ms / 1000.0, kind, session.arn)


# ----------------------------------------------------------- game sessions


def add_session(
    state: BackendState,
    fleet: Fleet,
    location: str | None,
    max_players: int,
    *,
    session_id: str | None = None,
    extra: Json | None = None,
    activating: bool = False,
) -> GameSession:
    """A new game session on ``fleet`` (its home location unless one is named)."""
    location = _location(fleet, location) or fleet.locations[0]
    arn = _session_arn(state, fleet, location, session_id or f"gsess-{uuid.uuid4()}")
    session = GameSession(
        seq=state.next_seq(),
        arn=arn,
        fleet=fleet,
        location=location,
        creation_time=state.clock.now(),
        max_players=max_players,
        player_count=0,
        extra=extra or {},
    )
    if activating and state.settings.session_activation_ms > 0:
        session.status = "ACTIVATING"
        _schedule_session(state, state.settings.session_activation_ms, "activate", session)
    state.sessions.add(arn, session)
    state.sessions_by_seq[session.seq] = session
    fleet.session_seqs.append(session.seq)
    return session


def _location(fleet: Fleet, location: str | None) -> str | None:
    """``location``, or InvalidRequest when the fleet is not there."""
    if location is not None and location not in fleet.locations:
        raise InvalidRequestException(
            f"Location {location} is not a location of fleet {fleet.fleet_id}."
        )
    return location


def _session_arn(state: BackendState, fleet: Fleet, location: str, session_id: str) -> str:
    """Home-Region sessions: .../FLEET/ID; remote locations: .../FLEET/LOCATION/ID."""
    path = fleet.fleet_id if location == state.region else f"{fleet.fleet_id}/{location}"
    return f"arn:aws:gamelift:{state.region}::gamesession/{path}/{session_id}"


def create_game_session(
    state: BackendState,
    *,
    MaximumPlayerSessionCount: int,
    FleetId: str | None = None,
    AliasId: str | None = None,
    Name: str | None = None,
    GameProperties: list[Json] | None = None,
    CreatorId: str | None = None,
    GameSessionId: str | None = None,
    IdempotencyToken: str | None = None,
    GameSessionData: str | None = None,
    Location: str | None = None,
    **_ignored: Any,
) -> Json:
    fleet = fleets.fleet_of(state, FleetId, AliasId)
    session_id = GameSessionId or IdempotencyToken
    if session_id is not None:
        location = Location or fleet.locations[0]
        existing = state.sessions.find(_session_arn(state, fleet, location, session_id))
        if existing is not None:  # idempotent retry: the original session
            return {"GameSession": existing.describe()}
    extra = {
        "Name": Name,
        "GameProperties": GameProperties,
        "CreatorId": CreatorId,
        "GameSessionData": GameSessionData,
    }
    session = add_session(
        state,
        fleet,
        Location,
        MaximumPlayerSessionCount,
        session_id=session_id,
        extra={k: v for k, v in extra.items() if v is not None},
        activating=True,
    )
    return {"GameSession": session.describe()}


def _describe_sessions(
    state: BackendState, render: Callable[[GameSession], Json], members: dict[str, Any]
) -> list[Json] | Listing:
    """DescribeGameSessions and DescribeGameSessionDetails: one session, or a fleet's
    sessions (in a location, of a status), paged."""
    status = members.get("StatusFilter")
    if status is not None and status not in GAME_SESSION_STATUSES:
        raise InvalidRequestException(
            f"Invalid status filter {status}; valid values: "
            + ", ".join(sorted(GAME_SESSION_STATUSES))
            + "."
        )
    if members.get("GameSessionId") is not None:
        session = state.sessions.get(members["GameSessionId"])
        keep = status is None or session.status == status
        return [render(session)] if keep else []
    fleet = fleets.fleet_of(state, members.get("FleetId"), members.get("AliasId"))
    location = _location(fleet, members.get("Location"))

    def fetch(seq: int) -> Json | None:
        s = state.sessions_by_seq.get(seq)
        if s is None or (location is not None and s.location != location):
            return None
        if status is not None and s.status != status:
            return None
        return render(s)

    return Listing(fleet.session_seqs, fetch)


@paged(GAME_SESSION_PAGES)
def describe_game_sessions(state: BackendState, **members: Any) -> list[Json] | Listing:
    return _describe_sessions(state, GameSession.describe, members)


@paged(GAME_SESSION_DETAIL_PAGES)
def describe_game_session_details(state: BackendState, **members: Any) -> list[Json] | Listing:
    def detail(session: GameSession) -> Json:
        return {"GameSession": session.describe(), "ProtectionPolicy": session.protection_policy}

    return _describe_sessions(state, detail, members)


def _changeable(state: BackendState, arn: str, change: str) -> GameSession:
    """The session, if it is ACTIVE or ACTIVATING; else InvalidGameSessionStatus."""
    session = state.sessions.get(arn)
    if session.status not in ("ACTIVE", "ACTIVATING"):
        raise InvalidGameSessionStatusException(
            f"Game session {session.arn} is {session.status} and cannot be {change}."
        )
    return session


def terminate_game_session(
    state: BackendState, *, GameSessionId: str, TerminationMode: str, **_ignored: Any
) -> Json:
    session = _changeable(state, GameSessionId, "terminated")
    session.status = "TERMINATING"
    session.status_reason = (
        "FORCE_TERMINATED"
        if TerminationMode == "FORCE_TERMINATE"
        else "TRIGGERED_ON_PROCESS_TERMINATE"
    )
    delay = state.settings.session_termination_ms
    if delay > 0:
        _schedule_session(state, delay, "terminate", session)
    else:
        end_session(state, session, state.clock.now())
    return {"GameSession": session.describe()}


def update_game_session(
    state: BackendState,
    *,
    GameSessionId: str,
    MaximumPlayerSessionCount: int | None = None,
    Name: str | None = None,
    PlayerSessionCreationPolicy: str | None = None,
    ProtectionPolicy: str | None = None,
    GameProperties: list[Json] | None = None,
    **_ignored: Any,
) -> Json:
    session = _changeable(state, GameSessionId, "updated")
    if MaximumPlayerSessionCount is not None:
        session.max_players = MaximumPlayerSessionCount
    if Name is not None:
        session.extra["Name"] = Name
    if PlayerSessionCreationPolicy is not None:
        session.creation_policy = PlayerSessionCreationPolicy
    if ProtectionPolicy is not None:
        session.protection_policy = ProtectionPolicy
    if GameProperties is not None:
        merged = {p["Key"]: p["Value"] for p in session.extra.get("GameProperties") or []}
        merged.update({p["Key"]: p["Value"] for p in GameProperties})
        # AWS: "adds new properties and modifies existing properties. There is no way
        # to delete properties." (API_UpdateGameSession)
        session.extra["GameProperties"] = [{"Key": k, "Value": v} for k, v in merged.items()]
    return {"GameSession": session.describe()}


# --------------------------------------------------------- player sessions


def reserve(
    state: BackendState,
    session: GameSession,
    player_id: str,
    at: float,
    *,
    data: str | None = None,
    player_session_id: str | None = None,
) -> PlayerSession:
    """A RESERVED player session for ``player_id`` in ``session`` (no checks, no count)."""
    player_session = PlayerSession(
        seq=state.next_seq(),
        player_session_id=player_session_id or f"psess-{uuid.uuid4()}",
        player_id=player_id,
        session=session,
        creation_time=at,
        player_data=data,
    )
    state.player_sessions[player_session.player_session_id] = player_session
    return player_session


def _reserve(
    state: BackendState, session: GameSession, players: list[tuple[str, str | None]]
) -> list[Json]:
    if session.status != "ACTIVE":
        raise InvalidGameSessionStatusException(
            f"Game session {session.arn} is {session.status}; player sessions need ACTIVE."
        )
    if session.creation_policy == "DENY_ALL":
        raise InvalidGameSessionStatusException(
            f"Game session {session.arn} does not accept new players (DENY_ALL)."
        )
    if session.player_count + len(players) > session.max_players:
        raise GameSessionFullException(
            f"Game session {session.arn} has {session.max_players - session.player_count} "
            f"open slots; {len(players)} requested."
        )
    now = state.clock.now()
    created = [reserve(state, session, p, now, data=data).describe() for p, data in players]
    session.player_count += len(players)
    return created


def create_player_session(
    state: BackendState,
    *,
    GameSessionId: str,
    PlayerId: str,
    PlayerData: str | None = None,
    **_ignored: Any,
) -> Json:
    created = _reserve(state, state.sessions.get(GameSessionId), [(PlayerId, PlayerData)])
    return {"PlayerSession": created[0]}


def create_player_sessions(
    state: BackendState,
    *,
    GameSessionId: str,
    PlayerIds: list[str],
    PlayerDataMap: dict[str, str] | None = None,
    **_ignored: Any,
) -> Json:
    data = PlayerDataMap or {}
    players = [(p, data.get(p)) for p in PlayerIds]
    return {"PlayerSessions": _reserve(state, state.sessions.get(GameSessionId), players)}


@paged(PLAYER_SESSION_PAGES)
def describe_player_sessions(
    state: BackendState,
    *,
    GameSessionId: str | None = None,
    PlayerId: str | None = None,
    PlayerSessionId: str | None = None,
    PlayerSessionStatusFilter: str | None = None,
    **_ignored: Any,
) -> Listing:
    if [GameSessionId, PlayerId, PlayerSessionId].count(None) != 2:
        raise InvalidRequestException(
            "Specify exactly one of GameSessionId, PlayerId or PlayerSessionId."
        )
    status = PlayerSessionStatusFilter
    if status is not None and status not in PLAYER_SESSION_STATUSES:
        raise InvalidRequestException(
            f"Invalid PlayerSessionStatusFilter {status}; valid values: "
            + ", ".join(PLAYER_SESSION_STATUSES)
            + "."
        )
    if GameSessionId is not None:
        state.sessions.get(GameSessionId)

    def keep(p: PlayerSession) -> bool:
        if PlayerSessionId is not None and p.player_session_id != PlayerSessionId:
            return False
        if GameSessionId is not None and p.session.arn != GameSessionId:
            return False
        if PlayerId is not None and p.player_id != PlayerId:
            return False
        return status is None or p.status == status

    by_seq = {p.seq: p for p in state.player_sessions.values() if keep(p)}
    return Listing(sorted(by_seq), lambda seq: by_seq[seq].describe())


@paged(SEARCH_PAGES)
def search_game_sessions(
    state: BackendState,
    *,
    FleetId: str | None = None,
    AliasId: str | None = None,
    Location: str | None = None,
    FilterExpression: str | None = None,
    SortExpression: str | None = None,
    **_ignored: Any,
) -> Listing:
    fleet = fleets.fleet_of(state, FleetId, AliasId)
    _location(fleet, Location)
    matches = parse_filter(FilterExpression) if FilterExpression else None
    sessions = [
        s
        for seq in fleet.session_seqs
        if (s := state.sessions_by_seq.get(seq)) is not None
        and s.status == "ACTIVE"
        and (Location is None or s.location == Location)
    ]
    found = [(s.search_attributes(), s) for s in sessions]
    if matches is not None:
        found = [(a, s) for a, s in found if matches(a)]
    if SortExpression:
        order = parse_sort(SortExpression)([a for a, _ in found])
        by_id = {id(a): s for a, s in found}
        ordered = [by_id[id(a)] for a in order]
    else:
        ordered = [s for _, s in found]
    positions = list(range(1, len(ordered) + 1))
    return Listing(positions, lambda i: ordered[i - 1].describe())


OPERATIONS = (
    create_game_session,
    describe_game_sessions,
    describe_game_session_details,
    terminate_game_session,
    update_game_session,
    create_player_session,
    create_player_sessions,
    describe_player_sessions,
    search_game_sessions,
)
