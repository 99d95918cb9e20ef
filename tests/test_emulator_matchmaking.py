"""Real matchmaking over boto3: matches, acceptance, placement, timeouts, backfill, events.

Every test runs on the emulator's ManualClock: time moves only by ``clock.advance``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from emulator_helpers import EventReceiver

from gamelift_emulator import (
    Emulator,
    EmulatorControl,
    EmulatorControlError,
    EmulatorSettings,
    ManualClock,
)

REGION = "us-east-1"
DUEL = {
    "name": "duel",
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
    "teams": [
        {"name": "red", "minPlayers": 1, "maxPlayers": 1},
        {"name": "blue", "minPlayers": 1, "maxPlayers": 1},
    ],
    "rules": [
        {
            "name": "CloseSkill",
            "type": "batchDistance",
            "batchAttribute": "skill",
            "maxDistance": 5,
        }
    ],
    "expansions": [
        {
            "target": "rules[CloseSkill].maxDistance",
            "steps": [{"waitTimeSeconds": 10, "value": 100}],
        }
    ],
}
FOUR_V_FOUR = {
    "name": "4v4",
    "ruleLanguageVersion": "1.0",
    "playerAttributes": [{"name": "skill", "type": "number", "default": 10}],
    "teams": [
        {"name": "red", "minPlayers": 4, "maxPlayers": 4},
        {"name": "blue", "minPlayers": 4, "maxPlayers": 4},
    ],
}
# Two a side to start a match, up to four a side: matched sessions have room to backfill.
GROWING = {
    **FOUR_V_FOUR,
    "name": "growing",
    "teams": [
        {"name": "red", "minPlayers": 1, "maxPlayers": 2},
        {"name": "blue", "minPlayers": 1, "maxPlayers": 2},
    ],
}


@dataclass
class World:
    """A ManualClock emulator with a fleet and a queue routing to it."""

    gamelift: Any
    control: EmulatorControl
    clock: ManualClock
    queue_arn: str
    fleet_id: str

    def configuration(
        self,
        rules: dict[str, Any],
        name: str = "cfg",
        *,
        mode: str = "WITH_QUEUE",
        acceptance: bool = False,
        backfill: str = "MANUAL",
        timeout: int = 120,
        queue_arn: str | None = None,
    ) -> str:
        self.gamelift.create_matchmaking_rule_set(Name=name, RuleSetBody=json.dumps(rules))
        extra: dict[str, Any] = {}
        if mode == "WITH_QUEUE":
            extra["GameSessionQueueArns"] = [queue_arn or self.queue_arn]
            extra["BackfillMode"] = backfill
        if acceptance:
            extra["AcceptanceTimeoutSeconds"] = 30
        self.gamelift.create_matchmaking_configuration(
            Name=name,
            RequestTimeoutSeconds=timeout,
            AcceptanceRequired=acceptance,
            RuleSetName=name,
            FlexMatchMode=mode,
            **extra,
        )
        return name

    def start(self, ticket_id: str, *players: tuple[str, float], cfg: str = "cfg") -> None:
        self.gamelift.start_matchmaking(
            TicketId=ticket_id,
            ConfigurationName=cfg,
            Players=[
                {"PlayerId": p, "PlayerAttributes": {"skill": {"N": skill}}} for p, skill in players
            ],
        )

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        (found,) = self.gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
        return dict(found)

    def status(self, *ticket_ids: str) -> list[str]:
        return [self.ticket(t)["Status"] for t in ticket_ids]

    def event_types(self, configuration: str = "cfg") -> list[str]:
        return [e["detail"]["type"] for e in self.control.events(configuration=configuration)]


def make_world(emulator: Emulator, make_gamelift: Callable[..., Any], clock: ManualClock) -> World:
    gamelift = make_gamelift(emulator.endpoint_url)
    fleet = emulator.control.create_fleet(fleet_id="fleet-1")
    queue = gamelift.create_game_session_queue(
        Name="queue", Destinations=[{"DestinationArn": fleet["fleet_arn"]}]
    )["GameSessionQueue"]
    return World(gamelift, emulator.control, clock, queue["GameSessionQueueArn"], "fleet-1")


@pytest.fixture
def world(
    manual_emulator: Emulator, make_gamelift: Callable[..., Any], manual_clock: ManualClock
) -> World:
    """A fresh ManualClock emulator with fleet-1 behind the queue ``queue``."""
    return make_world(manual_emulator, make_gamelift, manual_clock)


# ----------------------------------------------------------------- matches


def test_two_compatible_players_match_within_a_second_standalone(world: World) -> None:
    """1v1 STANDALONE: QUEUED, SEARCHING, then COMPLETED within 1 s, with no placement."""
    world.configuration(DUEL, mode="STANDALONE")
    world.start("a", ("alice", 10))
    assert world.status("a") == ["QUEUED"]
    world.clock.advance(0.1)
    assert world.status("a") == ["SEARCHING"]
    world.start("b", ("bob", 12))
    world.clock.advance(1.0)
    assert world.status("a", "b") == ["COMPLETED", "COMPLETED"]
    assert "GameSessionConnectionInfo" not in world.ticket("a")
    assert world.event_types() == [
        "MatchmakingSearching",
        "MatchmakingSearching",
        "PotentialMatchCreated",
        "MatchmakingSucceeded",
    ]


def test_eight_players_on_4v4_are_placed_on_a_fleet_of_the_queue(world: World) -> None:
    """WITH_QUEUE: PLACING, then COMPLETED with the game session's connection info."""
    world.configuration(FOUR_V_FOUR)
    for i in range(8):
        world.start(f"t{i}", (f"p{i}", 10))
    world.clock.advance(0.6)
    assert set(world.status(*[f"t{i}" for i in range(8)])) == {"PLACING"}
    with pytest.raises(world.gamelift.exceptions.InvalidRequestException) as refused:
        world.gamelift.stop_matchmaking(TicketId="t0")
    assert refused.value.response["Error"]["Message"] == (
        "Matchmaking ticket is in PLACING status and cannot be canceled."
    )
    world.clock.advance(0.3)
    ticket = world.ticket("t3")
    assert ticket["Status"] == "COMPLETED"
    info = ticket["GameSessionConnectionInfo"]
    (session,) = world.gamelift.describe_game_sessions(FleetId=world.fleet_id)["GameSessions"]
    assert info["GameSessionArn"] == session["GameSessionId"]
    assert (info["IpAddress"], info["Port"]) == (session["IpAddress"], session["Port"])
    assert [m["PlayerId"] for m in info["MatchedPlayerSessions"]] == ["p3"]
    assert info["MatchedPlayerSessions"][0]["PlayerSessionId"].startswith("psess-")
    assert session["CurrentPlayerSessionCount"] == 8
    reserved = world.gamelift.describe_player_sessions(GameSessionId=session["GameSessionId"])
    by_player = {p["PlayerId"]: p["PlayerSessionId"] for p in reserved["PlayerSessions"]}
    assert by_player["p3"] == info["MatchedPlayerSessions"][0]["PlayerSessionId"]
    assert len(by_player) == 8
    data = json.loads(session["MatchmakerData"])
    assert sorted(len(team["players"]) for team in data["teams"]) == [4, 4]
    succeeded = world.control.events(configuration="cfg")[-1]
    assert succeeded["detail"]["type"] == "MatchmakingSucceeded"
    assert succeeded["detail"]["gameSessionInfo"]["gameSessionArn"] == session["GameSessionId"]


