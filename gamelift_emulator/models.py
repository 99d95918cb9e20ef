# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""GameLift FlexMatch state machine, with no HTTP: one backend per account and region.

Contract with the wire layer: one method per GameLift operation, in snake_case, taking the
request members as keyword arguments with AWS's PascalCase names and returning the response
dict as AWS's JSON has it (timestamps are epoch-second floats). Members the emulator does not
model are accepted and ignored. Errors are :mod:`gamelift_emulator.exceptions` classes. Input
has already been validated against botocore's model; only semantic checks live here.

Time only moves through the injected clock. Tickets change status on a heap of due events
(search, timeout, cancel, expire) that every call drains first, so a call costs O(its own
work + events that fell due), never a scan of every ticket.
"""

from __future__ import annotations

import base64
import binascii
import functools
import heapq
import threading
import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ParamSpec, TypeVar, cast

from .clock import Clock, SystemClock
from .exceptions import (
    ConflictException,
    InvalidRequestException,
    NotFoundException,
)
from .players import (
    Player,
    RuleSetShape,
    generate_players,
    matchmaker_data,
    parse_rule_set,
    ticket_player,
)

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "DEFAULT_ACCOUNT_ID",
    "FINAL_STATUSES",
    "PLACING_MESSAGE",
    "BackendStore",
    "EmulatorSettings",
    "GameLiftBackend",
]

Json = dict[str, Any]
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

DEFAULT_ACCOUNT_ID = "123456789012"
ACTIVE_STATUSES = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"})
FINAL_STATUSES = frozenset({"CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"})
ALL_STATUSES = ACTIVE_STATUSES | FINAL_STATUSES
GAME_SESSION_STATUSES = frozenset({"ACTIVE", "ACTIVATING", "TERMINATED", "TERMINATING", "ERROR"})
# Statuses in which RequestTimeoutSeconds still runs; PLACING waits for the placement.
_TIMEOUT_STATUSES = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE"})
# Final statuses after which GameLift starts the next automatic backfill ticket.
_REGENERATE_AFTER = frozenset({"TIMED_OUT", "COMPLETED", "FAILED"})
MAX_DESCRIBE_TICKETS = 10
CONFIGURATION_PAGE_MAX = 10  # AWS: "This parameter is limited to 10."
DEFAULT_PAGE_SIZE = 10
GAME_SESSION_PAGE_SIZE = 100

PLACING_MESSAGE = "Matchmaking ticket is in PLACING status and cannot be canceled."


@dataclass
class EmulatorSettings:
    """Knobs of the lifecycle, changeable at run time through the control API."""

    stop_delay_ms: float = 100.0  # StopMatchmaking -> CANCELLED (AWS cancels asynchronously)
    queued_ms: float = 50.0  # QUEUED -> SEARCHING
    retention_s: float = 300.0  # how long final tickets stay visible to DescribeMatchmaking
    auto_backfill_regenerate: bool = True  # a new automatic ticket after one ends unmatched


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
class _Named:
    """A rule set, configuration or queue: its AWS dict plus a creation sequence."""

    seq: int
    data: Json
    shape: RuleSetShape | None = None  # rule sets only


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    """Run a backend method under its lock, after the lifecycle caught up with the clock."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        backend = cast(GameLiftBackend, args[0])
        with backend._lock:
            backend._advance()
            return method(*args, **kwargs)

    return wrapper


