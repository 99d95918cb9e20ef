"""Game sessions and player sessions through unmodified boto3, on the emulator's clock."""

from __future__ import annotations

from typing import Any

import pytest

from gamelift_emulator import Emulator, EmulatorControl, ManualClock
from gamelift_emulator.exceptions import InvalidRequestException
from gamelift_emulator.session_search import parse_filter, parse_sort


@pytest.fixture
def fleet_id(control: EmulatorControl) -> str:
    return control.create_fleet(fleet_id="fleet-1")["fleet_id"]


def _session(gamelift: Any, fleet_id: str, **members: Any) -> dict[str, Any]:
    members.setdefault("MaximumPlayerSessionCount", 4)
    session: dict[str, Any] = gamelift.create_game_session(FleetId=fleet_id, **members)[
        "GameSession"
    ]
    return session


def test_sessions_are_active_at_once_by_default(gamelift: Any, fleet_id: str) -> None:
    """With the default settings a new session is ACTIVE and takes players right away."""
    session = _session(gamelift, fleet_id)
    assert session["Status"] == "ACTIVE"
    gamelift.create_player_session(GameSessionId=session["GameSessionId"], PlayerId="p1")


def test_activation_and_termination_follow_the_emulator_clock(
    manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Any
) -> None:
    """ACTIVATING turns ACTIVE, and TERMINATING turns TERMINATED, when their delays pass."""
    control = manual_emulator.control
    control.settings(session_activation_ms=2000, session_termination_ms=500)
    gamelift = make_gamelift(manual_emulator.endpoint_url)
    fleet = control.create_fleet()["fleet_id"]
    arn = _session(gamelift, fleet)["GameSessionId"]

    def status() -> str:
        found = gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"][0]
        return str(found["Status"])

    assert status() == "ACTIVATING"
    with pytest.raises(gamelift.exceptions.InvalidGameSessionStatusException):
        gamelift.create_player_session(GameSessionId=arn, PlayerId="early")
    manual_clock.advance(1.999)
    assert status() == "ACTIVATING"
    manual_clock.advance(0.001)
    assert status() == "ACTIVE"
    terminating = gamelift.terminate_game_session(
        GameSessionId=arn, TerminationMode="FORCE_TERMINATE"
    )["GameSession"]
    assert (terminating["Status"], terminating["StatusReason"]) == (
        "TERMINATING",
        "FORCE_TERMINATED",
    )
    manual_clock.advance(0.5)
    assert status() == "TERMINATED"
    with pytest.raises(gamelift.exceptions.InvalidGameSessionStatusException):
        gamelift.terminate_game_session(GameSessionId=arn, TerminationMode="FORCE_TERMINATE")


def test_player_sessions_fill_the_session_and_are_described(gamelift: Any, fleet_id: str) -> None:
    """Player sessions count against the maximum; DescribePlayerSessions finds them by key."""
    arn = _session(gamelift, fleet_id, MaximumPlayerSessionCount=3)["GameSessionId"]
    one = gamelift.create_player_session(GameSessionId=arn, PlayerId="p1", PlayerData="x")[
        "PlayerSession"
    ]
    two = gamelift.create_player_sessions(
        GameSessionId=arn, PlayerIds=["p2", "p3"], PlayerDataMap={"p3": "y"}
    )["PlayerSessions"]
    assert (one["Status"], one["PlayerData"], one["GameSessionId"]) == ("RESERVED", "x", arn)
    assert [p["PlayerId"] for p in two] == ["p2", "p3"]
    found = gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"][0]
    assert found["CurrentPlayerSessionCount"] == 3
    with pytest.raises(gamelift.exceptions.GameSessionFullException):
        gamelift.create_player_session(GameSessionId=arn, PlayerId="p4")
    by_session = gamelift.describe_player_sessions(GameSessionId=arn, Limit=2)
    assert [p["PlayerId"] for p in by_session["PlayerSessions"]] == ["p1", "p2"]
    rest = gamelift.describe_player_sessions(GameSessionId=arn, NextToken=by_session["NextToken"])
    assert [p["PlayerId"] for p in rest["PlayerSessions"]] == ["p3"]
    assert gamelift.describe_player_sessions(PlayerId="p3")["PlayerSessions"] == [two[1]]
    by_id = gamelift.describe_player_sessions(PlayerSessionId=one["PlayerSessionId"])
    assert by_id["PlayerSessions"] == [one]
    active = gamelift.describe_player_sessions(
        GameSessionId=arn, PlayerSessionStatusFilter="ACTIVE"
    )
    assert active["PlayerSessions"] == []
    with pytest.raises(gamelift.exceptions.InvalidRequestException, match="exactly one"):
        gamelift.describe_player_sessions(GameSessionId=arn, PlayerId="p1")