def test_seven_players_on_4v4_wait_then_time_out(world: World) -> None:
    """Too few players: SEARCHING until RequestTimeoutSeconds, then TIMED_OUT with its event."""
    world.configuration(FOUR_V_FOUR, timeout=30)
    for i in range(7):
        world.start(f"t{i}", (f"p{i}", 10))
    world.clock.advance(29)
    assert set(world.status(*[f"t{i}" for i in range(7)])) == {"SEARCHING"}
    world.clock.advance(1)
    assert world.ticket("t0")["Status"] == "TIMED_OUT"
    assert world.ticket("t0")["StatusReason"] == "TIMED_OUT"
    timed_out = [
        e
        for e in world.control.events(configuration="cfg")
        if e["detail"]["type"] == "MatchmakingTimedOut"
    ]
    assert len(timed_out) == 7
    assert timed_out[0]["detail"]["reason"] == "TimedOut"


def test_expansion_relaxes_the_rule_after_its_wait(world: World) -> None:
    """Skills 10 and 40 are too far apart at first; the 10 s expansion lets them match."""
    world.configuration(DUEL, mode="STANDALONE")
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 40))
    world.clock.advance(9.5)
    assert world.status("a", "b") == ["SEARCHING", "SEARCHING"]
    world.clock.advance(1.0)
    assert world.status("a", "b") == ["COMPLETED", "COMPLETED"]


