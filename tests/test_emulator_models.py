"""The emulator's state machine called directly, with a manual clock: no HTTP, no sleeps."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from gamelift_emulator.clock import ManualClock
from gamelift_emulator.exceptions import (
    ConflictException,
    InvalidRequestException,
    NotFoundException,
)
from gamelift_emulator.models import (
    ACTIVE_STATUSES,
    PLACING_MESSAGE,
    BackendStore,
    EmulatorSettings,
    GameLiftBackend,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
TIMEOUT = 60
RULE_SET = json.dumps(
    {
        "name": "duel",
        "ruleLanguageVersion": "1.0",
        "playerAttributes": [
            {"name": "skill", "type": "number", "default": 10},
            {"name": "mode", "type": "string"},
            {"name": "maps", "type": "string_list"},
            {"name": "ping", "type": "string_number_map"},
        ],
        "teams": [
            {"name": "red", "minPlayers": 2, "maxPlayers": 4},
            {"name": "blue", "minPlayers": 2, "maxPlayers": 4},
        ],
    }
)
PLAYERS = [{"PlayerId": "p1", "PlayerAttributes": {"skill": {"N": 5.0}}}]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> BackendStore:
    return BackendStore(clock)


@pytest.fixture
def backend(store: BackendStore) -> GameLiftBackend:
    return store.backend(ACCOUNT, REGION)


def make_configuration(
    backend: GameLiftBackend, name: str = "cfg", backfill_mode: str = "MANUAL"
) -> dict[str, Any]:
    """A rule set, a queue and a WITH_QUEUE configuration using them."""
    if not backend.describe_matchmaking_rule_sets()["RuleSets"]:
        backend.create_matchmaking_rule_set(Name="duel", RuleSetBody=RULE_SET)
        backend.create_game_session_queue(Name="queue")
    queue_arn = backend.describe_game_session_queues(Names=["queue"])["GameSessionQueues"][0][
        "GameSessionQueueArn"
    ]
    configuration: dict[str, Any] = backend.create_matchmaking_configuration(
        Name=name,
        RequestTimeoutSeconds=TIMEOUT,
        AcceptanceRequired=False,
        RuleSetName="duel",
        GameSessionQueueArns=[queue_arn],
        BackfillMode=backfill_mode,
    )["Configuration"]
    return configuration


def status_of(backend: GameLiftBackend, ticket_id: str) -> str | None:
    tickets = backend.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
    return str(tickets[0]["Status"]) if tickets else None


def start(backend: GameLiftBackend, ticket_id: str = "t1", configuration: str = "cfg") -> str:
    """A one-player ticket; each ticket its own player (a shared one cancels the older)."""
    players = [{**PLAYERS[0], "PlayerId": f"p-{ticket_id}"}]
    ticket = backend.start_matchmaking(
        TicketId=ticket_id, ConfigurationName=configuration, Players=players
    )["MatchmakingTicket"]
    return str(ticket["TicketId"])


def seed(
    backend: GameLiftBackend, fleet_id: str, players: int = 2, max_players: int = 8, **kw: Any
) -> dict[str, Any]:
    return dict(backend.seed_game_session(fleet_id, "cfg", players, max_players, **kw))


def auto_ticket_in_data(backend: GameLiftBackend, arn: str) -> str | None:
    session = backend.describe_game_sessions(GameSessionId=arn)["GameSessions"][0]
    value = json.loads(session["MatchmakerData"])["autoBackfillTicketId"]
    return None if value is None else str(value)


# ------------------------------------------------------------------ lifecycle


def test_ticket_is_queued_then_searching(backend: GameLiftBackend, clock: ManualClock) -> None:
    """A new ticket is QUEUED and turns SEARCHING once queued_ms has passed."""
    make_configuration(backend)
    ticket = backend.start_matchmaking(TicketId="t1", ConfigurationName="cfg", Players=PLAYERS)
    assert ticket["MatchmakingTicket"]["Status"] == "QUEUED"
    assert ticket["MatchmakingTicket"]["StartTime"] == clock.now()
    clock.advance(0.049)
    assert status_of(backend, "t1") == "QUEUED"
    clock.advance(0.002)
    assert status_of(backend, "t1") == "SEARCHING"


def test_ticket_times_out_at_request_timeout(backend: GameLiftBackend, clock: ManualClock) -> None:
    """A searching ticket turns TIMED_OUT at StartTime + RequestTimeoutSeconds, with EndTime."""
    make_configuration(backend)
    start(backend)
    started = clock.now()
    clock.advance(TIMEOUT - 0.001)
    assert status_of(backend, "t1") == "SEARCHING"
    clock.advance(0.001)
    (ticket,) = backend.describe_matchmaking(TicketIds=["t1"])["TicketList"]
    assert ticket["Status"] == "TIMED_OUT"
    assert ticket["EndTime"] == started + TIMEOUT
    assert ticket["StatusReason"] == "TIMED_OUT"


def test_final_tickets_disappear_after_retention(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """A final ticket stays visible for retention_s, then DescribeMatchmaking omits it."""
    make_configuration(backend)
    start(backend)
    backend.force_ticket_status("t1", "COMPLETED")
    clock.advance(backend.settings.retention_s - 0.001)
    assert status_of(backend, "t1") == "COMPLETED"
    clock.advance(0.001)
    assert status_of(backend, "t1") is None
    assert backend.list_tickets() == []


def test_tickets_never_match_by_themselves(backend: GameLiftBackend, clock: ManualClock) -> None:
    """Left alone, a ticket only searches and times out; it never completes."""
    make_configuration(backend)
    start(backend)
    clock.advance(TIMEOUT / 2)
    assert status_of(backend, "t1") == "SEARCHING"
    clock.advance(TIMEOUT)
    assert status_of(backend, "t1") == "TIMED_OUT"


# ------------------------------------------------------------- StopMatchmaking


def test_stop_keeps_status_until_delay_then_cancels(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """StopMatchmaking answers {} and the ticket turns CANCELLED only after stop_delay_ms."""
    make_configuration(backend)
    start(backend)
    clock.advance(1)
    assert backend.stop_matchmaking(TicketId="t1") == {}
    clock.advance(0.099)
    assert status_of(backend, "t1") == "SEARCHING"
    clock.advance(0.001)
    (ticket,) = backend.describe_matchmaking(TicketIds=["t1"])["TicketList"]
    assert ticket["Status"] == "CANCELLED"
    assert ticket["EndTime"] == clock.now()


def test_stop_with_zero_delay_cancels_at_once(
    store: BackendStore, backend: GameLiftBackend
) -> None:
    """With stop_delay_ms 0 the ticket is CANCELLED by the time StopMatchmaking returns."""
    store.update_settings({"stop_delay_ms": 0})
    make_configuration(backend)
    start(backend)
    backend.stop_matchmaking(TicketId="t1")
    assert status_of(backend, "t1") == "CANCELLED"


def test_stop_twice_while_cancel_pending_is_accepted(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """A second stop before the cancel lands succeeds, and the ticket is cancelled once."""
    make_configuration(backend)
    start(backend)
    backend.stop_matchmaking(TicketId="t1")
    assert backend.stop_matchmaking(TicketId="t1") == {}
    clock.advance(1)
    assert status_of(backend, "t1") == "CANCELLED"
    with pytest.raises(InvalidRequestException):
        backend.stop_matchmaking(TicketId="t1")


def test_stop_unknown_ticket_is_not_found(backend: GameLiftBackend) -> None:
    """StopMatchmaking of a ticket that never existed raises NotFoundException."""
    with pytest.raises(NotFoundException):
        backend.stop_matchmaking(TicketId="nope")


@pytest.mark.parametrize("final", ["CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"])
def test_stop_final_ticket_is_invalid(backend: GameLiftBackend, final: str) -> None:
    """StopMatchmaking of a ticket in a final status raises InvalidRequestException."""
    make_configuration(backend)
    start(backend)
    backend.force_ticket_status("t1", final)
    with pytest.raises(InvalidRequestException, match=final):
        backend.stop_matchmaking(TicketId="t1")


def test_stop_placing_is_refused_with_aws_message(backend: GameLiftBackend) -> None:
    """A PLACING ticket cannot be cancelled, with AWS's exact message."""
    make_configuration(backend)
    start(backend)
    backend.force_ticket_status("t1", "PLACING")
    with pytest.raises(InvalidRequestException) as caught:
        backend.stop_matchmaking(TicketId="t1")
    assert caught.value.message == PLACING_MESSAGE
    assert caught.value.message == "Matchmaking ticket is in PLACING status and cannot be canceled."


