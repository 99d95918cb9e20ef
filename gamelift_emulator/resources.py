# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""GameLift resources: rule sets, configurations, queues, fleets, aliases, game sessions.

Contract with the wire layer: one method per GameLift operation, in snake_case, taking the
request members as keyword arguments with AWS's PascalCase names and returning the response
dict as AWS's JSON has it (timestamps are epoch-second floats). Members the emulator does not
model are accepted and ignored. Errors are :mod:`gamelift_emulator.exceptions` classes. Input
has already been validated against botocore's model; only semantic checks live here.

Tickets are the layer above (:mod:`matchmaking`); this layer reaches them only through the
hooks ``_session_ended`` and ``_active_tickets``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .backend_state import BackendState, Json, locked, resource_id
from .clock import Clock
from .exceptions import InvalidRequestException, NotFoundException
from .paging import DEFAULT_PAGE_SIZE, listing, paginate
from .players import Player, RuleSetShape, matchmaker_data, shape_of
from .rulesets import RuleSet, RuleSetError, parse_rule_set
from .settings import EmulatorSettings

__all__ = ["Fleet", "GameSession", "NamedResource", "ResourceOperations"]

GAME_SESSION_STATUSES = frozenset({"ACTIVE", "ACTIVATING", "TERMINATED", "TERMINATING", "ERROR"})
CONFIGURATION_PAGE_MAX = 10  # AWS: "This parameter is limited to 10."
GAME_SESSION_PAGE_SIZE = 100


@dataclass(eq=False)
class Fleet:
    """A fleet: home Region first in ``locations``, then remote locations."""

    fleet_id: str
    fleet_arn: str
    locations: list[str]
    session_seqs: list[int] = field(default_factory=list)  # creation order, append-only


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
            "Port": 7000 + self.seq % 50000,
            "PlayerSessionCreationPolicy": "ACCEPT_ALL",
            "Location": self.location,
        }
        out.update(self.extra)
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


