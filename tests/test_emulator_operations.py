"""Every GameLift operation of the issue, and its errors, through unmodified boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emulator_helpers import PLAYERS

from gamelift_emulator import EmulatorControl
from testkit.seeding import RULE_SET_BODY, seed_configuration


def _code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    code: str = excinfo.value.response["Error"]["Code"]
    return code


def _session(control: EmulatorControl, gamelift: Any, **kwargs: Any) -> dict[str, Any]:
    fleet = control.create_fleet()
    seed_configuration(gamelift, name=kwargs.pop("configuration", "cfg"), **kwargs)
    return control.create_game_session(fleet["fleet_id"], "cfg", 2, 4)


def test_rule_sets_create_describe_delete(gamelift: Any) -> None:
    """Rule sets are created, described (unknown name: NotFound) and deleted."""
    created = gamelift.create_matchmaking_rule_set(Name="rs", RuleSetBody=RULE_SET_BODY)
    assert created["RuleSet"]["RuleSetName"] == "rs"
    described = gamelift.describe_matchmaking_rule_sets(Names=["rs"])["RuleSets"]
    assert [r["RuleSetArn"] for r in described] == [created["RuleSet"]["RuleSetArn"]]
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.describe_matchmaking_rule_sets(Names=["other"])
    gamelift.delete_matchmaking_rule_set(Name="rs")
    assert gamelift.describe_matchmaking_rule_sets()["RuleSets"] == []


def test_invalid_rule_set_body_is_rejected(gamelift: Any) -> None:
    """A rule set body that is not a rule set is an InvalidRequestException."""
    with pytest.raises(gamelift.exceptions.InvalidRequestException):
        gamelift.create_matchmaking_rule_set(Name="rs", RuleSetBody="{not json")


def test_configurations_crud_and_update(gamelift: Any) -> None:
    """Configurations are created, described, updated and deleted."""
    seed_configuration(gamelift, name="cfg")
    updated = gamelift.update_matchmaking_configuration(Name="cfg", RequestTimeoutSeconds=300)
    assert updated["Configuration"]["RequestTimeoutSeconds"] == 300
    described = gamelift.describe_matchmaking_configurations(Names=["cfg"])["Configurations"]
    assert described[0]["RequestTimeoutSeconds"] == 300
    gamelift.delete_matchmaking_configuration(Name="cfg")
    assert gamelift.describe_matchmaking_configurations()["Configurations"] == []


def test_configurations_paginate(gamelift: Any) -> None:
    """DescribeMatchmakingConfigurations pages with Limit/NextToken, and boto3's paginator."""
    for index in range(5):
        seed_configuration(gamelift, name=f"cfg-{index}")
    first = gamelift.describe_matchmaking_configurations(Limit=2)
    assert len(first["Configurations"]) == 2
    second = gamelift.describe_matchmaking_configurations(Limit=2, NextToken=first["NextToken"])
    assert second["Configurations"][0]["Name"] not in {c["Name"] for c in first["Configurations"]}
    paginator = gamelift.get_paginator("describe_matchmaking_configurations")
    names = [
        c["Name"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 2})
        for c in page["Configurations"]
    ]
    assert names == [f"cfg-{i}" for i in range(5)]


def test_with_queue_configuration_needs_existing_queue(gamelift: Any) -> None:
    """A WITH_QUEUE configuration naming a queue that does not exist is refused."""
    gamelift.create_matchmaking_rule_set(Name="rules", RuleSetBody=RULE_SET_BODY)
    arn = "arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/missing"
    with pytest.raises(gamelift.exceptions.ClientError) as excinfo:
        gamelift.create_matchmaking_configuration(
            Name="cfg",
            RequestTimeoutSeconds=60,
            AcceptanceRequired=False,
            RuleSetName="rules",
            GameSessionQueueArns=[arn],
            FlexMatchMode="WITH_QUEUE",
        )
    assert _code(excinfo) in {"NotFoundException", "InvalidRequestException"}


def test_queues_create_describe_delete(gamelift: Any) -> None:
    """Game session queues are created, described and deleted."""
    queue = gamelift.create_game_session_queue(Name="q1")["GameSessionQueue"]
    assert queue["GameSessionQueueArn"].endswith("gamesessionqueue/q1")
    names = [q["Name"] for q in gamelift.describe_game_session_queues()["GameSessionQueues"]]
    assert names == ["q1"]
    gamelift.delete_game_session_queue(Name="q1")
    assert gamelift.describe_game_session_queues()["GameSessionQueues"] == []


def test_start_and_stop_matchmaking(gamelift: Any, control: EmulatorControl) -> None:
    """StopMatchmaking answers 200 {} and the ticket ends CANCELLED."""
    control.settings(stop_delay_ms=0)
    seed_configuration(gamelift)
    ticket = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]
    answer = gamelift.stop_matchmaking(TicketId=ticket["TicketId"])
    assert {k: v for k, v in answer.items() if k != "ResponseMetadata"} == {}
    (described,) = gamelift.describe_matchmaking(TicketIds=[ticket["TicketId"]])["TicketList"]
    assert described["Status"] == "CANCELLED"


def test_stop_unknown_ticket_is_not_found(gamelift: Any) -> None:
    """StopMatchmaking of an unknown ticket is a NotFoundException."""
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.stop_matchmaking(TicketId="no-such-ticket")


def test_stop_final_ticket_is_invalid_request(gamelift: Any, control: EmulatorControl) -> None:
    """StopMatchmaking of a ticket already in a final state is an InvalidRequestException."""
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    control.set_ticket_status(ticket_id, "COMPLETED")
    with pytest.raises(gamelift.exceptions.InvalidRequestException):
        gamelift.stop_matchmaking(TicketId=ticket_id)


