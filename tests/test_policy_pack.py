"""The policy pack (policy/) runs the doctor's rules 1-3, through its adapter, on the same
fixtures; its end-to-end run through the Pulumi CLI is skipped where `pulumi` is not on PATH."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
from doctor_helpers import load, resource
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from gamelift_backfill.doctor import from_policy, rules
from gamelift_backfill.doctor.model import Stack, Unknown
from gamelift_backfill.doctor.state import parse_export

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "policy"


def _plain_props(value: Any) -> Any:
    """A doctor value back in the engine's form (Unknown -> the unknown sentinel)."""
    if isinstance(value, Unknown):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: _plain_props(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_props(v) for v in value]
    return value


def policy_resources(stack: Stack) -> list[PolicyResource]:
    """The stack as pulumi-policy hands it to a stack policy (props behind its unknown proxy)."""
    made: dict[str, PolicyResource] = {}
    for r in stack.resources.values():
        options = PolicyResourceOptions(
            r.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], r.parent
        )
        props = unknown_checking_proxy(_plain_props({**r.inputs, **r.outputs}))
        made[r.urn] = PolicyResource(r.type, props, r.urn, r.name, options, None, None, [], {})
    for r in stack.resources.values():
        made[r.urn].dependencies = [made[u] for u in r.dependencies if u in made]
        made[r.urn].property_dependencies = {
            key: [made[u] for u in urns if u in made]
            for key, urns in r.property_dependencies.items()
        }
        made[r.urn].parent = made.get(r.parent or "")
    return list(made.values())


@pytest.mark.parametrize(
    "name",
    ["clean", "unguarded_configuration", "missing_dependency", "pending_operations", "encrypted"],
)
def test_the_pack_finds_what_the_doctor_finds_with_rules_1_to_3(name: str) -> None:
    """On the same fixture, the pack's violations are the doctor's rule 1-3 findings."""
    stack = load(name)
    doctor = [f for rule in rules.DESIGN_RULES for f in rule(stack)]
    pack = [
        v
        for rule in from_policy.RULES
        for v in from_policy.violations(rule, policy_resources(stack))
    ]
    assert [(f.rule, f.urns) for _, _, f in pack] == [(f.rule, f.urns) for f in doctor]
    assert [urn for _, urn, _ in pack] == [f.urns[0] for f in doctor]


def test_the_pack_sees_protect_but_not_retain_on_delete() -> None:
    """pulumi-policy exposes `protect` only: the pack flags the protected ticket, the doctor
    (reading the state) also the guard's retainOnDelete."""
    stack = load("delete_skipped")
    pack = from_policy.violations(rules.skipped_deletes, policy_resources(stack))
    assert [f.details["option"] for _, _, f in pack] == ["protect"]
    assert {f.details["option"] for f in rules.skipped_deletes(stack)} == {
        "protect",
        "retain_on_delete",
    }


def test_a_first_preview_with_an_unknown_configuration_is_flagged() -> None:
    """Before the stack exists the configuration's state is unknown: that is a trigger."""
    config = resource(
        "aws:cloudcontrol/resource:Resource",
        "cfg",
        inputs={
            "typeName": "AWS::GameLift::MatchmakingConfiguration",
            "desiredState": UNKNOWN_STRING_VALUE,
        },
    )
    stack = parse_export(json.dumps({"version": 3, "deployment": {"resources": [config]}}).encode())
    (violation,) = from_policy.violations(rules.unguarded_configurations, policy_resources(stack))
    message, urn, finding = violation
    assert urn == config["urn"]
    assert "cannot be known" in message
    assert finding.details["backfill_mode"] is None


def test_unknown_values_read_through_the_proxy_become_unknown() -> None:
    """A value pulumi-policy refuses to read during preview is Unknown, never an exception."""
    props = unknown_checking_proxy({"a": UNKNOWN_STRING_VALUE, "b": [1, UNKNOWN_STRING_VALUE]})
    plain = from_policy.plain(props)
    assert isinstance(plain["a"], Unknown)
    assert plain["b"][0] == 1
    assert isinstance(plain["b"][1], Unknown)


def test_the_pack_module_wires_each_rule_as_a_mandatory_stack_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """policy/__main__.py declares the three rules; each reports the doctor's findings."""
    declared: dict[str, Any] = {}

    def capture(**kwargs: Any) -> None:
        declared.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", capture)  # constructing one would serve
    runpy.run_path(str(PACK / "__main__.py"), run_name="__main__")
    assert declared["name"] == "gamelift-backfill"
    assert declared["enforcement_level"] == pulumi_policy.EnforcementLevel.MANDATORY
    policies = {p.name: p for p in declared["policies"]}
    assert sorted(policies) == ["delete-skipped", "missing-dependency", "unguarded-configuration"]
    reported: list[tuple[str, str | None]] = []
    args = pulumi_policy.StackValidationArgs(policy_resources(load("unguarded_configuration")))
    for policy in policies.values():
        policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    assert len(reported) == 1
    assert reported[0][1] == load("unguarded_configuration").of_kind("configuration")[0].urn


# The pack under the real Pulumi engine (`pulumi preview --policy-pack`): test_e2e_policy.py.
