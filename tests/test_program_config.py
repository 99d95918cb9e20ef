"""Stack config parsing (program_config.parse): typed values, defaults, one error per bad key."""

from __future__ import annotations

import json

import pytest

from program_config import DEFAULT_RULE_SET, ConfigError, ProgramConfig, parse

FLEETS = json.dumps(["fleet-1a2b"])


def test_minimal_config_is_one_fleet_with_defaults() -> None:
    """Only `fleetIds` is required for guard-only mode; everything else has a default."""
    assert parse({"fleetIds": FLEETS}) == ProgramConfig(fleet_ids=("fleet-1a2b",))


def test_values_arrive_typed() -> None:
    """Strings from Pulumi become lists, ints and bools of the right type."""
    config = parse(
        {
            "fleetIds": json.dumps(
                ["fleet-1", "alias-2", "arn:aws:gamelift:us-east-1:1:fleet/fleet-3"]
            ),
            "region": "eu-west-1",
            "endpointUrl": "http://localhost:4566",
            "configurationName": "preview.7",
            "ticketIds": json.dumps(["t-1"]),
            "backfillGameSessions": json.dumps(
                ["arn:aws:gamelift:eu-west-1::gamesession/fleet-1/gs-1"]
            ),
            "stopTimeoutSeconds": "90",
            "manageInfrastructure": "false",
        }
    )

    assert config.fleet_ids == ("fleet-1", "alias-2", "arn:aws:gamelift:us-east-1:1:fleet/fleet-3")
    assert config.region == "eu-west-1"
    assert config.endpoint_url == "http://localhost:4566"
    assert config.ticket_ids == ("t-1",)
    assert config.backfill_game_sessions == (
        "arn:aws:gamelift:eu-west-1::gamesession/fleet-1/gs-1",
    )
    assert config.stop_timeout_seconds == 90
    assert config.manage_infrastructure is False


def test_region_falls_back_to_aws_region() -> None:
    """Without `region`, the stack's `aws:region` is used; `region` wins when both are set."""
    assert parse({"fleetIds": FLEETS}, aws_region="ap-south-1").region == "ap-south-1"
    assert parse({"fleetIds": FLEETS, "region": "us-east-2"}, aws_region="ap-south-1").region == (
        "us-east-2"
    )


def test_managed_mode_defaults_to_the_shipped_two_team_rule_set() -> None:
    """Managed mode without `ruleSetBody` uses rulesets/two_teams.json, minified."""
    config = parse(
        {"fleetIds": FLEETS, "configurationName": "env-1", "manageInfrastructure": "true"}
    )

    assert config.rule_set_body is not None
    assert json.loads(config.rule_set_body) == json.loads(DEFAULT_RULE_SET.read_text())


def test_rule_set_body_may_be_json_text_or_an_object() -> None:
    """`ruleSetBody` set as a YAML object or as a JSON string gives the same rule set."""
    rules = {
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "a", "maxPlayers": 2, "minPlayers": 1}],
    }
    base = {"fleetIds": FLEETS, "configurationName": "env-1", "manageInfrastructure": "true"}

    as_object = parse({**base, "ruleSetBody": json.dumps(rules)})
    as_text = parse({**base, "ruleSetBody": json.dumps(json.dumps(rules))})

    assert as_object.rule_set_body == as_text.rule_set_body
    assert as_object.rule_set_body is not None
    assert json.loads(as_object.rule_set_body) == rules


@pytest.mark.parametrize(
    ("raw", "key", "fragment"),
    [
        ({"fleetIds": "[]"}, "fleetIds", "required"),
        ({"fleetIds": "fleet-1"}, "fleetIds", "must be a list"),
        ({"fleetIds": json.dumps(["fleet-1", 2])}, "fleetIds", "must be a list"),
        ({"fleetIds": json.dumps(["my fleet"])}, "fleetIds", "'my fleet'"),
        ({"fleetIds": json.dumps(["fleet-1", "fleet-1"])}, "fleetIds", "listed twice"),
        ({"region": "Europe"}, "region", "'Europe'"),
        ({"endpointUrl": "http://10.0.0.5:8080"}, "endpointUrl", "loopback"),
        ({"endpointUrl": "ftp://localhost"}, "endpointUrl", "https"),
        ({"configurationName": "has space"}, "configurationName", "'has space'"),
        ({"ticketIds": json.dumps(["bad/id"])}, "ticketIds", "'bad/id'"),
        ({"backfillGameSessions": json.dumps(["gsess-1"])}, "backfillGameSessions", "ARN"),
        ({"stopTimeoutSeconds": "0"}, "stopTimeoutSeconds", "between 1"),
        ({"stopTimeoutSeconds": "1.5"}, "stopTimeoutSeconds", "whole number"),
        ({"stopTimeoutSeconds": "true"}, "stopTimeoutSeconds", "whole number"),
        ({"manageInfrastructure": "yes"}, "manageInfrastructure", "true or false"),
        ({"queueDestinations": json.dumps([])}, "queueDestinations", "manageInfrastructure"),
        ({"ruleSetBody": "{}"}, "ruleSetBody", "manageInfrastructure"),
    ],
)
def test_bad_value_names_its_key(raw: dict[str, str], key: str, fragment: str) -> None:
    """Each bad value raises one ConfigError whose message names the namespaced key."""
    with pytest.raises(ConfigError) as raised:
        parse({"fleetIds": FLEETS, **raw})

    assert raised.value.key == key
    assert f"gamelift-backfill:{key}" in str(raised.value)
    assert fragment in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "key", "fragment"),
    [
        ({}, "configurationName", "required to create it"),
        (
            {"configurationName": "arn:aws:gamelift:us-east-1:1:matchmakingconfiguration/c"},
            "configurationName",
            "not an ARN",
        ),
        (
            {"configurationName": "c", "fleetIds": json.dumps(["alias-1"])},
            "fleetIds",
            "not a fleet ID",
        ),
        (
            {"configurationName": "c", "queueDestinations": json.dumps(["fleet-1"])},
            "queueDestinations",
            "ARNs",
        ),
        ({"configurationName": "c", "ruleSetBody": "{not json"}, "ruleSetBody", "not valid JSON"),
        (
            {"configurationName": "c", "ruleSetBody": json.dumps({"rules": []})},
            "ruleSetBody",
            "teams",
        ),
    ],
)
def test_bad_managed_value_names_its_key(raw: dict[str, str], key: str, fragment: str) -> None:
    """Managed mode's extra requirements fail with the key named."""
    with pytest.raises(ConfigError) as raised:
        parse({"fleetIds": FLEETS, "manageInfrastructure": "true", **raw})

    assert raised.value.key == key
    assert fragment in str(raised.value)


def test_backfill_sessions_need_a_configuration() -> None:
    """Starting backfills needs `configurationName` even without managed infrastructure."""
    sessions = json.dumps(["arn:aws:gamelift:us-east-1::gamesession/fleet-1/gs-1"])
    with pytest.raises(ConfigError, match="configurationName: required to start the backfills"):
        parse({"fleetIds": FLEETS, "backfillGameSessions": sessions})
