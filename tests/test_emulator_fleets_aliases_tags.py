"""Fleets, aliases, queues and tags through unmodified boto3 (issue 10's wire operations)."""

from __future__ import annotations

from typing import Any

import pytest

from gamelift_emulator import EmulatorControl
from testkit.seeding import RULE_SET_BODY, seed_configuration


@pytest.fixture
def fleets(control: EmulatorControl) -> list[dict[str, str]]:
    """Three fleets, seeded through the control API in this order."""
    return [control.create_fleet(fleet_id=f"fleet-{i}") for i in range(3)]


def test_list_fleets_pages_through_every_fleet(gamelift: Any, fleets: list[dict[str, str]]) -> None:
    """ListFleets returns fleet IDs in pages that botocore's paginator follows to the end."""
    assert gamelift.list_fleets(Limit=5)["FleetIds"] == [f["fleet_id"] for f in fleets]
    pages = list(gamelift.get_paginator("list_fleets").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["FleetIds"]) for p in pages] == [2, 1]
    assert gamelift.list_fleets(BuildId="build-1")["FleetIds"] == []


def test_describe_fleet_attributes_by_id_arn_or_all(
    gamelift: Any, fleets: list[dict[str, str]]
) -> None:
    """DescribeFleetAttributes answers active fleets by ID or ARN, omitting unknown ones."""
    every = gamelift.describe_fleet_attributes()["FleetAttributes"]
    assert [a["FleetId"] for a in every] == [f["fleet_id"] for f in fleets]
    assert {a["Status"] for a in every} == {"ACTIVE"}
    chosen = gamelift.describe_fleet_attributes(FleetIds=[fleets[1]["fleet_arn"], "fleet-unknown"])[
        "FleetAttributes"
    ]
    assert [(a["FleetId"], a["FleetArn"]) for a in chosen] == [
        (fleets[1]["fleet_id"], fleets[1]["fleet_arn"])
    ]


def test_simple_alias_is_created_described_resolved_and_listed(
    gamelift: Any, fleets: list[dict[str, str]]
) -> None:
    """A SIMPLE alias resolves to its fleet; ListAliases filters by name and routing type."""
    alias = gamelift.create_alias(
        Name="arena",
        Description="live",
        RoutingStrategy={"Type": "SIMPLE", "FleetId": fleets[0]["fleet_id"]},
        Tags=[{"Key": "team", "Value": "core"}],
    )["Alias"]
    assert alias["AliasArn"].endswith(f":alias/{alias['AliasId']}")
    assert gamelift.describe_alias(AliasId=alias["AliasArn"])["Alias"] == alias
    resolved = gamelift.resolve_alias(AliasId=alias["AliasId"])
    assert (resolved["FleetId"], resolved["FleetArn"]) == (
        fleets[0]["fleet_id"],
        fleets[0]["fleet_arn"],
    )
    gamelift.create_alias(Name="closed", RoutingStrategy={"Type": "TERMINAL", "Message": "gone"})
    by_name = gamelift.list_aliases(Name="arena")["Aliases"]
    assert [a["AliasId"] for a in by_name] == [alias["AliasId"]]
    terminal = gamelift.list_aliases(RoutingStrategyType="TERMINAL")["Aliases"]
    assert [a["Name"] for a in terminal] == ["closed"]
    updated = gamelift.update_alias(
        AliasId=alias["AliasId"],
        RoutingStrategy={"Type": "SIMPLE", "FleetId": fleets[2]["fleet_id"]},
    )["Alias"]
    assert updated["RoutingStrategy"]["FleetId"] == fleets[2]["fleet_id"]
    gamelift.delete_alias(AliasId=alias["AliasId"])
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.describe_alias(AliasId=alias["AliasId"])


