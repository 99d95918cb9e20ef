"""What a backend's state is made of: resources, sessions, tickets and matches, as records.

Plain data with the few views AWS's answers are made from (``describe``); the rules that
change them live in the operation modules, the records' home is :class:`state.BackendState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .players import Player, RuleSetShape, matchmaker_data
from .rulesets import RuleSet
from .session_search import search_attributes

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "FINAL_STATUSES",
    "TIMEOUT_STATUSES",
    "Alias",
    "Fleet",
    "GameSession",
    "NamedResource",
    "PlayerSession",
    "Proposal",
    "Ticket",
]

Json = dict[str, Any]

ACTIVE_STATUSES = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"})
FINAL_STATUSES = frozenset({"CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"})
ALL_STATUSES = ACTIVE_STATUSES | FINAL_STATUSES
# Statuses in which RequestTimeoutSeconds still runs; PLACING waits for the placement.
TIMEOUT_STATUSES = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE"})


@dataclass(eq=False)
class Fleet:
    """A fleet: home Region first in ``locations``, then remote locations."""

    fleet_id: str
    fleet_arn: str
    locations: list[str]
    session_seqs: list[int] = field(default_factory=list)  # creation order, append-only
    creation_time: float = 0.0
    seq: int = 0

    def attributes(self) -> Json:
        """The fleet as DescribeFleetAttributes returns it (an active EC2 fleet)."""
        return {
            "FleetId": self.fleet_id,
            "FleetArn": self.fleet_arn,
            "FleetType": "ON_DEMAND",
            "InstanceType": "c5.large",
            "Name": self.fleet_id,
            "CreationTime": self.creation_time,
            "Status": "ACTIVE",
            "NewGameSessionProtectionPolicy": "NoProtection",
            "OperatingSystem": "AMAZON_LINUX_2023",
            "ComputeType": "EC2",
            "MetricGroups": ["default"],
            "StoppedActions": [],
        }


@dataclass(eq=False)
class Alias:
    """An alias: a name routing to a fleet (SIMPLE) or to a message (TERMINAL)."""

    seq: int
    data: Json  # AliasId, Name, AliasArn, Description?, RoutingStrategy, times

    @property
    def alias_id(self) -> str:
        return str(self.data["AliasId"])

    @property
    def fleet_id(self) -> str | None:
        fleet_id = self.data["RoutingStrategy"].get("FleetId")
        return fleet_id if isinstance(fleet_id, str) else None


@dataclass(eq=False)
class PlayerSession:
    """A player's reserved slot in a game session (RESERVED until the game accepts it)."""

    seq: int
    player_session_id: str
    player_id: str
    session: GameSession
    creation_time: float
    player_data: str | None
    status: str = "RESERVED"

    def describe(self) -> Json:
        """The player session as DescribePlayerSessions returns it."""
        out: Json = {
            "PlayerSessionId": self.player_session_id,
            "PlayerId": self.player_id,
            "GameSessionId": self.session.arn,
            "FleetId": self.session.fleet.fleet_id,
            "FleetArn": self.session.fleet.fleet_arn,
            "CreationTime": self.creation_time,
            "Status": self.status,
            "IpAddress": "127.0.0.1",
            "DnsName": "localhost",
            "Port": self.session.port,
        }
        if self.player_data is not None:
            out["PlayerData"] = self.player_data
        return out


@dataclass(eq=False)
class GameSession:
    """A game session; matchmaker fields are set only for sessions made by a matchmaker."""

    seq: int
    arn: str
    fleet: Fleet
    location: str
    creation_time: float
    max_players: int
    player_count: int
    extra: Json  # Name, GameProperties, CreatorId, GameSessionData as given
    status: str = "ACTIVE"
    status_reason: str | None = None
    creation_policy: str = "ACCEPT_ALL"
    protection_policy: str = "NoProtection"
    termination_time: float | None = None
    configuration_name: str | None = None
    configuration_arn: str | None = None
    match_id: str | None = None
    teams: tuple[str, ...] = ()
    players: list[Player] = field(default_factory=list)
    backfill_mode: str = "MANUAL"
    auto_backfill: bool = False  # on until its ticket is stopped with StopMatchmaking
    auto_ticket_id: str | None = None  # MatchmakerData autoBackfillTicketId
    backfill_ticket_id: str | None = None  # the one active backfill (manual or automatic)
    _matchmaker_data: str | None = None  # cache; cleared when the automatic ticket changes

    @property
    def port(self) -> int:
        return 7000 + self.seq % 50000

    def search_attributes(self) -> Json:
        """What SearchGameSessions filters and sorts on."""
        return search_attributes(
            name=self.extra.get("Name"),
            arn=self.arn,
            properties=self.extra.get("GameProperties") or [],
            maximum=self.max_players,
            created=self.creation_time,
            players=self.player_count,
        )

    @property
    def full(self) -> bool:
        return self.player_count >= self.max_players

    def matchmaker_data(self) -> str | None:
        if self.configuration_arn is None or self.match_id is None:
            return None
        if self._matchmaker_data is None:
            self._matchmaker_data = matchmaker_data(
                match_id=self.match_id,
                configuration_arn=self.configuration_arn,
                teams=self.teams,
                players=self.players,
                backfill_mode=self.backfill_mode,
                auto_backfill_ticket_id=self.auto_ticket_id,
            )
        return self._matchmaker_data

    def set_auto_ticket(self, ticket_id: str | None) -> None:
        self.auto_ticket_id = ticket_id
        self._matchmaker_data = None

    def describe(self) -> Json:
        """The session as DescribeGameSessions returns it."""
        out: Json = {
            "GameSessionId": self.arn,
            "FleetId": self.fleet.fleet_id,
            "FleetArn": self.fleet.fleet_arn,
            "CreationTime": self.creation_time,
            "CurrentPlayerSessionCount": self.player_count,
            "MaximumPlayerSessionCount": self.max_players,
            "Status": self.status,
            "GameProperties": [],
            "IpAddress": "127.0.0.1",
            "DnsName": "localhost",
            "Port": self.port,
            "PlayerSessionCreationPolicy": self.creation_policy,
            "Location": self.location,
        }
        out.update(self.extra)
        if self.status_reason is not None:
            out["StatusReason"] = self.status_reason
        if self.termination_time is not None:
            out["TerminationTime"] = self.termination_time
        data = self.matchmaker_data()
        if data is not None:
            out["MatchmakerData"] = data
        return out


@dataclass(eq=False)
class NamedResource:
    """A rule set, configuration or queue: its AWS dict plus a creation sequence."""

    seq: int
    data: Json
    shape: RuleSetShape | None = None  # rule sets only
    rules: RuleSet | None = None  # rule sets only: what matching evaluates


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
