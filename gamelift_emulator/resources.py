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

import heapq
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .backend_state import BackendState, Json, earliest, locked, resource_id
from .clock import Clock
from .exceptions import (
    ConflictException,
    GameSessionFullException,
    InvalidGameSessionStatusException,
    InvalidRequestException,
    NotFoundException,
    TaggingFailedException,
    TerminalRoutingStrategyException,
)
from .paging import DEFAULT_PAGE_SIZE, listing, paginate
from .players import Player, RuleSetShape, matchmaker_data, shape_of
from .rulesets import RuleSet, RuleSetError, parse_rule_set
from .session_search import parse_filter, parse_sort, search_attributes
from .settings import EmulatorSettings

__all__ = ["Alias", "Fleet", "GameSession", "NamedResource", "PlayerSession", "ResourceOperations"]

GAME_SESSION_STATUSES = frozenset({"ACTIVE", "ACTIVATING", "TERMINATED", "TERMINATING", "ERROR"})
CONFIGURATION_PAGE_MAX = 10  # AWS: "This parameter is limited to 10."
GAME_SESSION_PAGE_SIZE = 100
SEARCH_PAGE_MAX = 20  # AWS: "The maximum number of results returned is 20"
MAX_TAGS = 50  # AWS: "up to 50 tags" per resource


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
        self._aliases: dict[str, Alias] = {}  # by alias ID
        self._sessions: dict[str, GameSession] = {}  # by ARN
        self._sessions_by_seq: dict[int, GameSession] = {}
        self._player_sessions: dict[str, PlayerSession] = {}  # by ID, in creation order
        self._tags: dict[str, dict[str, str]] = {}  # by resource ARN
        self._session_events: list[tuple[float, int, str, int]] = []  # (due, seq, kind, session)

    # ------------------------------------------------------------------- hooks

    def _session_ended(self, session: GameSession, at: float) -> None:
        """Hook for the ticket layer: ``session`` just ended at ``at``."""

    def _active_tickets(self, configuration_name: str) -> int:
        """Hook for the ticket layer: active tickets of a configuration."""
        return 0

    def _automatic_backfill_stopped(self, configuration_name: str, at: float) -> None:
        """Hook for the ticket layer: the configuration's BackfillMode left AUTOMATIC."""

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
        alias = self._alias(AliasId or "")
        if alias.fleet_id is None:
            raise TerminalRoutingStrategyException(alias.data["RoutingStrategy"].get("Message"))
        return self._fleet(alias.fleet_id)

    def _alias(self, alias_id_or_arn: str) -> Alias:
        alias_id = resource_id(alias_id_or_arn, "alias")
        try:
            return self._aliases[alias_id]
        except KeyError:
            raise NotFoundException(f"Alias {alias_id} not found.") from None

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
        for player_session in self._player_sessions.values():
            if player_session.session is session and player_session.status != "COMPLETED":
                player_session.status = "COMPLETED"
        self._session_ended(session, at)

    # ------------------------------------------------------- session lifecycle

    def _advance(self) -> None:
        """ACTIVATING -> ACTIVE and TERMINATING -> TERMINATED, when their delays are up."""
        super()._advance()
        now = self.clock.now()
        while self._session_events and self._session_events[0][0] <= now:
            at, _, kind, seq = heapq.heappop(self._session_events)
            session = self._sessions_by_seq.get(seq)
            if session is None:
                continue
            if kind == "activate" and session.status == "ACTIVATING":
                session.status = "ACTIVE"
                self._session_activated(session, at)
            elif kind == "terminate" and session.status == "TERMINATING":
                self._end_session(session, at)

    def _next_due(self) -> float | None:
        mine = self._session_events[0][0] if self._session_events else None
        return earliest(super()._next_due(), mine)

    def _session_activated(self, session: GameSession, at: float) -> None:
        """Hook for the ticket layer: ``session`` became ACTIVE at ``at``."""

    def _schedule_session(self, delay_ms: float, kind: str, session: GameSession) -> None:
        due = self.clock.now() + delay_ms / 1000.0
        heapq.heappush(self._session_events, (due, self._next_seq(), kind, session.seq))

    # -------------------------------------------------------------------- tags

    def _keep_tags(self, arn: str, tags: list[Json] | None) -> None:
        if tags:
            self._apply_tags(arn, tags)

    def _apply_tags(self, arn: str, tags: list[Json]) -> None:
        current = dict(self._tags.get(arn, {}))
        current.update({t["Key"]: t["Value"] for t in tags})
        if len(current) > MAX_TAGS:
            raise TaggingFailedException(
                f"Resource {arn} would have {len(current)} tags; at most {MAX_TAGS} are allowed."
            )
        self._tags[arn] = current

    def _taggable(self, arn: str) -> None:
        """NotFound unless ``arn`` is the ARN of a resource that exists here."""
        arns = (
            [r.data["RuleSetArn"] for r in self._rule_sets.values()]
            + [c.data["ConfigurationArn"] for c in self._configurations.values()]
            + [q.data["GameSessionQueueArn"] for q in self._queues.values()]
            + [f.fleet_arn for f in self._fleets.values()]
            + [a.data["AliasArn"] for a in self._aliases.values()]
        )
        if arn not in arns:
            raise NotFoundException(f"Resource {arn} not found.")

    @locked
    def tag_resource(self, *, ResourceARN: str, Tags: list[Json], **_ignored: Any) -> Json:
        self._taggable(ResourceARN)
        self._apply_tags(ResourceARN, Tags)
        return {}

    @locked
    def untag_resource(self, *, ResourceARN: str, TagKeys: list[str], **_ignored: Any) -> Json:
        self._taggable(ResourceARN)
        current = self._tags.get(ResourceARN, {})
        for key in TagKeys:
            current.pop(key, None)
        return {}

    @locked
    def list_tags_for_resource(self, *, ResourceARN: str, **_ignored: Any) -> Json:
        self._taggable(ResourceARN)
        tags = self._tags.get(ResourceARN, {})
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    # ------------------------------------------------------------------ fleets

    @locked
    def list_fleets(
        self,
        *,
        BuildId: str | None = None,
        ScriptId: str | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if BuildId is not None or ScriptId is not None:  # no builds or scripts modelled
            return {"FleetIds": []}
        by_seq = {f.seq: f for f in self._fleets.values()}
        page, token = paginate(
            "fl",
            sorted(by_seq),
            lambda s: by_seq[s].fleet_id,
            Limit or DEFAULT_PAGE_SIZE,
            NextToken,
        )
        return listing("FleetIds", page, token)

    @locked
    def describe_fleet_attributes(
        self,
        *,
        FleetIds: list[str] | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if FleetIds:
            wanted = [resource_id(f, "fleet") for f in FleetIds]
            found = [self._fleets[f].attributes() for f in wanted if f in self._fleets]
            return {"FleetAttributes": found}
        by_seq = {f.seq: f for f in self._fleets.values()}
        page, token = paginate(
            "fa",
            sorted(by_seq),
            lambda s: by_seq[s].attributes(),
            Limit or DEFAULT_PAGE_SIZE,
            NextToken,
        )
        return listing("FleetAttributes", page, token)

    # ----------------------------------------------------------------- aliases

    def _routing(self, strategy: Json) -> Json:
        kind = strategy.get("Type", "SIMPLE")
        if kind == "SIMPLE":
            if not strategy.get("FleetId"):
                raise InvalidRequestException("RoutingStrategy of Type SIMPLE needs a FleetId.")
            fleet = self._fleet(strategy["FleetId"])
            return {"Type": "SIMPLE", "FleetId": fleet.fleet_id}
        if strategy.get("FleetId"):
            raise InvalidRequestException("RoutingStrategy of Type TERMINAL takes no FleetId.")
        return {
            "Type": "TERMINAL",
            **({"Message": strategy["Message"]} if "Message" in strategy else {}),
        }

    def _add_alias(
        self,
        name: str,
        routing: Json,
        *,
        alias_id: str | None = None,
        description: str | None = None,
    ) -> Alias:
        alias_id = alias_id or f"alias-{uuid.uuid4()}"
        if alias_id in self._aliases:
            raise ConflictException(f"Alias {alias_id} already exists.")
        now = self.clock.now()
        data: Json = {
            "AliasId": alias_id,
            "Name": name,
            "AliasArn": self._arn("alias", alias_id, account=False),
            "RoutingStrategy": routing,
            "CreationTime": now,
            "LastUpdatedTime": now,
        }
        if description is not None:
            data["Description"] = description
        alias = Alias(self._next_seq(), data)
        self._aliases[alias_id] = alias
        return alias

    @locked
    def create_alias(
        self,
        *,
        Name: str,
        RoutingStrategy: Json,
        Description: str | None = None,
        Tags: list[Json] | None = None,
        **_ignored: Any,
    ) -> Json:
        alias = self._add_alias(Name, self._routing(RoutingStrategy), description=Description)
        self._keep_tags(alias.data["AliasArn"], Tags)
        return {"Alias": dict(alias.data)}

    @locked
    def describe_alias(self, *, AliasId: str, **_ignored: Any) -> Json:
        return {"Alias": dict(self._alias(AliasId).data)}

    @locked
    def update_alias(
        self,
        *,
        AliasId: str,
        Name: str | None = None,
        Description: str | None = None,
        RoutingStrategy: Json | None = None,
        **_ignored: Any,
    ) -> Json:
        alias = self._alias(AliasId)
        data = dict(alias.data)
        if RoutingStrategy is not None:
            data["RoutingStrategy"] = self._routing(RoutingStrategy)
        if Name is not None:
            data["Name"] = Name
        if Description is not None:
            data["Description"] = Description
        data["LastUpdatedTime"] = self.clock.now()
        alias.data = data
        return {"Alias": dict(data)}

    @locked
    def delete_alias(self, *, AliasId: str, **_ignored: Any) -> Json:
        alias = self._alias(AliasId)
        del self._aliases[alias.alias_id]
        self._tags.pop(alias.data["AliasArn"], None)
        return {}

    @locked
    def resolve_alias(self, *, AliasId: str, **_ignored: Any) -> Json:
        fleet = self._fleet_of(None, AliasId)
        return {"FleetId": fleet.fleet_id, "FleetArn": fleet.fleet_arn}

    @locked
    def list_aliases(
        self,
        *,
        RoutingStrategyType: str | None = None,
        Name: str | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        def fetch(seq: int) -> Json | None:
            alias = by_seq[seq]
            if RoutingStrategyType and alias.data["RoutingStrategy"]["Type"] != RoutingStrategyType:
                return None
            if Name is not None and alias.data["Name"] != Name:
                return None
            return dict(alias.data)

        by_seq = {a.seq: a for a in self._aliases.values()}
        page, token = paginate("al", sorted(by_seq), fetch, Limit or DEFAULT_PAGE_SIZE, NextToken)
        return listing("Aliases", page, token)

    # --------------------------------------------------------------- rule sets

    @locked
    def create_matchmaking_rule_set(
        self, *, Name: str, RuleSetBody: str, Tags: list[Json] | None = None, **_ignored: Any
    ) -> Json:
        if Name in self._rule_sets:
            raise InvalidRequestException(f"Matchmaking rule set {Name} already exists.")
        rules = self._parsed_rule_set(RuleSetBody)
        data: Json = {
            "RuleSetName": Name,
            "RuleSetArn": self._arn("matchmakingruleset", Name),
            "RuleSetBody": RuleSetBody,
            "CreationTime": self.clock.now(),
        }
        self._rule_sets[Name] = NamedResource(self._next_seq(), data, shape_of(rules), rules)
        self._keep_tags(data["RuleSetArn"], Tags)
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
        self._tags.pop(rule_set.data["RuleSetArn"], None)
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
        Tags: list[Json] | None = None,
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
        self._keep_tags(data["ConfigurationArn"], Tags)
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
        was_automatic = configuration.data.get("BackfillMode") == "AUTOMATIC"
        configuration.data = data
        if was_automatic and data.get("BackfillMode") != "AUTOMATIC":
            self._automatic_backfill_stopped(data["Name"], self.clock.now())
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
        self._tags.pop(configuration.data["ConfigurationArn"], None)
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
        Tags: list[Json] | None = None,
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
        self._keep_tags(data["GameSessionQueueArn"], Tags)
        return {"GameSessionQueue": dict(data)}

    @locked
    def update_game_session_queue(self, *, Name: str, **changes: Any) -> Json:
        queue = self._queue(Name)
        updatable = {
            "TimeoutInSeconds",
            "PlayerLatencyPolicies",
            "Destinations",
            "FilterConfiguration",
            "PriorityConfiguration",
            "CustomEventData",
            "NotificationTarget",
        }
        data = dict(queue.data)
        data.update({k: v for k, v in changes.items() if k in updatable and v is not None})
        queue.data = data
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
        queue = self._queue(Name)
        self._tags.pop(queue.data["GameSessionQueueArn"], None)
        del self._queues[queue.data["Name"]]
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
        activating: bool = False,
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
        if activating and self.settings.session_activation_ms > 0:
            session.status = "ACTIVATING"
            self._schedule_session(self.settings.session_activation_ms, "activate", session)
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
            activating=True,
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

    # --------------------------------------------------- game session operations

    @locked
    def terminate_game_session(
        self, *, GameSessionId: str, TerminationMode: str, **_ignored: Any
    ) -> Json:
        session = self._session(GameSessionId)
        if session.status not in ("ACTIVE", "ACTIVATING"):
            raise InvalidGameSessionStatusException(
                f"Game session {session.arn} is {session.status} and cannot be terminated."
            )
        session.status = "TERMINATING"
        session.status_reason = (
            "FORCE_TERMINATED"
            if TerminationMode == "FORCE_TERMINATE"
            else "TRIGGERED_ON_PROCESS_TERMINATE"
        )
        delay = self.settings.session_termination_ms
        if delay > 0:
            self._schedule_session(delay, "terminate", session)
        else:
            self._end_session(session, self.clock.now())
        return {"GameSession": session.describe()}

    @locked
    def update_game_session(
        self,
        *,
        GameSessionId: str,
        MaximumPlayerSessionCount: int | None = None,
        Name: str | None = None,
        PlayerSessionCreationPolicy: str | None = None,
        ProtectionPolicy: str | None = None,
        GameProperties: list[Json] | None = None,
        **_ignored: Any,
    ) -> Json:
        session = self._session(GameSessionId)
        if session.status not in ("ACTIVE", "ACTIVATING"):
            raise InvalidGameSessionStatusException(
                f"Game session {session.arn} is {session.status} and cannot be updated."
            )
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

    def _reserve(self, session: GameSession, players: list[tuple[str, str | None]]) -> list[Json]:
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
        now = self.clock.now()
        created = []
        for player_id, player_data in players:
            player_session = PlayerSession(
                seq=self._next_seq(),
                player_session_id=f"psess-{uuid.uuid4()}",
                player_id=player_id,
                session=session,
                creation_time=now,
                player_data=player_data,
            )
            self._player_sessions[player_session.player_session_id] = player_session
            created.append(player_session.describe())
        session.player_count += len(players)
        return created

    @locked
    def create_player_session(
        self, *, GameSessionId: str, PlayerId: str, PlayerData: str | None = None, **_ignored: Any
    ) -> Json:
        created = self._reserve(self._session(GameSessionId), [(PlayerId, PlayerData)])
        return {"PlayerSession": created[0]}

    @locked
    def create_player_sessions(
        self,
        *,
        GameSessionId: str,
        PlayerIds: list[str],
        PlayerDataMap: dict[str, str] | None = None,
        **_ignored: Any,
    ) -> Json:
        data = PlayerDataMap or {}
        players = [(p, data.get(p)) for p in PlayerIds]
        return {"PlayerSessions": self._reserve(self._session(GameSessionId), players)}

    @locked
    def describe_player_sessions(
        self,
        *,
        GameSessionId: str | None = None,
        PlayerId: str | None = None,
        PlayerSessionId: str | None = None,
        PlayerSessionStatusFilter: str | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        if [GameSessionId, PlayerId, PlayerSessionId].count(None) != 2:
            raise InvalidRequestException(
                "Specify exactly one of GameSessionId, PlayerId or PlayerSessionId."
            )
        statuses = ("RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT")
        if PlayerSessionStatusFilter is not None and PlayerSessionStatusFilter not in statuses:
            raise InvalidRequestException(
                f"Invalid PlayerSessionStatusFilter {PlayerSessionStatusFilter}; valid values: "
                + ", ".join(statuses)
                + "."
            )
        if GameSessionId is not None:
            self._session(GameSessionId)

        def keep(p: PlayerSession) -> bool:
            if PlayerSessionId is not None and p.player_session_id != PlayerSessionId:
                return False
            if GameSessionId is not None and p.session.arn != GameSessionId:
                return False
            if PlayerId is not None and p.player_id != PlayerId:
                return False
            return PlayerSessionStatusFilter is None or p.status == PlayerSessionStatusFilter

        by_seq = {p.seq: p for p in self._player_sessions.values() if keep(p)}
        page, token = paginate(
            "ps",
            sorted(by_seq),
            lambda seq: by_seq[seq].describe(),
            Limit or DEFAULT_PAGE_SIZE,
            NextToken,
        )
        return listing("PlayerSessions", page, token)

    @locked
    def search_game_sessions(
        self,
        *,
        FleetId: str | None = None,
        AliasId: str | None = None,
        Location: str | None = None,
        FilterExpression: str | None = None,
        SortExpression: str | None = None,
        Limit: int | None = None,
        NextToken: str | None = None,
        **_ignored: Any,
    ) -> Json:
        fleet = self._fleet_of(FleetId, AliasId)
        if Location is not None and Location not in fleet.locations:
            raise InvalidRequestException(
                f"Location {Location} is not a location of fleet {fleet.fleet_id}."
            )
        matches = parse_filter(FilterExpression) if FilterExpression else None
        sessions = [
            s
            for seq in fleet.session_seqs
            if (s := self._sessions_by_seq.get(seq)) is not None
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
        limit = min(Limit or SEARCH_PAGE_MAX, SEARCH_PAGE_MAX)
        page, token = paginate(
            "sg", positions, lambda i: ordered[i - 1].describe(), limit, NextToken
        )
        return listing("GameSessions", page, token)

    @locked
    def describe_game_session_details(
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

        def detail(session: GameSession) -> Json:
            return {
                "GameSession": session.describe(),
                "ProtectionPolicy": session.protection_policy,
            }

        if GameSessionId is not None:
            session = self._session(GameSessionId)
            keep = StatusFilter is None or session.status == StatusFilter
            return {"GameSessionDetails": [detail(session)] if keep else []}
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
            return detail(s)

        return listing(
            "GameSessionDetails",
            *paginate("gd", fleet.session_seqs, fetch, Limit or GAME_SESSION_PAGE_SIZE, NextToken),
        )