class ResourceOperations(BackendState):
    """The resource operations of one account's GameLift in one Region."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        super().__init__(account_id, region, clock, settings)
        self._rule_sets: dict[str, NamedResource] = {}
        self._configurations: dict[str, NamedResource] = {}
        self._queues: dict[str, NamedResource] = {}
        self._fleets: dict[str, Fleet] = {}
        self._aliases: dict[str, tuple[str, str]] = {}  # alias ID -> (alias ARN, fleet ID)
        self._sessions: dict[str, GameSession] = {}  # by ARN
        self._sessions_by_seq: dict[int, GameSession] = {}

    # ------------------------------------------------------------------- hooks

    def _session_ended(self, session: GameSession, at: float) -> None:
        """Hook for the ticket layer: ``session`` just ended at ``at``."""

    def _active_tickets(self, configuration_name: str) -> int:
        """Hook for the ticket layer: active tickets of a configuration."""
        return 0

    # ----------------------------------------------------------------- lookups

    def _configuration(self, name_or_arn: str) -> NamedResource:
        name = resource_id(name_or_arn, "matchmakingconfiguration")
        try:
            return self._configurations[name]
        except KeyError:
            raise NotFoundException(f"Matchmaking configuration {name} not found.") from None

    def _rule_set(self, name_or_arn: str) -> NamedResource:
        name = resource_id(name_or_arn, "matchmakingruleset")
        try:
            return self._rule_sets[name]
        except KeyError:
            raise NotFoundException(f"Matchmaking rule set {name} not found.") from None

    def _fleet(self, fleet_id_or_arn: str) -> Fleet:
        fleet_id = resource_id(fleet_id_or_arn, "fleet")
        try:
            return self._fleets[fleet_id]
        except KeyError:
            raise NotFoundException(f"Fleet {fleet_id} not found.") from None

    def _fleet_of(self, FleetId: str | None, AliasId: str | None) -> Fleet:
        if (FleetId is None) == (AliasId is None):
            raise InvalidRequestException("Specify either a fleet ID or an alias ID, not both.")
        if FleetId is not None:
            return self._fleet(FleetId)
        alias_id = resource_id(AliasId or "", "alias")
        if alias_id not in self._aliases:
            raise NotFoundException(f"Alias {alias_id} not found.")
        return self._fleet(self._aliases[alias_id][1])

    def _session(self, arn: str) -> GameSession:
        try:
            return self._sessions[arn]
        except KeyError:
            raise NotFoundException(f"Game session {arn} not found.") from None

    def _end_session(self, session: GameSession, at: float) -> None:
        if session.status == "TERMINATED":
            return
        session.status = "TERMINATED"
        session.termination_time = at
        self._session_ended(session, at)

    # --------------------------------------------------------------- rule sets

    @locked
    def create_matchmaking_rule_set(self, *, Name: str, RuleSetBody: str, **_ignored: Any) -> Json:
        if Name in self._rule_sets:
            raise InvalidRequestException(f"Matchmaking rule set {Name} already exists.")
        rules = self._parsed_rule_set(RuleSetBody)
        data = {
            "RuleSetName": Name,
            "RuleSetArn": self._arn("matchmakingruleset", Name),
            "RuleSetBody": RuleSetBody,
            "CreationTime": self.clock.now(),
        }
        self._rule_sets[Name] = NamedResource(self._next_seq(), data, shape_of(rules), rules)
        return {"RuleSet": dict(data)}

    @staticmethod
    def _parsed_rule_set(body: str) -> RuleSet:
        try:
            return parse_rule_set(body)
        except RuleSetError as exc:
            raise InvalidRequestException(str(exc)) from None

    @locked
    def validate_matchmaking_rule_set(self, *, RuleSetBody: str, **_ignored: Any) -> Json:
        """Valid: ``{"Valid": true}``; invalid: InvalidRequestException saying why."""
        self._parsed_rule_set(RuleSetBody)
        return {"Valid": True}

    @locked
    def describe_matchmaking_rule_sets(
        self,
        *,
        Names: list[str] | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if Names:
            return {"RuleSets": [dict(self._rule_set(n).data) for n in Names]}
        return listing(
            "RuleSets",
            *self._page_named("rs", self._rule_sets, Limit or DEFAULT_PAGE_SIZE, NextToken),
        )

    @locked
    def delete_matchmaking_rule_set(self, *, Name: str, **_ignored: Any) -> Json:
        rule_set = self._rule_set(Name)
        name = rule_set.data["RuleSetName"]
        users = sorted(
            c.data["Name"] for c in self._configurations.values() if c.data["RuleSetName"] == name
        )
        if users:
            raise InvalidRequestException(
                f"Matchmaking rule set {name} is used by matchmaking configurations: "
                + ", ".join(users)
                + "."
            )
        del self._rule_sets[name]
        return {}

    def _page_named(
        self, kind: str, items: Mapping[str, NamedResource], limit: int, token: str | None
    ) -> tuple[list[Json], str | None]:
        by_seq = {item.seq: item for item in items.values()}
        return paginate(kind, sorted(by_seq), lambda s: dict(by_seq[s].data), limit, token)

    # ---------------------------------------------------------- configurations

    def _queue_arns(self, mode: str, arns: list[str] | None) -> list[str]:
        """WITH_QUEUE needs queues that exist; STANDALONE keeps none."""
        if mode == "STANDALONE":
            return []
        if not arns:
            raise InvalidRequestException(
                "GameSessionQueueArns is required when FlexMatchMode is WITH_QUEUE."
            )
        for arn in arns:
            queue = self._queues.get(resource_id(arn, "gamesessionqueue"))
            if queue is None or queue.data["GameSessionQueueArn"] != arn:
                raise NotFoundException(f"Game session queue {arn} not found.")
        return list(arns)

    @staticmethod
    def _check_backfill_mode(data: Json) -> None:
        if data.get("FlexMatchMode") == "STANDALONE" and data.get("BackfillMode") == "AUTOMATIC":
            raise InvalidRequestException(
                "Automatic backfill is not available when FlexMatchMode is STANDALONE."
            )

    @locked
    def create_matchmaking_configuration(
        self,
        *,
        Name: str,
        RequestTimeoutSeconds: int,
        AcceptanceRequired: bool,
        RuleSetName: str,
        Description: str | None = None,
        GameSessionQueueArns: list[str] | None = None,
        AcceptanceTimeoutSeconds: int | None = None,
        NotificationTarget: str | None = None,
        AdditionalPlayerCount: int | None = None,
        CustomEventData: str | None = None,
        GameProperties: list[Json] | None = None,
        GameSessionData: str | None = None,
        BackfillMode: str | None = None,
        FlexMatchMode: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if Name in self._configurations:
            raise InvalidRequestException(f"Matchmaking configuration {Name} already exists.")
        rule_set = self._rule_set(RuleSetName)
        mode = FlexMatchMode or "WITH_QUEUE"
        data: Json = {
            "Name": Name,
            "ConfigurationArn": self._arn("matchmakingconfiguration", Name),
            "GameSessionQueueArns": self._queue_arns(mode, GameSessionQueueArns),
            "RequestTimeoutSeconds": RequestTimeoutSeconds,
            "AcceptanceRequired": AcceptanceRequired,
            "RuleSetName": rule_set.data["RuleSetName"],
            "RuleSetArn": rule_set.data["RuleSetArn"],
            "AdditionalPlayerCount": AdditionalPlayerCount or 0,
            "CreationTime": self.clock.now(),
            "GameProperties": GameProperties or [],
            "BackfillMode": BackfillMode or "MANUAL",
            "FlexMatchMode": mode,
        }
        optional = {
            "Description": Description,
            "AcceptanceTimeoutSeconds": AcceptanceTimeoutSeconds,
            "NotificationTarget": NotificationTarget,
            "CustomEventData": CustomEventData,
            "GameSessionData": GameSessionData,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        self._check_backfill_mode(data)
        self._configurations[Name] = NamedResource(self._next_seq(), data)
        return {"Configuration": dict(data)}

    @locked
    def describe_matchmaking_configurations(
        self,
        *,
        Names: list[str] | None = None,
        RuleSetName: str | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if Names:
            wanted = [resource_id(n, "matchmakingconfiguration") for n in Names]
            found = [self._configurations[n] for n in wanted if n in self._configurations]
            return {"Configurations": [dict(c.data) for c in found]}
        items: Mapping[str, NamedResource] = self._configurations
        if RuleSetName is not None:
            rule_set_name = resource_id(RuleSetName, "matchmakingruleset")
            items = {k: c for k, c in items.items() if c.data["RuleSetName"] == rule_set_name}
        limit = min(Limit or CONFIGURATION_PAGE_MAX, CONFIGURATION_PAGE_MAX)
        return listing("Configurations", *self._page_named("mc", items, limit, NextToken))

    @locked
    def update_matchmaking_configuration(self, *, Name: str, **changes: Any) -> Json:
        configuration = self._configuration(Name)
        data = dict(configuration.data)
        updatable = {
            "Description",
            "GameSessionQueueArns",
            "RequestTimeoutSeconds",
            "AcceptanceTimeoutSeconds",
            "AcceptanceRequired",
            "NotificationTarget",
            "AdditionalPlayerCount",
            "CustomEventData",
            "GameProperties",
            "GameSessionData",
            "BackfillMode",
            "FlexMatchMode",
        }
        data.update({k: v for k, v in changes.items() if k in updatable and v is not None})
        if changes.get("RuleSetName") is not None:
            rule_set = self._rule_set(changes["RuleSetName"])
            data["RuleSetName"] = rule_set.data["RuleSetName"]
            data["RuleSetArn"] = rule_set.data["RuleSetArn"]
        data["GameSessionQueueArns"] = self._queue_arns(
            data["FlexMatchMode"], data.get("GameSessionQueueArns")
        )
        self._check_backfill_mode(data)
        configuration.data = data
        return {"Configuration": dict(data)}

    @locked
    def delete_matchmaking_configuration(self, *, Name: str, **_ignored: Any) -> Json:
        configuration = self._configuration(Name)
        name = configuration.data["Name"]
        if self._active_tickets(name) > 0:
            raise InvalidRequestException(
                f"Matchmaking configuration {name} cannot be deleted while it has "
                "active matchmaking tickets."
            )
        del self._configurations[name]
        return {}

    # ------------------------------------------------------------------ queues

    @locked
    def create_game_session_queue(
        self,
        *,
        Name: str,
        TimeoutInSeconds: int | None = None,
        PlayerLatencyPolicies: list[Json] | None = None,
        Destinations: list[Json] | None = None,
        FilterConfiguration: Json | None = None,
        PriorityConfiguration: Json | None = None,
        CustomEventData: str | None = None,
        NotificationTarget: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if Name in self._queues:
            raise InvalidRequestException(f"Game session queue {Name} already exists.")
        data: Json = {
            "Name": Name,
            "GameSessionQueueArn": self._arn("gamesessionqueue", Name),
            "TimeoutInSeconds": 600 if TimeoutInSeconds is None else TimeoutInSeconds,
            "PlayerLatencyPolicies": PlayerLatencyPolicies or [],
            "Destinations": Destinations or [],
        }
        optional = {
            "FilterConfiguration": FilterConfiguration,
            "PriorityConfiguration": PriorityConfiguration,
            "CustomEventData": CustomEventData,
            "NotificationTarget": NotificationTarget,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        self._queues[Name] = NamedResource(self._next_seq(), data)
        return {"GameSessionQueue": dict(data)}

    def _queue(self, name_or_arn: str) -> NamedResource:
        name = resource_id(name_or_arn, "gamesessionqueue")
        try:
            return self._queues[name]
        except KeyError:
            raise NotFoundException(f"Game session queue {name} not found.") from None

    @locked
    def describe_game_session_queues(
        self,
        *,
        Names: list[str] | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if Names:
            return {"GameSessionQueues": [dict(self._queue(n).data) for n in Names]}
        return listing(
            "GameSessionQueues",
            *self._page_named("q", self._queues, Limit or DEFAULT_PAGE_SIZE, NextToken),
        )

    @locked
    def delete_game_session_queue(self, *, Name: str, **_ignored: Any) -> Json:
        del self._queues[self._queue(Name).data["Name"]]
        return {}

    # ----------------------------------------------------------- game sessions

    def _add_session(
        self,
        fleet: Fleet,
        location: str | None,
        max_players: int,
        *,
        session_id: str | None = None,
        extra: Json | None = None,
    ) -> GameSession:
        location = location or fleet.locations[0]
        if location not in fleet.locations:
            raise InvalidRequestException(
                f"Location {location} is not a location of fleet {fleet.fleet_id}."
            )
        arn = self._session_arn(fleet, location, session_id or f"gsess-{uuid.uuid4()}")
        session = GameSession(
            seq=self._next_seq(),
            arn=arn,
            fleet=fleet,
            location=location,
            creation_time=self.clock.now(),
            max_players=max_players,
            player_count=0,
            extra=extra or {},
        )
        self._sessions[arn] = session
        self._sessions_by_seq[session.seq] = session
        fleet.session_seqs.append(session.seq)
        return session

    def _session_arn(self, fleet: Fleet, location: str, session_id: str) -> str:
        """Home-Region sessions: .../FLEET/ID; remote locations: .../FLEET/LOCATION/ID."""
        path = fleet.fleet_id if location == self.region else f"{fleet.fleet_id}/{location}"
        return f"arn:aws:gamelift:{self.region}::gamesession/{path}/{session_id}"

    @locked
    def create_game_session(
        self,
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
        fleet = self._fleet_of(FleetId, AliasId)
        session_id = GameSessionId or IdempotencyToken
        if session_id is not None:
            location = Location or fleet.locations[0]
            existing = self._sessions.get(self._session_arn(fleet, location, session_id))
            if existing is not None:  # idempotent retry: the original session
                return {"GameSession": existing.describe()}
        extra = {
            "Name": Name,
            "GameProperties": GameProperties,
            "CreatorId": CreatorId,
            "GameSessionData": GameSessionData,
        }
        session = self._add_session(
            fleet,
            Location,
            MaximumPlayerSessionCount,
            session_id=session_id,
            extra={k: v for k, v in extra.items() if v is not None},
        )
        return {"GameSession": session.describe()}

    @locked
    def describe_game_sessions(
        self,
        *,
        FleetId: str | None = None,
        GameSessionId: str | None = None,
        AliasId: str | None = None,
        Location: str | None = None,
        StatusFilter: str | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if StatusFilter is not None and StatusFilter not in GAME_SESSION_STATUSES:
            raise InvalidRequestException(
                f"Invalid status filter {StatusFilter}; valid values: "
                + ", ".join(sorted(GAME_SESSION_STATUSES))
                + "."
            )
        if GameSessionId is not None:
            session = self._session(GameSessionId)
            keep = StatusFilter is None or session.status == StatusFilter
            return {"GameSessions": [session.describe()] if keep else []}
        fleet = self._fleet_of(FleetId, AliasId)
        if Location is not None and Location not in fleet.locations:
            raise InvalidRequestException(
                f"Location {Location} is not a location of fleet {fleet.fleet_id}."
            )

        def fetch(seq: int) -> Json | None:
            s = self._sessions_by_seq.get(seq)
            if s is None or (Location is not None and s.location != Location):
                return None
            if StatusFilter is not None and s.status != StatusFilter:
                return None
            return s.describe()

        return listing(
            "GameSessions",
            *paginate("gs", fleet.session_seqs, fetch, Limit or GAME_SESSION_PAGE_SIZE, NextToken),
        )
