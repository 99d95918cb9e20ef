"""The policy pack's adapter: pulumi-policy's stack resources -> the doctor's model.

Duck-typed on ``pulumi_policy.PolicyResource`` (``urn``, ``resource_type``, ``props``,
``opts.protect``, ``parent``, ``dependencies``, ``property_dependencies``), so the rules
and this adapter are tested without a policy analyzer running. A value the pack cannot
know during preview (pulumi-policy raises on reading it, or hands its sentinel string)
becomes :class:`Unknown`. pulumi-policy 1.21 exposes ``protect`` but not
``retainOnDelete``, ``deletedWith`` or ``external``: the pack sees those on no resource;
the doctor reads them from the state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .model import Finding, Resource, Stack, Unknown
from .rules import DESIGN_RULES, Rule

# pulumi-policy's (and the engine's) unknown sentinels, by the type they stand for.
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
PREVIEW_UNKNOWN = Unknown("not known until the resources it depends on are created")


def plain(value: Any) -> Any:
    """A policy property value as plain data; unknowns become :class:`Unknown`."""
    if isinstance(value, str):
        return PREVIEW_UNKNOWN if value in UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key in value:
            try:
                result[str(key)] = plain(value[key])
            except Exception:  # pulumi-policy's UnknownValueError: unknown during preview
                result[str(key)] = PREVIEW_UNKNOWN
        return result
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except Exception:
                items.append(PREVIEW_UNKNOWN)
        return items
    return value


def _urns(resources: Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(r.urn) for r in resources)


def resource(policy_resource: Any) -> Resource:
    """One PolicyResource as the doctor's Resource (its props are its outputs)."""
    opts = getattr(policy_resource, "opts", None)
    parent = getattr(policy_resource, "parent", None)
    return Resource(
        urn=policy_resource.urn,
        type=policy_resource.resource_type,
        outputs=plain(policy_resource.props or {}),
        dependencies=_urns(policy_resource.dependencies or ()),
        property_dependencies={
            str(key): _urns(deps)
            for key, deps in (policy_resource.property_dependencies or {}).items()
        },
        parent=parent.urn if parent is not None else None,
        protect=bool(getattr(opts, "protect", False)),
    )


def stack(policy_resources: Iterable[Any]) -> Stack:
    """The pack's view of the stack as the doctor's Stack."""
    adapted = [resource(r) for r in policy_resources]
    return Stack(resources={r.urn: r for r in adapted})


def violations(rule: Rule, policy_resources: Iterable[Any]) -> list[tuple[str, str, Finding]]:
    """What a stack policy reports for one rule: (message, URN, finding) per finding."""
    found = []
    for finding in rule(stack(policy_resources)):
        at_destroy = finding.at_destroy.rstrip(".")
        message = f"{finding.title}. At destroy: {at_destroy}. Fix: {finding.fix}"
        found.append((message, finding.urns[0], finding))
    return found


RULES: Sequence[Rule] = DESIGN_RULES