def test_update_game_session_and_details(gamelift: Any, fleet_id: str) -> None:
    """UpdateGameSession changes name, size, policies and properties; details show protection."""
    arn = _session(gamelift, fleet_id, Name="old", GameProperties=[{"Key": "mode", "Value": "a"}])[
        "GameSessionId"
    ]
    updated = gamelift.update_game_session(
        GameSessionId=arn,
        Name="new",
        MaximumPlayerSessionCount=8,
        PlayerSessionCreationPolicy="DENY_ALL",
        ProtectionPolicy="FullProtection",
        GameProperties=[{"Key": "map", "Value": "dune"}],
    )["GameSession"]
    assert (updated["Name"], updated["MaximumPlayerSessionCount"]) == ("new", 8)
    assert updated["PlayerSessionCreationPolicy"] == "DENY_ALL"
    assert updated["GameProperties"] == [
        {"Key": "mode", "Value": "a"},
        {"Key": "map", "Value": "dune"},
    ]
    with pytest.raises(gamelift.exceptions.InvalidGameSessionStatusException, match="DENY_ALL"):
        gamelift.create_player_session(GameSessionId=arn, PlayerId="p1")
    details = gamelift.describe_game_session_details(FleetId=fleet_id)["GameSessionDetails"]
    assert [(d["GameSession"]["GameSessionId"], d["ProtectionPolicy"]) for d in details] == [
        (arn, "FullProtection")
    ]
    one = gamelift.describe_game_session_details(GameSessionId=arn, StatusFilter="TERMINATED")
    assert one["GameSessionDetails"] == []


def test_search_filters_and_sorts_active_sessions(
    gamelift: Any, control: EmulatorControl, fleet_id: str
) -> None:
    """SearchGameSessions applies AWS's filter and sort expressions to ACTIVE sessions only."""
    made = {}
    for name, size, players, mode in (
        ("Matt's game", 4, 1, "brawl"),
        ("quiet", 2, 2, "duel"),
        ("big", 10, 3, "brawl"),
    ):
        session = _session(
            gamelift,
            fleet_id,
            Name=name,
            MaximumPlayerSessionCount=size,
            GameProperties=[{"Key": "gameMode", "Value": mode}],
        )
        if players:
            gamelift.create_player_sessions(
                GameSessionId=session["GameSessionId"], PlayerIds=[f"p{i}" for i in range(players)]
            )
        made[name] = session["GameSessionId"]
    ended = _session(gamelift, fleet_id, Name="ended")["GameSessionId"]
    control.terminate_game_session(ended)

    def names(**members: Any) -> list[str]:
        found = gamelift.search_game_sessions(FleetId=fleet_id, **members)["GameSessions"]
        return [s["Name"] for s in found]

    assert names() == ["Matt's game", "quiet", "big"]
    assert names(FilterExpression="gameSessionName = 'Matt\\'s game'") == ["Matt's game"]
    assert names(FilterExpression="hasAvailablePlayerSessions=true") == ["Matt's game", "big"]
    expression = "gameSessionProperties.gameMode = 'brawl' AND NOT (maximumSessions >= 10)"
    assert names(FilterExpression=expression) == ["Matt's game"]
    assert names(FilterExpression="playerSessionCount > 2 OR maximumSessions < 3") == [
        "quiet",
        "big",
    ]
    assert names(SortExpression="playerSessionCount DESC") == ["big", "quiet", "Matt's game"]
    assert names(SortExpression="maximumSessions ASC", Limit=2) == ["quiet", "Matt's game"]
    with pytest.raises(gamelift.exceptions.InvalidRequestException, match="position"):
        gamelift.search_game_sessions(FleetId=fleet_id, FilterExpression="maximumSessions = 'x'")


def test_filter_precedence_and_errors_follow_the_api_reference() -> None:
    """AND binds tighter than OR, NOT applies to one condition, and bad expressions name why."""
    session = {"maximumSessions": 4, "playerSessionCount": 4, "gameSessionName": "a"}
    assert parse_filter("maximumSessions = 1 OR maximumSessions = 4 AND playerSessionCount = 4")(
        session
    )
    assert not parse_filter("NOT maximumSessions = 4 AND playerSessionCount = 4")(session)
    assert parse_filter("gameSessionName <> 'b'")(session)
    assert parse_filter("creationTimeMillis <> 5")(session)  # absent operands differ
    for bad in ("maximumSessions =", "nope = 1", "(maximumSessions = 1", "gameSessionName < 'a'"):
        with pytest.raises(InvalidRequestException):
            parse_filter(bad)
    with pytest.raises(InvalidRequestException, match="ASC"):
        parse_sort("maximumSessions UP")