def test_placement_fails_when_no_fleet_can_host(world: World) -> None:
    """A queue without a reachable fleet: PLACING, then FAILED with MatchmakingFailed."""
    empty = world.gamelift.create_game_session_queue(Name="empty")["GameSessionQueue"]
    world.configuration(DUEL, queue_arn=empty["GameSessionQueueArn"])
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 10))
    world.clock.advance(1.0)
    assert world.status("a", "b") == ["FAILED", "FAILED"]
    assert world.event_types()[-1] == "MatchmakingFailed"


def test_a_queue_deleted_under_its_configuration_fails_the_placement(world: World) -> None:
    """DeleteGameSessionQueue while a configuration uses it goes through; a match then FAILS."""
    world.configuration(DUEL)
    world.gamelift.delete_game_session_queue(Name="queue")
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 10))
    world.clock.advance(1.0)
    assert world.status("a", "b") == ["FAILED", "FAILED"]
    failed = world.control.events()[-1]["detail"]
    assert (failed["type"], failed["reason"]) == ("MatchmakingFailed", "UNEXPECTED_ERROR")


def test_at_most_ten_players_per_request(world: World) -> None:
    """StartMatchmaking with 11 players is refused, naming the limit."""
    world.configuration(FOUR_V_FOUR)
    with pytest.raises(world.gamelift.exceptions.InvalidRequestException, match="at most 10"):
        world.start("big", *[(f"p{i}", 10) for i in range(11)])


def test_a_player_in_a_newer_ticket_cancels_the_older_one(world: World) -> None:
    """The older ticket holding the same player is CANCELLED when the newer one starts."""
    world.configuration(FOUR_V_FOUR)
    world.start("old", ("alice", 10), ("bob", 10))
    world.start("new", ("alice", 10))
    assert world.status("old", "new") == ["CANCELLED", "QUEUED"]
    assert "newer matchmaking request" in world.ticket("old")["StatusMessage"]
    (cancelled,) = [
        e["detail"] for e in world.control.events() if e["detail"]["type"] == "MatchmakingCancelled"
    ]
    assert cancelled["reason"] == "Cancelled"
    assert [t["ticketId"] for t in cancelled["tickets"]] == ["old"]


def test_same_seed_same_matches_and_events(
    make_emulator: Callable[..., Emulator], make_gamelift: Callable[..., Any]
) -> None:
    """Two emulators with seed 7 fed the same calls record identical events (IDs included)."""
    runs = []
    for _ in range(2):
        clock = ManualClock(1_700_000_000.0)
        emulator = make_emulator(region=REGION, clock=clock, settings=EmulatorSettings(seed=7))
        world = make_world(emulator, make_gamelift, clock)
        world.configuration(FOUR_V_FOUR)
        for i in range(8):
            world.start(f"t{i}", (f"p{i}", 10 + i))
        clock.advance(2)
        runs.append(world.control.events())
    assert runs[0] == runs[1]
    assert runs[0][-1]["detail"]["type"] == "MatchmakingSucceeded"


# -------------------------------------------------------------- acceptance