def test_stop_placing_ticket_fails_with_aws_message(
    gamelift: Any, control: EmulatorControl
) -> None:
    """A PLACING ticket cannot be cancelled, with AWS's exact message."""
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    control.set_ticket_status(ticket_id, "PLACING")
    with pytest.raises(gamelift.exceptions.InvalidRequestException) as excinfo:
        gamelift.stop_matchmaking(TicketId=ticket_id)
    assert excinfo.value.response["Error"]["Message"] == (
        "Matchmaking ticket is in PLACING status and cannot be canceled."
    )


def test_requires_acceptance_ticket_can_be_cancelled(
    gamelift: Any, control: EmulatorControl
) -> None:
    """A ticket in REQUIRES_ACCEPTANCE is cancelled by StopMatchmaking."""
    control.settings(stop_delay_ms=0)
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    control.set_ticket_status(ticket_id, "REQUIRES_ACCEPTANCE")
    gamelift.stop_matchmaking(TicketId=ticket_id)
    (ticket,) = gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
    assert ticket["Status"] == "CANCELLED"


def test_describe_matchmaking_limits_and_unknown_ids(gamelift: Any) -> None:
    """More than 10 IDs is refused; unknown IDs are simply absent; Players come back."""
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    with pytest.raises(gamelift.exceptions.InvalidRequestException):
        gamelift.describe_matchmaking(TicketIds=[f"t{i}" for i in range(11)])
    tickets = gamelift.describe_matchmaking(TicketIds=[ticket_id, "unknown"])["TicketList"]
    assert [t["TicketId"] for t in tickets] == [ticket_id]
    assert tickets[0]["Players"][0]["PlayerId"] == "player-1"
    assert tickets[0]["Players"][0]["PlayerAttributes"] == {"skill": {"N": 12.0}}


def test_delete_configuration_blocked_by_active_ticket(
    gamelift: Any, control: EmulatorControl
) -> None:
    """DeleteMatchmakingConfiguration fails while a ticket of it is active, then succeeds."""
    control.settings(stop_delay_ms=0)
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    with pytest.raises(gamelift.exceptions.InvalidRequestException):
        gamelift.delete_matchmaking_configuration(Name="cfg")
    gamelift.stop_matchmaking(TicketId=ticket_id)
    gamelift.delete_matchmaking_configuration(Name="cfg")


def test_seeded_session_carries_matchmaker_data(gamelift: Any, control: EmulatorControl) -> None:
    """A matchmade session has MatchmakerData as AWS writes it, with typed attributes."""
    session = _session(control, gamelift, backfill_mode="AUTOMATIC")
    data = json.loads(session["MatchmakerData"])
    assert set(data) >= {"matchId", "matchmakingConfigurationArn", "teams", "autoBackfillMode"}
    assert data["autoBackfillTicketId"] == session["auto_backfill_ticket_id"]
    players = [p for team in data["teams"] for p in team["players"]]
    assert len(players) == 2
    assert players[0]["attributes"]["skill"]["attributeType"] == "DOUBLE"


def test_start_match_backfill_replaces_previous(gamelift: Any, control: EmulatorControl) -> None:
    """A new backfill for a session cancels the previous active one."""
    session = _session(control, gamelift)
    arn = session["GameSessionId"]
    first = gamelift.start_match_backfill(
        ConfigurationName="cfg", GameSessionArn=arn, Players=PLAYERS
    )["MatchmakingTicket"]["TicketId"]
    second = gamelift.start_match_backfill(
        ConfigurationName="cfg", GameSessionArn=arn, Players=PLAYERS
    )["MatchmakingTicket"]["TicketId"]
    statuses = {
        t["TicketId"]: t["Status"]
        for t in gamelift.describe_matchmaking(TicketIds=[first, second])["TicketList"]
    }
    assert statuses[first] == "CANCELLED"
    assert statuses[second] in {"QUEUED", "SEARCHING"}


def test_game_sessions_create_describe_filter_paginate(
    gamelift: Any, control: EmulatorControl
) -> None:
    """DescribeGameSessions by fleet or ID, with StatusFilter and Limit/NextToken."""
    fleet_id = control.create_fleet()["fleet_id"]
    arns = [
        gamelift.create_game_session(FleetId=fleet_id, MaximumPlayerSessionCount=4)["GameSession"][
            "GameSessionId"
        ]
        for _ in range(5)
    ]
    control.terminate_game_session(arns[0])
    page = gamelift.describe_game_sessions(FleetId=fleet_id, Limit=2)
    assert len(page["GameSessions"]) == 2
    rest = gamelift.describe_game_sessions(FleetId=fleet_id, NextToken=page["NextToken"])
    assert len(rest["GameSessions"]) == 3
    active = gamelift.describe_game_sessions(FleetId=fleet_id, StatusFilter="ACTIVE")
    assert {s["GameSessionId"] for s in active["GameSessions"]} == set(arns[1:])
    (one,) = gamelift.describe_game_sessions(GameSessionId=arns[2])["GameSessions"]
    assert one["FleetId"] == fleet_id
    paginator = gamelift.get_paginator("describe_game_sessions")
    seen = [
        s["GameSessionId"]
        for p in paginator.paginate(FleetId=fleet_id, PaginationConfig={"PageSize": 2})
        for s in p["GameSessions"]
    ]
    assert seen == arns


def test_describe_game_sessions_unknown_fleet_is_not_found(gamelift: Any) -> None:
    """DescribeGameSessions of an unknown fleet is a NotFoundException."""
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.describe_game_sessions(FleetId="fleet-00000000-0000-0000-0000-000000000000")
