# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""Matchmaking set-up: rule sets, matchmaking configurations and game session queues.

Operations take the backend's state first, then the request members as keyword arguments
with AWS's PascalCase names, and return the answer as AWS's JSON has it (timestamps are
epoch-second floats). Members the emulator does not model are accepted and ignored. Input
has already been validated against botocore's model; only semantic checks live here.
Lookup, conflicts, describe-by-name, paging and tags are the registries' (:mod:`registry`).
"""

from __future__ import annotations

from typing import Any

from . import matchmaking
from .exceptions import InvalidRequestException, NotFoundException
from .paging import Listing, Pages, paged
from .players import shape_of
from .records import NamedResource
from .registry import describe_operation, resource_id
from .rulesets import RuleSet, RuleSetError, parse_rule_set
from .state import BackendState, Json

__all__ = ["OPERATIONS"]

RULE_SET_PAGES = Pages("RuleSets", "rs")
# AWS: "This parameter is limited to 10."
CONFIGURATION_PAGES = Pages("Configurations", "mc", maximum=10)
QUEUE_PAGES = Pages("GameSessionQueues", "q")


def _data(item: NamedResource) -> Json:
    return dict(item.data)


# --------------------------------------------------------------- rule sets


def create_matchmaking_rule_set(
    state: BackendState,
    *,
    Name: str,
    RuleSetBody: str,
    Tags: list[Json] | None = None,
    **_ignored: Any,
) -> Json:
    state.rule_sets.claim(Name)
    rules = _parsed_rule_set(RuleSetBody)
    data: Json = {
        "RuleSetName": Name,
        "RuleSetArn": state.arn("matchmakingruleset", Name),
        "RuleSetBody": RuleSetBody,
        "CreationTime": state.clock.now(),
    }
    state.rule_sets.add(Name, NamedResource(state.next_seq(), data, shape_of(rules), rules))
    state.tags.add(data["RuleSetArn"], Tags)
    return {"RuleSet": dict(data)}


def _parsed_rule_set(body: str) -> RuleSet:
    try:
        return parse_rule_set(body)
    except RuleSetError as exc:
        raise InvalidRequestException(str(exc)) from None


def validate_matchmaking_rule_set(
    state: BackendState, *, RuleSetBody: str, **_ignored: Any
) -> Json:
    """Valid: ``{"Valid": true}``; invalid: InvalidRequestException saying why."""
    _parsed_rule_set(RuleSetBody)
    return {"Valid": True}


describe_matchmaking_rule_sets = describe_operation(
    "describe_matchmaking_rule_sets", lambda s: s.rule_sets, RULE_SET_PAGES, _data, missing_ok=False
)


def delete_matchmaking_rule_set(state: BackendState, *, Name: str, **_ignored: Any) -> Json:
    name = state.rule_sets.get(Name).data["RuleSetName"]
    users = sorted(c.data["Name"] for c in state.configurations if c.data["RuleSetName"] == name)
    if users:
        raise InvalidRequestException(
            f"Matchmaking rule set {name} is used by matchmaking configurations: "
            + ", ".join(users)
            + "."
        )
    state.rule_sets.remove(name, state.tags)
    return {}


# ---------------------------------------------------------- configurations


def _queue_arns(state: BackendState, mode: str, arns: list[str] | None) -> list[str]:
    """WITH_QUEUE needs queues that exist; STANDALONE keeps none."""
    if mode == "STANDALONE":
        return []
    if not arns:
        raise InvalidRequestException(
            "GameSessionQueueArns is required when FlexMatchMode is WITH_QUEUE."
        )
    for arn in arns:
        queue = state.queues.find(resource_id(arn, "gamesessionqueue"))
        if queue is None or queue.data["GameSessionQueueArn"] != arn:
            raise NotFoundException(f"Game session queue {arn} not found.")
    return list(arns)


def _check_backfill_mode(data: Json) -> None:
    if data.get("FlexMatchMode") == "STANDALONE" and data.get("BackfillMode") == "AUTOMATIC":
        raise InvalidRequestException(
            "Automatic backfill is not available when FlexMatchMode is STANDALONE."
        )


def create_matchmaking_configuration(
    state: BackendState,
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
    state.configurations.claim(Name)
    rule_set = state.rule_sets.get(RuleSetName)
    mode = FlexMatchMode or "WITH_QUEUE"
    data: Json = {
        "Name": Name,
        "ConfigurationArn": state.arn("matchmakingconfiguration", Name),
        "GameSessionQueueArns": _queue_arns(state, mode, GameSessionQueueArns),
        "RequestTimeoutSeconds": RequestTimeoutSeconds,
        "AcceptanceRequired": AcceptanceRequired,
        "RuleSetName": rule_set.data["RuleSetName"],
        "RuleSetArn": rule_set.data["RuleSetArn"],
        "AdditionalPlayerCount": AdditionalPlayerCount or 0,
        "CreationTime": state.clock.now(),
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
    _check_backfill_mode(data)
    state.configurations.add(Name, NamedResource(state.next_seq(), data))
    state.tags.add(data["ConfigurationArn"], Tags)
    return {"Configuration": dict(data)}


@paged(CONFIGURATION_PAGES)
def describe_matchmaking_configurations(
    state: BackendState,
    *,
    Names: list[str] | None = None,
    RuleSetName: str | None = None,
    **_ignored: Any,
) -> list[Json] | Listing:
    if Names or RuleSetName is None:
        return state.configurations.describe(Names, _data, missing_ok=True)
    rule_set_name = resource_id(RuleSetName, "matchmakingruleset")
    items = [c for c in state.configurations if c.data["RuleSetName"] == rule_set_name]
    return state.configurations.listing(_data, items)


_UPDATABLE_CONFIGURATION = frozenset(
    {
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
)


def update_matchmaking_configuration(state: BackendState, *, Name: str, **changes: Any) -> Json:
    configuration = state.configurations.get(Name)
    data = dict(configuration.data)
    data.update(
        {k: v for k, v in changes.items() if k in _UPDATABLE_CONFIGURATION and v is not None}
    )
    if changes.get("RuleSetName") is not None:
        rule_set = state.rule_sets.get(changes["RuleSetName"])
        data["RuleSetName"] = rule_set.data["RuleSetName"]
        data["RuleSetArn"] = rule_set.data["RuleSetArn"]
    data["GameSessionQueueArns"] = _queue_arns(
        state, data["FlexMatchMode"], data.get("GameSessionQueueArns")
    )
    _check_backfill_mode(data)
    was_automatic = configuration.data.get("BackfillMode") == "AUTOMATIC"
    configuration.data = data
    if was_automatic and data.get("BackfillMode") != "AUTOMATIC":
        matchmaking.automatic_backfill_stopped(state, data["Name"])
    return {"Configuration": dict(data)}


def delete_matchmaking_configuration(state: BackendState, *, Name: str, **_ignored: Any) -> Json:
    name = state.configurations.get(Name).data["Name"]
    if state.active_by_configuration[name] > 0:
        raise InvalidRequestException(
            f"Matchmaking configuration {name} cannot be deleted while it has "
            "active matchmaking tickets."
        )
    state.configurations.remove(name, state.tags)
    return {}


# ------------------------------------------------------------------ queues

_UPDATABLE_QUEUE = frozenset(
    {
        "TimeoutInSeconds",
        "PlayerLatencyPolicies",
        "Destinations",
        "FilterConfiguration",
        "PriorityConfiguration",
        "CustomEventData",
        "NotificationTarget",
    }
)


def create_game_session_queue(
    state: BackendState,
    *,
    Name: str,
    TimeoutInSeconds: int | None = None,
    PlayerLatencyPolicies: list[Json] | None = None,
    Destinations: list[Json] | None = None,
    Tags: list[Json] | None = None,
    **optional: Any,
) -> Json:
    state.queues.claim(Name)
    data: Json = {
        "Name": Name,
        "GameSessionQueueArn": state.arn("gamesessionqueue", Name),
        "TimeoutInSeconds": 600 if TimeoutInSeconds is None else TimeoutInSeconds,
        "PlayerLatencyPolicies": PlayerLatencyPolicies or [],
        "Destinations": Destinations or [],
    }
    data.update({k: v for k, v in optional.items() if k in _UPDATABLE_QUEUE and v is not None})
    state.queues.add(Name, NamedResource(state.next_seq(), data))
    state.tags.add(data["GameSessionQueueArn"], Tags)
    return {"GameSessionQueue": dict(data)}


def update_game_session_queue(state: BackendState, *, Name: str, **changes: Any) -> Json:
    queue = state.queues.get(Name)
    data = dict(queue.data)
    data.update({k: v for k, v in changes.items() if k in _UPDATABLE_QUEUE and v is not None})
    queue.data = data
    return {"GameSessionQueue": dict(data)}


describe_game_session_queues = describe_operation(
    "describe_game_session_queues", lambda s: s.queues, QUEUE_PAGES, _data, missing_ok=False
)


def delete_game_session_queue(state: BackendState, *, Name: str, **_ignored: Any) -> Json:
    state.queues.remove(Name, state.tags)
    return {}


OPERATIONS = (
    create_matchmaking_rule_set,
    validate_matchmaking_rule_set,
    describe_matchmaking_rule_sets,
    delete_matchmaking_rule_set,
    create_matchmaking_configuration,
    describe_matchmaking_configurations,
    update_matchmaking_configuration,
    delete_matchmaking_configuration,
    create_game_session_queue,
    update_game_session_queue,
    describe_game_session_queues,
    delete_game_session_queue,
)