def test_acceptance_all_accept_then_placing(world: World) -> None:
    """REQUIRES_ACCEPTANCE until every player accepts; then PLACING and COMPLETED."""
    world.configuration(DUEL, acceptance=True)
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 10))
    world.clock.advance(1.0)
    assert world.status("a", "b") == ["REQUIRES_ACCEPTANCE"] * 2
    world.gamelift.accept_match(TicketId="a", PlayerIds=["alice"], AcceptanceType="ACCEPT")
    assert world.status("a", "b") == ["REQUIRES_ACCEPTANCE"] * 2
    world.gamelift.accept_match(TicketId="b", PlayerIds=["bob"], AcceptanceType="ACCEPT")
    assert world.status("a", "b") == ["PLACING", "PLACING"]
    world.clock.advance(0.3)
    assert world.status("a", "b") == ["COMPLETED", "COMPLETED"]
    assert world.event_types()[2:] == [
        "PotentialMatchCreated",
        "AcceptMatch",
        "AcceptMatch",
        "AcceptMatchCompleted",
        "MatchmakingSucceeded",
    ]


def test_a_rejection_cancels_the_rejecting_ticket_and_returns_the_other(world: World) -> None:
    """REJECT: the rejecting ticket is CANCELLED, the other goes back to SEARCHING."""
    world.configuration(DUEL, acceptance=True)
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 10))
    world.clock.advance(1.0)
    world.gamelift.accept_match(TicketId="a", PlayerIds=["alice"], AcceptanceType="ACCEPT")
    world.gamelift.accept_match(TicketId="b", PlayerIds=["bob"], AcceptanceType="REJECT")
    assert world.status("a", "b") == ["SEARCHING", "CANCELLED"]
    completed = [e for e in world.control.events() if e["detail"]["type"] == "AcceptMatchCompleted"]
    assert completed[-1]["detail"]["acceptance"] == "Rejected"
    with pytest.raises(
        world.gamelift.exceptions.InvalidRequestException, match="REQUIRES_ACCEPTANCE"
    ):
        world.gamelift.accept_match(TicketId="a", PlayerIds=["alice"], AcceptanceType="ACCEPT")


def test_acceptance_timeout_cancels_the_silent_ticket(world: World) -> None:
    """After AcceptanceTimeoutSeconds, who never answered is CANCELLED; who accepted searches."""
    world.configuration(DUEL, acceptance=True)
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 10))
    world.clock.advance(1.0)
    world.gamelift.accept_match(TicketId="a", PlayerIds=["alice"], AcceptanceType="ACCEPT")
    world.clock.advance(29.5)
    assert world.status("a", "b") == ["REQUIRES_ACCEPTANCE"] * 2
    world.clock.advance(1.0)
    assert world.status("a", "b") == ["SEARCHING", "CANCELLED"]
    completed = [e for e in world.control.events() if e["detail"]["type"] == "AcceptMatchCompleted"]
    assert completed[-1]["detail"]["acceptance"] == "TimedOut"


def test_accept_match_on_a_forced_status_is_refused(world: World) -> None:
    """A ticket put in REQUIRES_ACCEPTANCE through the control API has no match to accept."""
    world.configuration(DUEL, acceptance=True)
    world.start("a", ("alice", 10))
    world.control.set_ticket_status("a", "REQUIRES_ACCEPTANCE")
    with pytest.raises(world.gamelift.exceptions.InvalidRequestException, match="no proposed"):
        world.gamelift.accept_match(TicketId="a", PlayerIds=["alice"], AcceptanceType="ACCEPT")


def test_stopping_a_ticket_waiting_for_acceptance_releases_the_others(world: World) -> None:
    """StopMatchmaking in REQUIRES_ACCEPTANCE cancels it; the rest of the match searches again."""
    world.configuration(DUEL, acceptance=True)
    world.start("a", ("alice", 10))
    world.start("b", ("bob", 10))
    world.clock.advance(1.0)
    world.gamelift.stop_matchmaking(TicketId="b")
    world.clock.advance(0.2)
    assert world.status("a", "b") == ["SEARCHING", "CANCELLED"]


# ---------------------------------------------------------------- backfill


def _matched_session(world: World, players: int = 2) -> dict[str, Any]:
    for i in range(players):
        world.start(f"m{i}", (f"m{i}", 10))
    world.clock.advance(1.0)
    (session,) = world.gamelift.describe_game_sessions(FleetId=world.fleet_id)["GameSessions"]
    return dict(session)


