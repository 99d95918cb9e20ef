"""The FlexMatch rule language: CreateMatchmakingRuleSet / ValidateMatchmakingRuleSet over boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gamelift_emulator.rulesets import RuleSetError, parse_rule_set
from testkit.seeding import RULE_SET_BODY

BASE: dict[str, Any] = json.loads(RULE_SET_BODY)


def body(**changes: Any) -> str:
    """The project's two-team rule set with top-level ``changes`` (None deletes a key)."""
    doc = {**BASE, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not None})


def with_rule(rule: dict[str, Any]) -> str:
    return body(rules=[rule])


INVALID = {
    "unknown rule type": (
        with_rule({"name": "r", "type": "telepathy", "measurements": ["1"]}),
        'rule r has unknown type "telepathy"',
    ),
    "bad version": (body(ruleLanguageVersion="9.9"), 'unsupported ruleLanguageVersion "9.9"'),
    "missing version": (body(ruleLanguageVersion=None), "ruleLanguageVersion is required"),
    "rule on an undeclared attribute": (
        with_rule(
            {
                "name": "r",
                "type": "comparison",
                "measurements": ["teams[*].players.attributes[rank]"],
                "referenceValue": 3,
                "operation": ">",
            }
        ),
        "attribute rank, which playerAttributes does not declare",
    ),
    "batch attribute undeclared": (
        with_rule({"name": "r", "type": "batchDistance", "batchAttribute": "mode"}),
        'batchAttribute "mode" is not declared',
    ),
    "no teams": (body(teams=[]), "teams is required"),
    "min above max": (
        body(teams=[{"name": "red", "minPlayers": 5, "maxPlayers": 4}]),
        "minPlayers 5 greater than maxPlayers 4",
    ),
    "unknown attribute type": (
        body(playerAttributes=[{"name": "skill", "type": "float"}]),
        'unknown type "float"',
    ),
    "default of the wrong type": (
        body(playerAttributes=[{"name": "skill", "type": "number", "default": "high"}]),
        "default of player attribute skill is not a number",
    ),
    "unknown function": (
        with_rule(
            {
                "name": "r",
                "type": "distance",
                "measurements": ["stddev(teams[*].players.attributes[skill])"],
                "referenceValue": 1,
                "maxDistance": 3,
            }
        ),
        "unknown function stddev",
    ),
    "expansion of an undeclared rule": (
        body(
            expansions=[
                {"target": "rules[Nope].maxDistance", "steps": [{"waitTimeSeconds": 5, "value": 1}]}
            ]
        ),
        "undeclared rule Nope",
    ),
    "comparison without operation": (
        with_rule(
            {
                "name": "r",
                "type": "comparison",
                "measurements": ["teams[red].players.attributes[skill]"],
            }
        ),
        "rule r: operation must be one of",
    ),
    "unknown top-level property": (body(lobby=True), "unknown properties lobby"),
    "not JSON": ("{nope", "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_rule_sets_are_rejected_with_the_reason(gamelift: Any, case: str) -> None:
    """Validate and Create both answer InvalidRequestException naming what is wrong."""
    rule_set, reason = INVALID[case]
    with pytest.raises(gamelift.exceptions.InvalidRequestException) as validated:
        gamelift.validate_matchmaking_rule_set(RuleSetBody=rule_set)
    assert reason in validated.value.response["Error"]["Message"]
    with pytest.raises(gamelift.exceptions.InvalidRequestException) as created:
        gamelift.create_matchmaking_rule_set(Name="bad", RuleSetBody=rule_set)
    assert reason in created.value.response["Error"]["Message"]
    assert gamelift.describe_matchmaking_rule_sets()["RuleSets"] == []


ALL_RULE_TYPES = {
    "name": "everything",
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [
        {"name": "skill", "type": "number", "default": 10},
        {"name": "mode", "type": "string", "default": "ranked"},
        {"name": "maps", "type": "string_list", "default": ["dust"]},
        {"name": "ping", "type": "string_number_map", "default": {"eu": 20}},
    ],
    "algorithm": {"strategy": "exhaustiveSearch", "expansionAgeSelection": "oldest"},
    "teams": [{"name": "squad", "minPlayers": 2, "maxPlayers": 3, "quantity": 2}],
    "rules": [
        {
            "name": "Skilled",
            "type": "comparison",
            "measurements": ["flatten(teams[*].players.attributes[skill])"],
            "referenceValue": 5,
            "operation": ">=",
        },
        {
            "name": "Fair",
            "type": "distance",
            "measurements": ["avg(teams[*].players.attributes[skill])"],
            "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))",
            "maxDistance": 10,
        },
        {
            "name": "SharedMap",
            "type": "collection",
            "measurements": ["flatten(teams[*].players.attributes[maps])"],
            "operation": "intersection",
            "minCount": 1,
        },
        {"name": "Close", "type": "latency", "maxLatency": 150},
        {"name": "SameMode", "type": "batchDistance", "batchAttribute": "mode"},
        {
            "name": "BySkill",
            "type": "absoluteSort",
            "sortDirection": "ascending",
            "sortAttribute": "skill",
        },
    ],
    "expansions": [
        {"target": "rules[Fair].maxDistance", "steps": [{"waitTimeSeconds": 10, "value": 50}]},
        {"target": "teams[squad].minPlayers", "steps": [{"waitTimeSeconds": 20, "value": 1}]},
    ],
}


def test_every_rule_type_is_accepted(gamelift: Any) -> None:
    """A body using all six rule types, quantity, algorithm and both expansion kinds is valid."""
    rule_set = json.dumps(ALL_RULE_TYPES)
    assert gamelift.validate_matchmaking_rule_set(RuleSetBody=rule_set)["Valid"] is True
    created = gamelift.create_matchmaking_rule_set(Name="all", RuleSetBody=rule_set)
    assert created["RuleSet"]["RuleSetBody"] == rule_set


def test_quantity_expands_teams_and_expansions_relax_them() -> None:
    """quantity 2 makes squad_1 and squad_2; after 20 s their minPlayers drops to 1."""
    parsed = parse_rule_set(json.dumps(ALL_RULE_TYPES))
    assert parsed.team_names == ("squad_1", "squad_2")
    assert [t.min_players for t in parsed.expanded(19.9).teams] == [2, 2]
    assert [t.min_players for t in parsed.expanded(20).teams] == [1, 1]
    fair = {r.name: r for r in parsed.expanded(10).rules}["Fair"]
    assert fair.properties["maxDistance"] == 50


def test_rule_set_error_is_a_value_error() -> None:
    """Callers that caught ValueError from the old parser still catch the new errors."""
    with pytest.raises(ValueError, match="Invalid rule set"):
        parse_rule_set("[]")
    assert issubclass(RuleSetError, ValueError)
