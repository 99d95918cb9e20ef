# ruff: noqa: N803  (operation arguments carry AWS's PascalCase member names on purpose)
"""Fleets (as the control API seeds them), aliases routing to them, and tags of any resource.

The operation contract is :mod:`configurations`'s: the state first, AWS's members as
keyword arguments, AWS's JSON back.
"""

from __future__ import annotations

import uuid
from typing import Any

from .exceptions import (
    InvalidRequestException,
    NotFoundException,
    TerminalRoutingStrategyException,
)
from .paging import Listing, Pages, paged
from .records import Alias, Fleet
from .registry import describe_operation
from .state import BackendState, Json

__all__ = ["OPERATIONS", "add_alias", "fleet_of"]

FLEET_ID_PAGES = Pages("FleetIds", "fl")
FLEET_ATTRIBUTE_PAGES = Pages("FleetAttributes", "fa")
ALIAS_PAGES = Pages("Aliases", "al")


# ------------------------------------------------------------------ fleets


@paged(FLEET_ID_PAGES)
def list_fleets(
    state: BackendState,
    *,
    BuildId: str | None = None,
    ScriptId: str | None = None,
    **_ignored: Any,
) -> list[Json] | Listing:
    if BuildId is not None or ScriptId is not None:  # no builds or scripts modelled
        return []
    return state.fleets.listing(lambda f: f.fleet_id)


describe_fleet_attributes = describe_operation(
    "describe_fleet_attributes",
    lambda s: s.fleets,
    FLEET_ATTRIBUTE_PAGES,
    Fleet.attributes,
    ids="FleetIds",
    missing_ok=True,
)


def fleet_of(state: BackendState, fleet_id: str | None, alias_id: str | None) -> Fleet:
    """The fleet named by exactly one of a fleet ID and an alias ID (SIMPLE routing)."""
    if (fleet_id is None) == (alias_id is None):
        raise InvalidRequestException("Specify either a fleet ID or an alias ID, not both.")
    if fleet_id is not None:
        return state.fleets.get(fleet_id)
    alias = state.aliases.get(alias_id or "")
    if alias.fleet_id is None:
        raise TerminalRoutingStrategyException(alias.data["RoutingStrategy"].get("Message"))
    return state.fleets.get(alias.fleet_id)


# ----------------------------------------------------------------- aliases


def _routing(state: BackendState, strategy: Json) -> Json:
    kind = strategy.get("Type", "SIMPLE")
    if kind == "SIMPLE":
        if not strategy.get("FleetId"):
            raise InvalidRequestException("RoutingStrategy of Type SIMPLE needs a FleetId.")
        fleet = state.fleets.get(strategy["FleetId"])
        return {"Type": "SIMPLE", "FleetId": fleet.fleet_id}
    if strategy.get("FleetId"):
        raise InvalidRequestException("RoutingStrategy of Type TERMINAL takes no FleetId.")
    return {
        "Type": "TERMINAL",
        **({"Message": strategy["Message"]} if "Message" in strategy else {}),
    }


def add_alias(
    state: BackendState,
    name: str,
    routing: Json,
    *,
    alias_id: str | None = None,
    description: str | None = None,
) -> Alias:
    """A new alias (alias ARNs carry no account); Conflict if the ID is taken."""
    alias_id = state.aliases.claim(alias_id or f"alias-{uuid.uuid4()}")
    now = state.clock.now()
    data: Json = {
        "AliasId": alias_id,
        "Name": name,
        "AliasArn": state.arn("alias", alias_id, account=False),
        "RoutingStrategy": routing,
        "CreationTime": now,
        "LastUpdatedTime": now,
    }
    if description is not None:
        data["Description"] = description
    return state.aliases.add(alias_id, Alias(state.next_seq(), data))


def create_alias(
    state: BackendState,
    *,
    Name: str,
    RoutingStrategy: Json,
    Description: str | None = None,
    Tags: list[Json] | None = None,
    **_ignored: Any,
) -> Json:
    alias = add_alias(state, Name, _routing(state, RoutingStrategy), description=Description)
    state.tags.add(alias.data["AliasArn"], Tags)
    return {"Alias": dict(alias.data)}


def describe_alias(state: BackendState, *, AliasId: str, **_ignored: Any) -> Json:
    return {"Alias": dict(state.aliases.get(AliasId).data)}


def update_alias(
    state: BackendState,
    *,
    AliasId: str,
    Name: str | None = None,
    Description: str | None = None,
    RoutingStrategy: Json | None = None,
    **_ignored: Any,
) -> Json:
    alias = state.aliases.get(AliasId)
    data = dict(alias.data)
    if RoutingStrategy is not None:
        data["RoutingStrategy"] = _routing(state, RoutingStrategy)
    if Name is not None:
        data["Name"] = Name
    if Description is not None:
        data["Description"] = Description
    data["LastUpdatedTime"] = state.clock.now()
    alias.data = data
    return {"Alias": dict(data)}


def delete_alias(state: BackendState, *, AliasId: str, **_ignored: Any) -> Json:
    state.aliases.remove(AliasId, state.tags)
    return {}


def resolve_alias(state: BackendState, *, AliasId: str, **_ignored: Any) -> Json:
    fleet = fleet_of(state, None, AliasId)
    return {"FleetId": fleet.fleet_id, "FleetArn": fleet.fleet_arn}


@paged(ALIAS_PAGES)
def list_aliases(
    state: BackendState,
    *,
    RoutingStrategyType: str | None = None,
    Name: str | None = None,
    **_ignored: Any,
) -> Listing:
    def render(alias: Alias) -> Json | None:
        if RoutingStrategyType and alias.data["RoutingStrategy"]["Type"] != RoutingStrategyType:
            return None
        if Name is not None and alias.data["Name"] != Name:
            return None
        return dict(alias.data)

    return state.aliases.listing(render)


# -------------------------------------------------------------------- tags


def _taggable(state: BackendState, arn: str) -> None:
    """NotFound unless ``arn`` is the ARN of a taggable resource that exists here."""
    for registry in state.taggable():
        item = registry.find(arn)
        if item is not None and registry.arn_of(item) == arn:
            return
    raise NotFoundException(f"Resource {arn} not found.")


def tag_resource(
    state: BackendState, *, ResourceARN: str, Tags: list[Json], **_ignored: Any
) -> Json:
    _taggable(state, ResourceARN)
    state.tags.add(ResourceARN, Tags)
    return {}


def untag_resource(
    state: BackendState, *, ResourceARN: str, TagKeys: list[str], **_ignored: Any
) -> Json:
    _taggable(state, ResourceARN)
    state.tags.remove(ResourceARN, TagKeys)
    return {}


def list_tags_for_resource(state: BackendState, *, ResourceARN: str, **_ignored: Any) -> Json:
    _taggable(state, ResourceARN)
    return {"Tags": state.tags.of(ResourceARN)}


OPERATIONS = (
    list_fleets,
    describe_fleet_attributes,
    create_alias,
    describe_alias,
    update_alias,
    delete_alias,
    resolve_alias,
    list_aliases,
    tag_resource,
    untag_resource,
    list_tags_for_resource,
)