def test_manual_backfill_adds_a_waiting_player_and_completes(world: World) -> None:
    """StartMatchBackfill matches a waiting ticket into the session: it joins, data updates."""
    world.configuration(GROWING)
    session = _matched_session(world)
    arn = session["GameSessionId"]
    data = json.loads(session["MatchmakerData"])
    existing = [
        {"PlayerId": p["playerId"], "Team": team["name"], "PlayerAttributes": {"skill": {"N": 10}}}
        for team in data["teams"]
        for p in team["players"]
    ]
    world.gamelift.start_match_backfill(
        TicketId="fill", ConfigurationName="cfg", GameSessionArn=arn, Players=existing
    )
    world.clock.advance(1.0)
    assert world.status("fill") == ["SEARCHING"]  # nobody is waiting yet
    world.start("late", ("carol", 10))
    world.clock.advance(1.0)
    assert world.status("fill", "late") == ["COMPLETED", "COMPLETED"]
    assert world.ticket("late")["GameSessionConnectionInfo"]["GameSessionArn"] == arn
    (after,) = world.gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"]
    assert after["CurrentPlayerSessionCount"] == 3
    players = [
        p["playerId"] for t in json.loads(after["MatchmakerData"])["teams"] for p in t["players"]
    ]
    assert "carol" in players


def test_automatic_backfill_fills_the_session_then_stops(world: World) -> None:
    """AUTOMATIC: a ticket per non-full session, again after each fill, none once full."""
    world.configuration(GROWING, backfill="AUTOMATIC")
    session = _matched_session(world)
    arn = session["GameSessionId"]
    first = json.loads(session["MatchmakerData"])["autoBackfillTicketId"]
    assert first
    assert world.status(first) in (["QUEUED"], ["SEARCHING"])
    world.start("late1", ("carol", 10))
    world.clock.advance(1.0)
    (after,) = world.gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"]
    second = json.loads(after["MatchmakerData"])["autoBackfillTicketId"]
    assert world.status(first, "late1") == ["COMPLETED", "COMPLETED"]
    assert second != first
    assert after["CurrentPlayerSessionCount"] == 3
    world.start("late2", ("dave", 10))
    world.clock.advance(1.0)
    (full,) = world.gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"]
    assert full["CurrentPlayerSessionCount"] == full["MaximumPlayerSessionCount"] == 4
    assert world.status(second) == ["COMPLETED"]
    active = [t for t in world.control.tickets() if t["Status"] in ("QUEUED", "SEARCHING")]
    assert active == []  # full: automatic backfill ended by itself
    world.gamelift.delete_matchmaking_configuration(Name="cfg")


def test_backfill_with_acceptance_waits_for_the_new_players_only(world: World) -> None:
    """AcceptanceRequired: the backfill ticket and the newcomer wait; the newcomer accepts."""
    world.configuration(GROWING, backfill="AUTOMATIC", acceptance=True)
    for i in range(2):
        world.start(f"m{i}", (f"m{i}", 10))
    world.clock.advance(1.0)
    world.gamelift.accept_match(TicketId="m0", PlayerIds=["m0"], AcceptanceType="ACCEPT")
    world.gamelift.accept_match(TicketId="m1", PlayerIds=["m1"], AcceptanceType="ACCEPT")
    world.clock.advance(0.3)
    (session,) = world.gamelift.describe_game_sessions(FleetId=world.fleet_id)["GameSessions"]
    auto = json.loads(session["MatchmakerData"])["autoBackfillTicketId"]
    world.start("late", ("carol", 10))
    world.clock.advance(1.0)
    assert world.status(auto, "late") == ["REQUIRES_ACCEPTANCE"] * 2
    world.gamelift.accept_match(TicketId="late", PlayerIds=["carol"], AcceptanceType="ACCEPT")
    assert world.status(auto, "late") == ["PLACING", "PLACING"]
    world.clock.advance(0.3)
    assert world.status(auto, "late") == ["COMPLETED", "COMPLETED"]