def test_terminal_alias_refuses_resolution_with_its_message(
    gamelift: Any, fleets: list[dict[str, str]]
) -> None:
    """Resolving a TERMINAL alias, or creating a session through it, fails with its message."""
    alias_id = gamelift.create_alias(
        Name="maintenance", RoutingStrategy={"Type": "TERMINAL", "Message": "back at noon"}
    )["Alias"]["AliasId"]
    with pytest.raises(gamelift.exceptions.TerminalRoutingStrategyException, match="back at noon"):
        gamelift.resolve_alias(AliasId=alias_id)
    with pytest.raises(gamelift.exceptions.TerminalRoutingStrategyException):
        gamelift.create_game_session(AliasId=alias_id, MaximumPlayerSessionCount=2)
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.create_alias(Name="x", RoutingStrategy={"Type": "SIMPLE", "FleetId": "fleet-no"})


def test_tags_given_at_creation_are_kept_and_can_be_changed(gamelift: Any) -> None:
    """Tags passed to Create* are listed; TagResource adds or overwrites, UntagResource drops."""
    tags = [{"Key": "env", "Value": "preview"}]
    rule_set = gamelift.create_matchmaking_rule_set(Name="r", RuleSetBody=RULE_SET_BODY, Tags=tags)
    queue = gamelift.create_game_session_queue(Name="q", Tags=tags)["GameSessionQueue"]
    configuration = gamelift.create_matchmaking_configuration(
        Name="c",
        RequestTimeoutSeconds=60,
        AcceptanceRequired=False,
        RuleSetName="r",
        GameSessionQueueArns=[queue["GameSessionQueueArn"]],
        Tags=tags,
    )["Configuration"]
    arns = [
        rule_set["RuleSet"]["RuleSetArn"],
        queue["GameSessionQueueArn"],
        configuration["ConfigurationArn"],
    ]
    for arn in arns:
        assert gamelift.list_tags_for_resource(ResourceARN=arn)["Tags"] == tags
    gamelift.tag_resource(
        ResourceARN=arns[0],
        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": "ops"}],
    )
    gamelift.untag_resource(ResourceARN=arns[0], TagKeys=["owner", "absent"])
    assert gamelift.list_tags_for_resource(ResourceARN=arns[0])["Tags"] == [
        {"Key": "env", "Value": "prod"}
    ]
    missing = arns[0].replace(":matchmakingruleset/r", ":matchmakingruleset/none")
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.list_tags_for_resource(ResourceARN=missing)


def test_too_many_tags_fail_naming_the_limit(gamelift: Any, fleets: list[dict[str, str]]) -> None:
    """A resource past 50 tags is refused with TaggingFailedException naming the limit."""
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    gamelift.tag_resource(ResourceARN=fleets[0]["fleet_arn"], Tags=tags)
    with pytest.raises(gamelift.exceptions.TaggingFailedException, match="at most 50"):
        gamelift.tag_resource(
            ResourceARN=fleets[0]["fleet_arn"], Tags=[{"Key": "one-more", "Value": "v"}]
        )


def test_update_game_session_queue_changes_only_what_is_given(gamelift: Any) -> None:
    """UpdateGameSessionQueue changes the given members and keeps the others."""
    seed_configuration(gamelift)
    before = gamelift.describe_game_session_queues(Names=["queue"])["GameSessionQueues"][0]
    updated = gamelift.update_game_session_queue(
        Name=before["GameSessionQueueArn"],
        TimeoutInSeconds=120,
        Destinations=[{"DestinationArn": "arn:aws:gamelift:us-east-1:123456789012:fleet/f-1"}],
    )["GameSessionQueue"]
    assert updated["TimeoutInSeconds"] == 120
    assert updated["Destinations"][0]["DestinationArn"].endswith("fleet/f-1")
    assert updated["Name"] == before["Name"]
    described = gamelift.describe_game_session_queues(Names=["queue"])["GameSessionQueues"]
    assert described == [updated]
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.update_game_session_queue(Name="no-such-queue", TimeoutInSeconds=5)