def _encode_token(kind: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{seq}".encode()).decode()


def _decode_token(kind: str, token: str) -> int:
    """The creation sequence a token points after; InvalidRequest for a foreign token."""
    try:
        got_kind, _, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if got_kind == kind:
            return int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequestException("Invalid NextToken.")


def _paginate(
    kind: str,
    seqs: Sequence[int],
    fetch: Callable[[int], T | None],
    limit: int,
    token: str | None,
) -> tuple[list[T], str | None]:
    """A page of items in creation order; the token names the last item's sequence.

    Positions are sequences, not indexes, so items added or dropped between pages never
    shift what the next page returns.
    """
    start = bisect_right(seqs, _decode_token(kind, token)) if token else 0
    page: list[T] = []
    last = 0
    for index in range(start, len(seqs)):  # no slice: a page costs O(page), not O(all)
        seq = seqs[index]
        item = fetch(seq)
        if item is None:
            continue
        if len(page) == limit:
            return page, _encode_token(kind, last)
        page.append(item)
        last = seq
    return page, None


def _listing(key: str, page: list[Any], token: str | None) -> Json:
    """A Describe* answer: the page under ``key``, and NextToken while more remain."""
    out: Json = {key: page}
    if token:
        out["NextToken"] = token
    return out


def _tail(arn_or_name: str, resource: str) -> str:
    """The name or ID at the end of ``arn:...:<resource>/<id>`` (or the value itself)."""
    marker = f":{resource}/"
    return arn_or_name.split(marker, 1)[1] if marker in arn_or_name else arn_or_name


class GameLiftBackend:
    """One account's GameLift in one Region. Thread-safe: every call holds one lock."""

    def __init__(
        self, account_id: str, region: str, clock: Clock, settings: EmulatorSettings
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.settings = settings
        self._lock = threading.Lock()
        self._seq = 0
        self._rule_sets: dict[str, _Named] = {}
        self._configurations: dict[str, _Named] = {}
        self._queues: dict[str, _Named] = {}
        self._fleets: dict[str, Fleet] = {}
        self._aliases: dict[str, tuple[str, str]] = {}  # alias ID -> (alias ARN, fleet ID)
        self._sessions: dict[str, GameSession] = {}  # by ARN
        self._sessions_by_seq: dict[int, GameSession] = {}
        self._tickets: dict[str, Ticket] = {}  # in creation order
        self._active_by_configuration: Counter[str] = Counter()
        self._events: list[tuple[float, int, str, str, int]] = []  # (due, seq, kind, id, epoch)

    # ----------------------------------------------------------------- helpers

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _arn(self, resource: str, name: str, *, account: bool = True) -> str:
        account_part = self.account_id if account else ""
        return f"arn:aws:gamelift:{self.region}:{account_part}:{resource}/{name}"

    def _configuration(self, name_or_arn: str) -> _Named:
        name = _tail(name_or_arn, "matchmakingconfiguration")
        try:
            return self._configurations[name]
        except KeyError:
            raise NotFoundException(f"Matchmaking configuration {name} not found.") from None

    def _rule_set(self, name_or_arn: str) -> _Named:
        name = _tail(name_or_arn, "matchmakingruleset")
        try:
            return self._rule_sets[name]
        except KeyError:
            raise NotFoundException(f"Matchmaking rule set {name} not found.") from None

    def _fleet(self, fleet_id_or_arn: str) -> Fleet:
        fleet_id = _tail(fleet_id_or_arn, "fleet")
        try:
            return self._fleets[fleet_id]
        except KeyError:
            raise NotFoundException(f"Fleet {fleet_id} not found.") from None

    def _fleet_of(self, FleetId: str | None, AliasId: str | None) -> Fleet:
        if (FleetId is None) == (AliasId is None):
            raise InvalidRequestException("Specify either a fleet ID or an alias ID, not both.")
        if FleetId is not None:
            return self._fleet(FleetId)
        alias_id = _tail(AliasId or "", "alias")
        if alias_id not in self._aliases:
            raise NotFoundException(f"Alias {alias_id} not found.")
        return self._fleet(self._aliases[alias_id][1])

    def _session(self, arn: str) -> GameSession:
        try:
            return self._sessions[arn]
        except KeyError:
            raise NotFoundException(f"Game session {arn} not found.") from None

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
                and ticket.status in _TIMEOUT_STATUSES
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
        configuration: _Named,
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

    # --------------------------------------------------------------- rule sets

    @_locked
    def create_matchmaking_rule_set(self, *, Name: str, RuleSetBody: str, **_ignored: Any) -> Json:
        if Name in self._rule_sets:
            raise InvalidRequestException(f"Matchmaking rule set {Name} already exists.")
        try:
            shape = parse_rule_set(RuleSetBody)
        except ValueError as exc:
            raise InvalidRequestException(str(exc)) from None
        data = {
            "RuleSetName": Name,
            "RuleSetArn": self._arn("matchmakingruleset", Name),
            "RuleSetBody": RuleSetBody,
            "CreationTime": self.clock.now(),
        }
        self._rule_sets[Name] = _Named(self._next_seq(), data, shape)
        return {"RuleSet": dict(data)}

    @_locked
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
        return _listing(
            "RuleSets",
            *self._page_named("rs", self._rule_sets, Limit or DEFAULT_PAGE_SIZE, NextToken),
        )

    @_locked
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
        self, kind: str, items: Mapping[str, _Named], limit: int, token: str | None
    ) -> tuple[list[Json], str | None]:
        by_seq = {item.seq: item for item in items.values()}
        return _paginate(kind, sorted(by_seq), lambda s: dict(by_seq[s].data), limit, token)

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
            queue = self._queues.get(_tail(arn, "gamesessionqueue"))
            if queue is None or queue.data["GameSessionQueueArn"] != arn:
                raise NotFoundException(f"Game session queue {arn} not found.")
        return list(arns)

    @staticmethod
    def _check_backfill_mode(data: Json) -> None:
        if data.get("FlexMatchMode") == "STANDALONE" and data.get("BackfillMode") == "AUTOMATIC":
            raise InvalidRequestException(
                "Automatic backfill is not available when FlexMatchMode is STANDALONE."
            )

    @_locked
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
        self._configurations[Name] = _Named(self._next_seq(), data)
        return {"Configuration": dict(data)}

    @_locked
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
            wanted = [_tail(n, "matchmakingconfiguration") for n in Names]
            found = [self._configurations[n] for n in wanted if n in self._configurations]
            return {"Configurations": [dict(c.data) for c in found]}
        items: Mapping[str, _Named] = self._configurations
        if RuleSetName is not None:
            rule_set_name = _tail(RuleSetName, "matchmakingruleset")
            items = {k: c for k, c in items.items() if c.data["RuleSetName"] == rule_set_name}
        limit = min(Limit or CONFIGURATION_PAGE_MAX, CONFIGURATION_PAGE_MAX)
        return _listing("Configurations", *self._page_named("mc", items, limit, NextToken))

    @_locked
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

    @_locked
    def delete_matchmaking_configuration(self, *, Name: str, **_ignored: Any) -> Json:
        configuration = self._configuration(Name)
        name = configuration.data["Name"]
        if self._active_by_configuration[name] > 0:
            raise InvalidRequestException(
                f"Matchmaking configuration {name} cannot be deleted while it has "
                "active matchmaking tickets."
            )
        del self._configurations[name]
        return {}

    # ----------------------------------------------------------------- tickets

    @_locked
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

    @_locked
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

    @_locked
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

    @_locked
    def describe_matchmaking(self, *, TicketIds: list[str], **_ignored: Any) -> Json:
        if len(TicketIds) > MAX_DESCRIBE_TICKETS:
            raise InvalidRequestException(
                "1 validation error detected: Value at 'ticketIds' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_DESCRIBE_TICKETS}"
            )
        tickets = (self._tickets.get(ticket_id) for ticket_id in dict.fromkeys(TicketIds))
        return {"TicketList": [t.describe() for t in tickets if t is not None]}

    # ------------------------------------------------------------------ queues

    @_locked
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
        self._queues[Name] = _Named(self._next_seq(), data)
        return {"GameSessionQueue": dict(data)}

    def _queue(self, name_or_arn: str) -> _Named:
        name = _tail(name_or_arn, "gamesessionqueue")
        try:
            return self._queues[name]
        except KeyError:
            raise NotFoundException(f"Game session queue {name} not found.") from None

    @_locked
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
        return _listing(
            "GameSessionQueues",
            *self._page_named("q", self._queues, Limit or DEFAULT_PAGE_SIZE, NextToken),
        )

    @_locked
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

    @_locked
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

    @_locked
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

        return _listing(
            "GameSessions",
            *_paginate("gs", fleet.session_seqs, fetch, Limit or GAME_SESSION_PAGE_SIZE, NextToken),
        )

    # ---------------------------------------------------------------- controls

    @_locked
    def create_fleet(self, fleet_id: str | None = None, locations: list[str] | None = None) -> Json:
        """Control: a fleet homed in this Region, with optional remote locations."""
        fleet_id = fleet_id or f"fleet-{uuid.uuid4()}"
        if fleet_id in self._fleets:
            raise ConflictException(f"Fleet {fleet_id} already exists.")
        remote = [loc for loc in dict.fromkeys(locations or []) if loc != self.region]
        fleet = Fleet(fleet_id, self._arn("fleet", fleet_id), [self.region, *remote])
        self._fleets[fleet_id] = fleet
        return {"fleet_id": fleet.fleet_id, "fleet_arn": fleet.fleet_arn}

    @_locked
    def delete_fleet(self, fleet_id: str) -> None:
        """Control: drop a fleet, its aliases and sessions; their active tickets fail."""
        fleet = self._fleet(fleet_id)
        now = self.clock.now()
        for seq in fleet.session_seqs:
            session = self._sessions_by_seq.pop(seq, None)
            if session is not None:
                self._end_session(session, now)
                del self._sessions[session.arn]
        self._aliases = {a: v for a, v in self._aliases.items() if v[1] != fleet.fleet_id}
        del self._fleets[fleet.fleet_id]

    @_locked
    def create_alias(self, fleet_id: str, alias_id: str | None = None) -> Json:
        """Control: an alias routing to ``fleet_id`` (alias ARNs carry no account)."""
        fleet = self._fleet(fleet_id)
        alias_id = alias_id or f"alias-{uuid.uuid4()}"
        if alias_id in self._aliases:
            raise ConflictException(f"Alias {alias_id} already exists.")
        arn = self._arn("alias", alias_id, account=False)
        self._aliases[alias_id] = (arn, fleet.fleet_id)
        return {"alias_id": alias_id, "alias_arn": arn}

    @_locked
    def seed_game_session(
        self,
        fleet_id: str,
        configuration_name: str,
        player_count: int,
        max_players: int,
        location: str | None = None,
    ) -> Json:
        """Control: a session as a match of ``configuration_name`` would have made it.

        Returns the session as DescribeGameSessions does plus ``auto_backfill_ticket_id``.
        """
        fleet = self._fleet(fleet_id)
        configuration = self._configuration(configuration_name)
        if not 0 <= player_count <= max_players or max_players < 1:
            raise InvalidRequestException(
                "player_count must be between 0 and max_players, and max_players at least 1."
            )
        shape = self._rule_sets[configuration.data["RuleSetName"]].shape
        assert shape is not None  # rule sets always carry their parsed shape
        session = self._add_session(fleet, location, max_players)
        session.player_count = player_count
        session.configuration_name = configuration.data["Name"]
        session.configuration_arn = configuration.data["ConfigurationArn"]
        session.match_id = str(uuid.uuid4())
        session.teams = shape.teams
        session.players = generate_players(shape, player_count)
        session.backfill_mode = configuration.data["BackfillMode"]
        session.auto_backfill = session.backfill_mode == "AUTOMATIC"
        self._maybe_auto_backfill(session, session.creation_time)
        return {**session.describe(), "auto_backfill_ticket_id": session.auto_ticket_id}

    @_locked
    def terminate_game_session(self, game_session_arn: str) -> None:
        """Control: the session ends; its active backfill ticket is cancelled."""
        self._end_session(self._session(game_session_arn), self.clock.now())

    def _end_session(self, session: GameSession, at: float) -> None:
        if session.status == "TERMINATED":
            return
        session.status = "TERMINATED"
        session.termination_time = at
        session.auto_backfill = False
        ticket = self._tickets.get(session.backfill_ticket_id or "")
        if ticket is not None and ticket.status in ACTIVE_STATUSES:
            self._finish(ticket, "CANCELLED", at, message="The game session ended.")

    @_locked
    def force_ticket_status(self, ticket_id: str, status: str) -> Json:
        """Control: put a ticket in any GameLift status; final ones get an EndTime."""
        if status not in ALL_STATUSES:
            raise InvalidRequestException(
                f"Unknown ticket status {status}; valid: " + ", ".join(sorted(ALL_STATUSES))
            )
        ticket = self._ticket(ticket_id)
        now = self.clock.now()
        ticket.epoch += 1  # whatever was scheduled for the old status no longer applies
        ticket.cancel_requested = False
        if status in FINAL_STATUSES:
            reason = None if status in ("COMPLETED", "CANCELLED") else status
            self._finish(ticket, status, now, reason=reason, message=f"Forced to {status}.")
        else:
            self._set_status(ticket, status, now, None, None)
            if status == "QUEUED":
                self._schedule(now + self.settings.queued_ms / 1000.0, "search", ticket)
            if status in _TIMEOUT_STATUSES:
                self._schedule(max(now, ticket.timeout_at), "timeout", ticket)
        return self._list_entry(ticket)

    @_locked
    def list_tickets(self) -> list[Json]:
        """Control: every ticket still visible, in creation order, with GameLift names."""
        return [self._list_entry(t) for t in self._tickets.values()]

    @staticmethod
    def _list_entry(ticket: Ticket) -> Json:
        entry = ticket.describe()
        entry["GameSessionArn"] = ticket.game_session_arn
        entry["Automatic"] = ticket.automatic
        return entry

    @_locked
    def list_fleets(self) -> list[Json]:
        """Control: fleets with their locations, for inspection."""
        return [
            {"fleet_id": f.fleet_id, "fleet_arn": f.fleet_arn, "locations": list(f.locations)}
            for f in self._fleets.values()
        ]


class BackendStore:
    """Every backend of the process, by account and Region, sharing one clock and settings."""

    def __init__(self, clock: Clock | None = None, settings: EmulatorSettings | None = None):
        self.clock: Clock = clock or SystemClock()
        self.settings = settings or EmulatorSettings()
        self._backends: dict[str, dict[str, GameLiftBackend]] = {}
        self._lock = threading.Lock()

    def backend(self, account_id: str, region: str) -> GameLiftBackend:
        """The backend of ``account_id`` in ``region``, created on first use."""
        with self._lock:
            regions = self._backends.setdefault(account_id, {})
            if region not in regions:
                regions[region] = GameLiftBackend(account_id, region, self.clock, self.settings)
            return regions[region]

    def backends(self) -> list[GameLiftBackend]:
        """Every backend created so far (for control views across Regions)."""
        with self._lock:
            return [b for regions in self._backends.values() for b in regions.values()]

    def reset(self) -> None:
        """Forget all state and put every setting back to its default."""
        with self._lock:
            self._backends.clear()
            defaults = EmulatorSettings()
            for f in fields(EmulatorSettings):
                setattr(self.settings, f.name, getattr(defaults, f.name))

    def update_settings(self, changes: Mapping[str, object]) -> EmulatorSettings:
        """Apply control-API settings; InvalidRequest for unknown names or wrong types."""
        known = {f.name: f for f in fields(EmulatorSettings)}
        updates: dict[str, object] = {}
        for name, value in changes.items():
            if name not in known:
                raise InvalidRequestException(f"Unknown setting {name}.")
            if name == "auto_backfill_regenerate":
                if not isinstance(value, bool):
                    raise InvalidRequestException(f"Setting {name} must be a boolean.")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidRequestException(f"Setting {name} must be a non-negative number.")
            else:
                value = float(value)
            updates[name] = value
        with self._lock:
            for name, value in updates.items():
                setattr(self.settings, name, value)
        return self.settings
