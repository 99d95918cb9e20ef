"""The resource model the rules read: what a state export and a policy pack both give.

Values are plain JSON-like data. A value nobody can read here (an encrypted secret, a
value unknown during preview) is an :class:`Unknown`, so a rule can tell "absent" from
"cannot be known" (an unknown backfill mode is a trigger of its own).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gamelift_backfill.declaration import GUARD, TICKET

DYNAMIC_GUARD = GUARD.dynamic_token
DYNAMIC_TICKET = TICKET.dynamic_token
NATIVE_GUARD = GUARD.token
NATIVE_TICKET = TICKET.token
GUARD_TYPES = frozenset({DYNAMIC_GUARD, NATIVE_GUARD})
TICKET_TYPES = frozenset({DYNAMIC_TICKET, NATIVE_TICKET})
DYNAMIC_TYPES = frozenset({DYNAMIC_GUARD, DYNAMIC_TICKET})

# Cloud Control's generic resource: pulumi-aws 7 spells it aws:cloudcontrol/resource:Resource.
CLOUD_CONTROL_TYPES = frozenset({"aws:cloudcontrol/resource:Resource", "aws:cloudcontrol:Resource"})
Kind = Literal["configuration", "guard", "ticket", "fleet", "queue", "alias"]
# Provider type tokens -> kind (pulumi-aws 6/7, aws-native).
TYPED_KINDS: Mapping[str, Kind] = {
    "aws:gamelift/matchmakingConfiguration:MatchmakingConfiguration": "configuration",
    "aws-native:gamelift:MatchmakingConfiguration": "configuration",
    "aws:gamelift/fleet:Fleet": "fleet",
    "aws-native:gamelift:Fleet": "fleet",
    "aws-native:gamelift:ContainerFleet": "fleet",
    "aws:gamelift/gameSessionQueue:GameSessionQueue": "queue",
    "aws-native:gamelift:GameSessionQueue": "queue",
    "aws:gamelift/alias:Alias": "alias",
    "aws-native:gamelift:Alias": "alias",
    **dict.fromkeys(GUARD_TYPES, "guard"),
    **dict.fromkeys(TICKET_TYPES, "ticket"),
}
# A dynamic resource of the program's own (pulumi-aws has no FlexMatch resources; teams
# without the Cloud Control or aws-native plugin write one), named as this package names its
# own: `class MatchmakingConfiguration(Resource, module="gamelift", name=...)` in Python gives
# pulumi-python:dynamic/gamelift:MatchmakingConfiguration. Any module, Python or Node.js.
DYNAMIC_CONFIGURATION = re.compile(
    r"pulumi-(?:python|nodejs):dynamic(?:/[^:]+)?:MatchmakingConfiguration"
)
# Cloud Control typeName -> kind.
CLOUD_CONTROL_KINDS: Mapping[str, Kind] = {
    "AWS::GameLift::MatchmakingConfiguration": "configuration",
    "AWS::GameLift::Fleet": "fleet",
    "AWS::GameLift::ContainerFleet": "fleet",
    "AWS::GameLift::GameSessionQueue": "queue",
    "AWS::GameLift::Alias": "alias",
}


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be read here; ``why`` says so in words."""

    why: str


@dataclass(frozen=True)
class Resource:
    """One resource of a stack, as the rules see it (state export or policy pack)."""

    urn: str
    type: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    id: str | None = None
    parent: str | None = None
    custom: bool = True
    protect: bool = False
    retain_on_delete: bool = False
    external: bool = False
    deleted_with: str | None = None
    pending_delete: bool = False
    pending_operation: str | None = None  # "creating", "deleting"... of pending_operations

    @property
    def name(self) -> str:
        """The resource's name: the URN's last segment."""
        return self.urn.rsplit("::", 1)[-1]

    def all_dependencies(self) -> Iterable[str]:
        """Every URN this resource depends on: explicit and through its properties."""
        yield from self.dependencies
        for urns in self.property_dependencies.values():
            yield from urns

    def prop(self, *names: str) -> Any:
        """The first of ``names`` present, outputs before inputs (None when absent)."""
        for bag in (self.outputs, self.inputs):
            for name in names:
                if name in bag and bag[name] is not None:
                    return bag[name]
        return None

    @property
    def kind(self) -> Kind | None:
        """What this resource is to the rules, or None when it does not matter to them."""
        if self.type in CLOUD_CONTROL_TYPES:
            type_name = self.prop("typeName", "type_name")
            return CLOUD_CONTROL_KINDS.get(type_name) if isinstance(type_name, str) else None
        if DYNAMIC_CONFIGURATION.fullmatch(self.type):
            return "configuration"
        return TYPED_KINDS.get(self.type)

    def cloud_control_properties(self) -> Mapping[str, Any] | Unknown:
        """A Cloud Control resource's properties (JSON in ``properties``/``desiredState``)."""
        raw = self.prop("properties", "desiredState", "desired_state")
        if isinstance(raw, Unknown):
            return raw
        if not isinstance(raw, str):
            return Unknown("no desiredState")
        try:
            parsed = json.loads(raw)
        except ValueError:
            return Unknown("desiredState is not JSON")
        return parsed if isinstance(parsed, dict) else Unknown("desiredState is not an object")

    def names_and_arns(self) -> set[str]:
        """The strings other resources may use to name this one (ID, name, ARN)."""
        found = {self.id} if self.id else set()
        props: Mapping[str, Any] | Unknown = self.outputs or self.inputs
        if self.type in CLOUD_CONTROL_TYPES:
            props = self.cloud_control_properties()
        if isinstance(props, Mapping):
            for key in ("name", "Name", "arn", "Arn", "fleetId", "FleetId", "aliasId", "AliasId"):
                value = props.get(key)
                if isinstance(value, str) and value:
                    found.add(value)
        return found


@dataclass(frozen=True)
class Finding:
    """One thing to fix: what happens at destroy, to which resources, and the fix."""

    rule: str
    title: str
    at_destroy: str
    urns: tuple[str, ...]
    fix: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON data (the ``--json`` envelope's ``findings`` items)."""
        return {
            "rule": self.rule,
            "title": self.title,
            "at_destroy": self.at_destroy,
            "urns": list(self.urns),
            "fix": self.fix,
            "details": dict(self.details),
        }


@dataclass
class Stack:
    """The resources of one stack, by URN, and notes on what could not be checked."""

    resources: dict[str, Resource]
    notes: list[str] = field(default_factory=list)
    # Replaced resources still to be deleted (`delete: true`): they share the URN of the
    # live resource that replaced them, so they are kept apart from the graph.
    replaced: list[Resource] = field(default_factory=list)

    def every(self) -> list[Resource]:
        """The live resources, then the replaced ones still to be deleted."""
        return [*self.resources.values(), *self.replaced]

    def of_kind(self, kind: Kind) -> list[Resource]:
        """The resources of one kind, in state order."""
        return [r for r in self.resources.values() if r.kind == kind]

    def ordered(self, urns: set[str], *kinds: Kind) -> list[Resource]:
        """The resources of ``urns`` (of ``kinds``, when given) in state order."""
        return [
            r for r in self.resources.values() if r.urn in urns and (not kinds or r.kind in kinds)
        ]

    def closure(self, urn: str) -> set[str]:
        """Every URN ``urn`` depends on, directly or through others (iterative: no recursion
        limit on deep or cyclic graphs)."""
        seen: set[str] = set()
        todo = [urn]
        while todo:
            resource = self.resources.get(todo.pop())
            if resource is None:
                continue
            for dep in resource.all_dependencies():
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        seen.discard(urn)
        return seen