def test_stopping_a_backfill_waiting_for_acceptance_returns_the_newcomer(world: World) -> None:
    """StopMatchmaking of a backfill ticket in REQUIRES_ACCEPTANCE: the newcomer searches again."""
    world.configuration(GROWING, backfill="AUTOMATIC", acceptance=True)
    for i in range(2):
        world.start(f"m{i}", (f"m{i}", 10))
    world.clock.advance(1.0)
    for i in range(2):
        world.gamelift.accept_match(TicketId=f"m{i}", PlayerIds=[f"m{i}"], AcceptanceType="ACCEPT")
    world.clock.advance(0.3)
    (session,) = world.gamelift.describe_game_sessions(FleetId=world.fleet_id)["GameSessions"]
    auto = json.loads(session["MatchmakerData"])["autoBackfillTicketId"]
    world.start("late", ("carol", 10))
    world.clock.advance(1.0)
    world.gamelift.stop_matchmaking(TicketId=auto)
    world.clock.advance(0.2)
    assert world.status(auto, "late") == ["CANCELLED", "SEARCHING"]


def test_stopping_the_automatic_ticket_turns_backfill_off(world: World) -> None:
    """StopMatchmaking of the automatic ticket: no new one, even with players waiting."""
    world.configuration(GROWING, backfill="AUTOMATIC")
    session = _matched_session(world)
    auto = json.loads(session["MatchmakerData"])["autoBackfillTicketId"]
    world.gamelift.stop_matchmaking(TicketId=auto)
    world.clock.advance(0.2)
    world.start("late", ("carol", 10))
    world.clock.advance(2.0)
    assert world.status(auto, "late") == ["CANCELLED", "SEARCHING"]
    automatic = [t for t in world.control.tickets() if t["Automatic"]]
    assert [t["TicketId"] for t in automatic] == [auto]


# ------------------------------------------------------------------ events


def test_events_have_the_eventbridge_shape_and_filter_by_configuration(world: World) -> None:
    """source, detail-type, resources and detail as documented; ?configuration filters."""
    world.configuration(DUEL, mode="STANDALONE")
    world.configuration(DUEL, "other", mode="STANDALONE")
    world.start("a", ("alice", 10))
    world.start("z", ("zed", 10), cfg="other")
    world.clock.advance(0.1)
    every = world.control.events()
    assert len(every) == 2
    mine = world.control.events(configuration="cfg")
    (event,) = mine
    assert event["source"] == "aws.gamelift"
    assert event["detail-type"] == "GameLift Matchmaking Event"
    assert event["resources"] == [
        f"arn:aws:gamelift:{REGION}:123456789012:matchmakingconfiguration/cfg"
    ]
    assert event["detail"]["type"] == "MatchmakingSearching"
    assert event["detail"]["estimatedWaitMillis"] == "NOT_AVAILABLE"
    assert event["detail"]["tickets"] == [
        {
            "ticketId": "a",
            "startTime": "2023-11-14T22:13:20.000Z",
            "players": [{"playerId": "alice"}],
        }
    ]
    assert event["time"] == "2023-11-14T22:13:20.050Z"


def test_events_are_posted_in_order_to_a_loopback_webhook(world: World) -> None:
    """POST /_emulator/webhook: every new event reaches the receiver, in the log's order."""
    with EventReceiver() as receiver:
        assert world.control.webhook(receiver.url)["url"] == receiver.url
        try:
            world.configuration(DUEL, mode="STANDALONE")
            world.start("a", ("alice", 10))
            world.start("b", ("bob", 10))
            world.clock.advance(1.0)
            logged = world.control.events()
            assert receiver.wait_for(len(logged)) == logged
        finally:
            world.control.webhook(None)


@pytest.mark.parametrize("url", ["http://10.0.0.1/x", "https://127.0.0.1/x", "http://example.com/"])
def test_a_webhook_that_is_not_loopback_http_is_refused(world: World, url: str) -> None:
    """The control API refuses webhook URLs off this machine (or not plain http)."""
    with pytest.raises(EmulatorControlError) as refused:
        world.control.webhook(url)
    assert refused.value.status == 400
    assert world.control.request("GET", "/webhook")["url"] is None