def test_stop_requires_acceptance_cancels(backend: GameLiftBackend, clock: ManualClock) -> None:
    """A ticket in REQUIRES_ACCEPTANCE can be cancelled."""
    make_configuration(backend)
    start(backend)
    backend.force_ticket_status("t1", "REQUIRES_ACCEPTANCE")
    backend.stop_matchmaking(TicketId="t1")
    clock.advance(1)
    assert status_of(backend, "t1") == "CANCELLED"


def test_forced_placing_wins_over_pending_cancel(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """A ticket forced to PLACING after a stop stays PLACING: the pending cancel is void."""
    make_configuration(backend)
    start(backend)
    backend.stop_matchmaking(TicketId="t1")
    backend.force_ticket_status("t1", "PLACING")
    clock.advance(TIMEOUT * 2)
    assert status_of(backend, "t1") == "PLACING"


# --------------------------------------------------------- DescribeMatchmaking


def test_describe_matchmaking_limits_ids_and_skips_unknown(backend: GameLiftBackend) -> None:
    """More than 10 IDs is invalid; unknown IDs are simply absent; Players come back."""
    make_configuration(backend)
    start(backend, "a")
    start(backend, "b")
    with pytest.raises(InvalidRequestException):
        backend.describe_matchmaking(TicketIds=[f"x{i}" for i in range(11)])
    tickets = backend.describe_matchmaking(TicketIds=["a", "missing", "b"])["TicketList"]
    assert [t["TicketId"] for t in tickets] == ["a", "b"]
    assert tickets[0]["Players"] == [{**PLAYERS[0], "PlayerId": "p-a"}]
    assert tickets[0]["ConfigurationArn"].endswith(":matchmakingconfiguration/cfg")
    assert "EndTime" not in tickets[0]


# ------------------------------------------------- rule sets and configurations


def test_rule_set_body_must_define_teams(backend: GameLiftBackend) -> None:
    """A rule set body that is not JSON, or has no teams, is an invalid request."""
    with pytest.raises(InvalidRequestException):
        backend.create_matchmaking_rule_set(Name="bad", RuleSetBody="{nope")
    with pytest.raises(InvalidRequestException):
        backend.create_matchmaking_rule_set(Name="bad", RuleSetBody='{"teams": []}')


def test_describe_rule_sets_unknown_name_is_not_found(backend: GameLiftBackend) -> None:
    """DescribeMatchmakingRuleSets with an unknown name raises NotFoundException."""
    make_configuration(backend)
    assert backend.describe_matchmaking_rule_sets(Names=["duel"])["RuleSets"][0]["RuleSetArn"]
    with pytest.raises(NotFoundException):
        backend.describe_matchmaking_rule_sets(Names=["other"])


def test_delete_rule_set_refused_while_a_configuration_uses_it(backend: GameLiftBackend) -> None:
    """A rule set in use cannot be deleted; once its configuration is gone it can."""
    make_configuration(backend)
    with pytest.raises(InvalidRequestException, match="cfg"):
        backend.delete_matchmaking_rule_set(Name="duel")
    backend.delete_matchmaking_configuration(Name="cfg")
    assert backend.delete_matchmaking_rule_set(Name="duel") == {}
    with pytest.raises(NotFoundException):
        backend.delete_matchmaking_rule_set(Name="duel")


def test_configuration_needs_existing_rule_set_and_queue(backend: GameLiftBackend) -> None:
    """WITH_QUEUE needs queues that exist; STANDALONE needs none but allows no AUTOMATIC."""
    common: dict[str, Any] = {"RequestTimeoutSeconds": 10, "AcceptanceRequired": False}
    with pytest.raises(NotFoundException):
        backend.create_matchmaking_configuration(Name="c", RuleSetName="duel", **common)
    backend.create_matchmaking_rule_set(Name="duel", RuleSetBody=RULE_SET)
    with pytest.raises(InvalidRequestException):
        backend.create_matchmaking_configuration(Name="c", RuleSetName="duel", **common)
    missing = f"arn:aws:gamelift:{REGION}:{ACCOUNT}:gamesessionqueue/missing"
    with pytest.raises(NotFoundException):
        backend.create_matchmaking_configuration(
            Name="c", RuleSetName="duel", GameSessionQueueArns=[missing], **common
        )
    standalone = backend.create_matchmaking_configuration(
        Name="c", RuleSetName="duel", FlexMatchMode="STANDALONE", **common
    )["Configuration"]
    assert standalone["GameSessionQueueArns"] == []
    assert standalone["ConfigurationArn"] == (
        f"arn:aws:gamelift:{REGION}:{ACCOUNT}:matchmakingconfiguration/c"
    )
    with pytest.raises(InvalidRequestException):
        backend.create_matchmaking_configuration(
            Name="d",
            RuleSetName="duel",
            FlexMatchMode="STANDALONE",
            BackfillMode="AUTOMATIC",
            **common,
        )


def test_describe_configurations_paginates_and_filters(backend: GameLiftBackend) -> None:
    """Configurations come in creation order, 10 at most per page, filterable by rule set."""
    for i in range(13):
        make_configuration(backend, name=f"cfg{i:02d}")
    first = backend.describe_matchmaking_configurations()
    assert len(first["Configurations"]) == 10
    second = backend.describe_matchmaking_configurations(NextToken=first["NextToken"])
    assert "NextToken" not in second
    names = [c["Name"] for c in first["Configurations"] + second["Configurations"]]
    assert names == [f"cfg{i:02d}" for i in range(13)]
    by_name = backend.describe_matchmaking_configurations(Names=["cfg03", "unknown"])
    assert [c["Name"] for c in by_name["Configurations"]] == ["cfg03"]
    by_rule_set = backend.describe_matchmaking_configurations(RuleSetName="other", Limit=5)
    assert by_rule_set["Configurations"] == []


def test_update_configuration_changes_only_given_members(backend: GameLiftBackend) -> None:
    """UpdateMatchmakingConfiguration changes what it is given and keeps the rest."""
    make_configuration(backend)
    updated = backend.update_matchmaking_configuration(
        Name="cfg", RequestTimeoutSeconds=5, BackfillMode="AUTOMATIC"
    )["Configuration"]
    assert updated["RequestTimeoutSeconds"] == 5
    assert updated["BackfillMode"] == "AUTOMATIC"
    assert updated["RuleSetName"] == "duel"
    with pytest.raises(NotFoundException):
        backend.update_matchmaking_configuration(Name="nope", RequestTimeoutSeconds=5)


@pytest.mark.parametrize("status", sorted(ACTIVE_STATUSES))
def test_delete_configuration_refused_while_ticket_active(
    backend: GameLiftBackend, status: str
) -> None:
    """DeleteMatchmakingConfiguration fails while a ticket of it is active, and works after."""
    make_configuration(backend)
    start(backend)
    backend.force_ticket_status("t1", status)
    with pytest.raises(InvalidRequestException):
        backend.delete_matchmaking_configuration(Name="cfg")
    backend.force_ticket_status("t1", "FAILED")
    assert backend.delete_matchmaking_configuration(Name="cfg") == {}
    with pytest.raises(NotFoundException):
        backend.delete_matchmaking_configuration(Name="cfg")


def test_delete_configuration_allowed_once_cancel_lands(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """A stopped ticket still blocks deletion until it is actually CANCELLED."""
    make_configuration(backend)
    start(backend)
    backend.stop_matchmaking(TicketId="t1")
    with pytest.raises(InvalidRequestException):
        backend.delete_matchmaking_configuration(Name="cfg")
    clock.advance(0.1)
    assert backend.delete_matchmaking_configuration(Name="cfg") == {}


# ---------------------------------------------------------------------- queues


def test_queues_create_describe_delete(backend: GameLiftBackend) -> None:
    """Queues are found by name or ARN, and unknown ones are NotFound."""
    arn = backend.create_game_session_queue(Name="q1")["GameSessionQueue"]["GameSessionQueueArn"]
    assert arn == f"arn:aws:gamelift:{REGION}:{ACCOUNT}:gamesessionqueue/q1"
    assert backend.describe_game_session_queues(Names=[arn])["GameSessionQueues"][0]["Name"] == "q1"
    with pytest.raises(NotFoundException):
        backend.describe_game_session_queues(Names=["q2"])
    assert backend.delete_game_session_queue(Name=arn) == {}
    with pytest.raises(NotFoundException):
        backend.delete_game_session_queue(Name="q1")


# ------------------------------------------------------------------- backfill


def test_backfill_needs_an_existing_session(backend: GameLiftBackend) -> None:
    """StartMatchBackfill with an unknown game session raises NotFoundException."""
    make_configuration(backend)
    fleet = backend.seed_fleet()
    missing = f"arn:aws:gamelift:{REGION}::gamesession/{fleet['fleet_id']}/gsess-missing"
    with pytest.raises(NotFoundException):
        backend.start_match_backfill(
            ConfigurationName="cfg", GameSessionArn=missing, Players=PLAYERS
        )
    with pytest.raises(InvalidRequestException):
        backend.start_match_backfill(ConfigurationName="cfg", Players=PLAYERS)


def test_new_backfill_replaces_the_active_one(backend: GameLiftBackend, clock: ManualClock) -> None:
    """One active backfill per session: a new one cancels the old, by name or ARN."""
    configuration = make_configuration(backend)
    fleet = backend.seed_fleet()
    arn = seed(backend, fleet["fleet_id"])["GameSessionId"]
    backend.start_match_backfill(
        TicketId="b1", ConfigurationName="cfg", GameSessionArn=arn, Players=PLAYERS
    )
    clock.advance(1)
    backend.start_match_backfill(
        TicketId="b2",
        ConfigurationName=configuration["ConfigurationArn"],
        GameSessionArn=arn,
        Players=PLAYERS,
    )
    assert status_of(backend, "b1") == "CANCELLED"
    assert status_of(backend, "b2") == "QUEUED"
    entry = next(t for t in backend.list_tickets() if t["TicketId"] == "b2")
    assert entry["GameSessionArn"] == arn
    assert entry["ConfigurationName"] == "cfg"


def test_manual_configuration_gives_no_automatic_ticket(backend: GameLiftBackend) -> None:
    """Sessions of a MANUAL configuration get no automatic ticket; autoBackfillMode is null."""
    make_configuration(backend)
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    assert session["auto_backfill_ticket_id"] is None
    data = json.loads(session["MatchmakerData"])
    assert data["autoBackfillMode"] is None  # as live payloads of MANUAL configurations
    assert data["autoBackfillTicketId"] is None
    assert backend.list_tickets() == []


def test_automatic_backfill_only_for_non_full_sessions(backend: GameLiftBackend) -> None:
    """AUTOMATIC gives a non-full session a backfill ticket named in MatchmakerData; full, none."""
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    open_session = seed(backend, fleet["fleet_id"], players=3, max_players=4)
    full_session = seed(backend, fleet["fleet_id"], players=4, max_players=4)
    ticket_id = open_session["auto_backfill_ticket_id"]
    assert ticket_id is not None
    assert json.loads(open_session["MatchmakerData"])["autoBackfillTicketId"] == ticket_id
    assert full_session["auto_backfill_ticket_id"] is None
    (ticket,) = backend.list_tickets()
    assert ticket["TicketId"] == ticket_id
    assert ticket["GameSessionArn"] == open_session["GameSessionId"]
    assert len(ticket["Players"]) == 3


def test_automatic_ticket_regenerates_after_timeout(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """When the automatic ticket times out a new one replaces it, and MatchmakerData follows."""
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    first = session["auto_backfill_ticket_id"]
    clock.advance(TIMEOUT)
    second = auto_ticket_in_data(backend, session["GameSessionId"])
    assert second not in (None, first)
    assert status_of(backend, first) == "TIMED_OUT"
    assert status_of(backend, str(second)) == "QUEUED"
    (ticket,) = backend.describe_matchmaking(TicketIds=[str(second)])["TicketList"]
    assert ticket["StartTime"] == clock.now()


def test_automatic_ticket_regenerates_after_a_completed_backfill(
    backend: GameLiftBackend,
) -> None:
    """A session still not full after its automatic ticket completes gets the next one."""
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    backend.force_ticket_status(session["auto_backfill_ticket_id"], "COMPLETED")
    after = auto_ticket_in_data(backend, session["GameSessionId"])
    assert after not in (None, session["auto_backfill_ticket_id"])


def test_regeneration_can_be_turned_off(
    store: BackendStore, backend: GameLiftBackend, clock: ManualClock
) -> None:
    """With auto_backfill_regenerate off, a timed-out automatic ticket is not replaced."""
    store.update_settings({"auto_backfill_regenerate": False})
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    clock.advance(TIMEOUT)
    assert (
        auto_ticket_in_data(backend, session["GameSessionId"])
        == (session["auto_backfill_ticket_id"])
    )
    assert [t["Status"] for t in backend.list_tickets()] == ["TIMED_OUT"]


def test_stopping_automatic_ticket_turns_automatic_backfill_off(
    backend: GameLiftBackend, clock: ManualClock
) -> None:
    """StopMatchmaking of the automatic ticket cancels it and no new one ever starts."""
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    ticket_id = session["auto_backfill_ticket_id"]
    backend.stop_matchmaking(TicketId=ticket_id)
    clock.advance(TIMEOUT * 3)
    assert [t["Status"] for t in backend.list_tickets()] == ["CANCELLED"]
    assert auto_ticket_in_data(backend, session["GameSessionId"]) == ticket_id
    # A later timed-out manual backfill does not bring automatic backfill back either.
    backend.start_match_backfill(
        TicketId="m1",
        ConfigurationName="cfg",
        GameSessionArn=session["GameSessionId"],
        Players=PLAYERS,
    )
    clock.advance(TIMEOUT)
    assert {t["TicketId"]: t["Status"] for t in backend.list_tickets()} == {
        ticket_id: "CANCELLED",
        "m1": "TIMED_OUT",
    }


def test_terminating_a_session_cancels_its_backfill(backend: GameLiftBackend) -> None:
    """A terminated session's active backfill ticket is cancelled and no new one starts."""
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    backend.end_game_session(session["GameSessionId"])
    assert status_of(backend, session["auto_backfill_ticket_id"]) == "CANCELLED"
    (described,) = backend.describe_game_sessions(FleetId=fleet["fleet_id"])["GameSessions"]
    assert described["Status"] == "TERMINATED"
    assert "TerminationTime" in described
    with pytest.raises(InvalidRequestException):
        backend.start_match_backfill(
            ConfigurationName="cfg", GameSessionArn=session["GameSessionId"], Players=PLAYERS
        )


def test_seeded_players_follow_the_rule_set(backend: GameLiftBackend) -> None:
    """Seeded players get unique IDs, even teams and every rule-set attribute, typed."""
    make_configuration(backend)
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"], players=5, max_players=10)
    data = json.loads(session["MatchmakerData"])
    assert data["matchmakingConfigurationArn"].endswith(":matchmakingconfiguration/cfg")
    assert data["matchId"]
    teams = {t["name"]: t["players"] for t in data["teams"]}
    assert {name: len(ps) for name, ps in teams.items()} == {"red": 3, "blue": 2}
    players = [p for ps in teams.values() for p in ps]
    assert len({p["playerId"] for p in players}) == 5
    assert players[0]["attributes"] == {
        "skill": {"attributeType": "DOUBLE", "valueAttribute": 10.0},
        "mode": {"attributeType": "STRING", "valueAttribute": "default"},
        "maps": {"attributeType": "STRING_LIST", "valueAttribute": ["default"]},
        "ping": {"attributeType": "STRING_DOUBLE_MAP", "valueAttribute": {"default": 1.0}},
    }
    assert session["CurrentPlayerSessionCount"] == 5
    assert session["MaximumPlayerSessionCount"] == 10


def test_seed_rejects_unknown_fleet_configuration_and_bad_counts(
    backend: GameLiftBackend,
) -> None:
    """Seeding needs a known fleet and configuration and 0 <= players <= max_players."""
    make_configuration(backend)
    fleet = backend.seed_fleet()
    with pytest.raises(NotFoundException):
        backend.seed_game_session("fleet-missing", "cfg", 1, 2)
    with pytest.raises(NotFoundException):
        backend.seed_game_session(fleet["fleet_id"], "missing", 1, 2)
    with pytest.raises(InvalidRequestException):
        backend.seed_game_session(fleet["fleet_id"], "cfg", 3, 2)


# -------------------------------------------------------------- game sessions


def test_fleet_ids_and_arns(backend: GameLiftBackend) -> None:
    """Fleets get AWS-shaped IDs and ARNs; a duplicate ID conflicts."""
    fleet = backend.seed_fleet()
    assert fleet["fleet_id"].startswith("fleet-")
    assert fleet["fleet_arn"] == f"arn:aws:gamelift:{REGION}:{ACCOUNT}:fleet/{fleet['fleet_id']}"
    backend.seed_fleet("fleet-mine")
    with pytest.raises(ConflictException):
        backend.seed_fleet("fleet-mine")


def test_sessions_of_all_locations_unless_one_is_named(backend: GameLiftBackend) -> None:
    """Without Location every location's sessions come back; remote ARNs carry the location."""
    make_configuration(backend)
    fleet = backend.seed_fleet(locations=["us-west-2"])
    home = seed(backend, fleet["fleet_id"])
    remote = seed(backend, fleet["fleet_id"], location="us-west-2")
    assert home["GameSessionId"].startswith(
        f"arn:aws:gamelift:{REGION}::gamesession/{fleet['fleet_id']}/gsess-"
    )
    assert remote["GameSessionId"].startswith(
        f"arn:aws:gamelift:{REGION}::gamesession/{fleet['fleet_id']}/us-west-2/gsess-"
    )
    every = backend.describe_game_sessions(FleetId=fleet["fleet_id"])["GameSessions"]
    assert [s["Location"] for s in every] == [REGION, "us-west-2"]
    only_remote = backend.describe_game_sessions(FleetId=fleet["fleet_id"], Location="us-west-2")
    assert [s["GameSessionId"] for s in only_remote["GameSessions"]] == [remote["GameSessionId"]]
    with pytest.raises(InvalidRequestException):
        backend.describe_game_sessions(FleetId=fleet["fleet_id"], Location="eu-west-1")


def test_describe_sessions_by_alias_arn_or_id(backend: GameLiftBackend) -> None:
    """Sessions are found by fleet ARN, alias or game session ID; unknown fleets are NotFound."""
    fleet = backend.seed_fleet()
    alias = backend.seed_alias(fleet["fleet_id"])
    created = backend.create_game_session(AliasId=alias["alias_id"], MaximumPlayerSessionCount=4)
    arn = created["GameSession"]["GameSessionId"]
    for query in (
        {"FleetId": fleet["fleet_arn"]},
        {"AliasId": alias["alias_arn"]},
        {"GameSessionId": arn},
    ):
        sessions = backend.describe_game_sessions(**query)["GameSessions"]
        assert [s["GameSessionId"] for s in sessions] == [arn]
    with pytest.raises(NotFoundException):
        backend.describe_game_sessions(FleetId="fleet-missing")
    with pytest.raises(NotFoundException):
        backend.describe_game_sessions(AliasId="alias-missing")
    with pytest.raises(InvalidRequestException):
        backend.describe_game_sessions()


def test_create_game_session_is_idempotent(backend: GameLiftBackend) -> None:
    """CreateGameSession with a known IdempotencyToken returns the original session."""
    fleet = backend.seed_fleet()
    first = backend.create_game_session(
        FleetId=fleet["fleet_id"], MaximumPlayerSessionCount=4, IdempotencyToken="tok"
    )
    again = backend.create_game_session(
        FleetId=fleet["fleet_id"], MaximumPlayerSessionCount=4, IdempotencyToken="tok"
    )
    assert first == again
    assert "MatchmakerData" not in first["GameSession"]
    sessions = backend.describe_game_sessions(FleetId=fleet["fleet_id"])["GameSessions"]
    assert len(sessions) == 1


def test_status_filter(backend: GameLiftBackend) -> None:
    """StatusFilter keeps sessions in that status; an unknown status is invalid."""
    fleet = backend.seed_fleet()
    kept = backend.create_game_session(FleetId=fleet["fleet_id"], MaximumPlayerSessionCount=2)
    ended = backend.create_game_session(FleetId=fleet["fleet_id"], MaximumPlayerSessionCount=2)
    backend.end_game_session(ended["GameSession"]["GameSessionId"])
    active = backend.describe_game_sessions(FleetId=fleet["fleet_id"], StatusFilter="ACTIVE")
    assert [s["GameSessionId"] for s in active["GameSessions"]] == [
        kept["GameSession"]["GameSessionId"]
    ]
    with pytest.raises(InvalidRequestException):
        backend.describe_game_sessions(FleetId=fleet["fleet_id"], StatusFilter="BOGUS")


def test_pagination_is_stable_while_sessions_change(backend: GameLiftBackend) -> None:
    """Sessions added or ended between pages never make a page skip or repeat a session."""
    fleet = backend.seed_fleet()
    fleet_id = fleet["fleet_id"]
    arns = [
        backend.create_game_session(FleetId=fleet_id, MaximumPlayerSessionCount=2)["GameSession"][
            "GameSessionId"
        ]
        for _ in range(25)
    ]
    seen: list[str] = []
    page = backend.describe_game_sessions(FleetId=fleet_id, Limit=10, StatusFilter="ACTIVE")
    seen += [s["GameSessionId"] for s in page["GameSessions"]]
    # Between pages: end two already-seen sessions and one not yet seen, and add one.
    backend.end_game_session(arns[0])
    backend.end_game_session(arns[1])
    backend.end_game_session(arns[15])
    added = backend.create_game_session(FleetId=fleet_id, MaximumPlayerSessionCount=2)
    while "NextToken" in page:
        page = backend.describe_game_sessions(
            FleetId=fleet_id, Limit=10, StatusFilter="ACTIVE", NextToken=page["NextToken"]
        )
        seen += [s["GameSessionId"] for s in page["GameSessions"]]
    expected = [a for a in arns if a != arns[15]] + [added["GameSession"]["GameSessionId"]]
    assert seen == expected


def test_pages_default_to_a_bounded_size(backend: GameLiftBackend) -> None:
    """Without Limit a page holds at most 100 sessions, and NextToken leads to the rest."""
    fleet = backend.seed_fleet()
    for _ in range(150):
        backend.create_game_session(FleetId=fleet["fleet_id"], MaximumPlayerSessionCount=2)
    first = backend.describe_game_sessions(FleetId=fleet["fleet_id"])
    rest = backend.describe_game_sessions(FleetId=fleet["fleet_id"], NextToken=first["NextToken"])
    assert (len(first["GameSessions"]), len(rest["GameSessions"])) == (100, 50)
    assert "NextToken" not in rest


def test_invalid_next_token_is_rejected(backend: GameLiftBackend) -> None:
    """A NextToken that is not ours (or from another listing) is an invalid request."""
    fleet = backend.seed_fleet()
    with pytest.raises(InvalidRequestException):
        backend.describe_game_sessions(FleetId=fleet["fleet_id"], NextToken="garbage!")
    make_configuration(backend)
    token = backend.describe_matchmaking_configurations(Limit=1)
    assert "NextToken" not in token  # only one configuration
    for i in range(2):
        make_configuration(backend, name=f"more{i}")
    config_token = backend.describe_matchmaking_configurations(Limit=1)["NextToken"]
    with pytest.raises(InvalidRequestException):
        backend.describe_game_sessions(FleetId=fleet["fleet_id"], NextToken=config_token)


def test_delete_fleet_ends_its_sessions_and_tickets(backend: GameLiftBackend) -> None:
    """Deleting a fleet drops its sessions and cancels their active backfill."""
    make_configuration(backend, backfill_mode="AUTOMATIC")
    fleet = backend.seed_fleet()
    session = seed(backend, fleet["fleet_id"])
    backend.remove_fleet(fleet["fleet_id"])
    assert status_of(backend, session["auto_backfill_ticket_id"]) == "CANCELLED"
    with pytest.raises(NotFoundException):
        backend.describe_game_sessions(FleetId=fleet["fleet_id"])
    with pytest.raises(NotFoundException):
        backend.describe_game_sessions(GameSessionId=session["GameSessionId"])


# ------------------------------------------------------------------- controls


def test_force_ticket_status(backend: GameLiftBackend, clock: ManualClock) -> None:
    """Forcing sets any status; final ones get EndTime; unknown tickets and statuses fail."""
    make_configuration(backend)
    start(backend)
    clock.advance(2)
    entry = backend.force_ticket_status("t1", "FAILED")
    assert (entry["Status"], entry["EndTime"]) == ("FAILED", clock.now())
    entry = backend.force_ticket_status("t1", "SEARCHING")
    assert "EndTime" not in entry
    clock.advance(TIMEOUT)
    assert status_of(backend, "t1") == "TIMED_OUT"
    with pytest.raises(NotFoundException):
        backend.force_ticket_status("nope", "FAILED")
    with pytest.raises(InvalidRequestException):
        backend.force_ticket_status("t1", "DONE")


def test_list_tickets_uses_gamelift_names(backend: GameLiftBackend) -> None:
    """list_tickets returns every ticket with GameLift's own field names."""
    make_configuration(backend)
    start(backend)
    (entry,) = backend.list_tickets()
    assert {"TicketId", "Status", "ConfigurationName", "ConfigurationArn", "StartTime"} <= set(
        entry
    )
    assert entry["GameSessionArn"] is None


def test_store_keeps_backends_apart_and_reset_restores_defaults(store: BackendStore) -> None:
    """Each account and Region has its own state; reset clears it and restores settings."""
    east = store.backend(ACCOUNT, REGION)
    assert store.backend(ACCOUNT, REGION) is east
    east.seed_fleet("fleet-1")
    store.backend(ACCOUNT, "us-west-2").seed_fleet("fleet-1")  # no conflict across Regions
    store.update_settings({"stop_delay_ms": 5, "auto_backfill_regenerate": False})
    store.reset()
    assert store.settings == EmulatorSettings()
    assert store.backend(ACCOUNT, REGION).fleet_records() == []


def test_update_settings_validates(store: BackendStore) -> None:
    """Settings reject unknown names, negative numbers and non-boolean switches."""
    for bad in (
        {"nope": 1},
        {"stop_delay_ms": -1},
        {"queued_ms": "5"},
        {"retention_s": True},
        {"auto_backfill_regenerate": 1},
    ):
        with pytest.raises(InvalidRequestException):
            store.update_settings(bad)
    assert store.update_settings({"retention_s": 7}).retention_s == 7.0


# ---------------------------------------------------------------- concurrency


def test_concurrent_calls_lose_no_state(backend: GameLiftBackend, clock: ManualClock) -> None:
    """Threads starting, stopping and describing tickets at once never lose a ticket."""
    make_configuration(backend)
    backend.settings.match_delay_ms = 3_600_000  # no match forms: this test counts tickets
    threads_count, per_thread = 8, 150
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(per_thread):
                ticket_id = f"w{worker}-{i}"
                start(backend, ticket_id)
                if i % 2:
                    backend.stop_matchmaking(TicketId=ticket_id)
                backend.describe_matchmaking(TicketIds=[ticket_id])
                clock.advance(0.001)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    tickets = backend.list_tickets()
    assert len(tickets) == threads_count * per_thread
    clock.advance(1)
    statuses = [t["Status"] for t in backend.list_tickets()]
    assert statuses.count("CANCELLED") == threads_count * per_thread // 2
    assert statuses.count("SEARCHING") == threads_count * per_thread // 2
    with pytest.raises(InvalidRequestException):
        backend.delete_matchmaking_configuration(Name="cfg")
