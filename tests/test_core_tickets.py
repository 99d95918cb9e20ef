"""Stop-and-wait and start_backfill against the emulator, over HTTP with real boto3."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fault_helpers import FaultProxy

from gamelift_backfill.core.errors import (
    EndpointError,
    MatchmakerDataError,
    ServiceError,
    StopTimeoutError,
)
from gamelift_backfill.core.tickets import GONE, start_backfill, stop_and_wait
from gamelift_backfill.translate import CLI, phrase
from gamelift_emulator import Emulator, ManualClock
from testkit.world import World, make_world


@pytest.fixture
def world(manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration on an emulator driven by the test's clock."""
    return make_world(
        manual_emulator.control, make_gamelift(manual_emulator.endpoint_url), clock=manual_clock
    )


def stop(world: World, ticket_ids: list[str], **kwargs: Any) -> Any:
    """stop_and_wait on the world's clock, recording events."""
    kwargs.setdefault("timeout_seconds", 60)
    return stop_and_wait(
        world.gamelift,
        ticket_ids,
        clock=world.now,
        sleep=kwargs.pop("sleep", world.sleep),
        on_event=world.events.append,
        **kwargs,
    )


def test_active_ticket_is_cancelled_with_one_stop_and_one_describe(world: World) -> None:
    """An active ticket is stopped, then seen CANCELLED by a single describe after the delay."""
    ticket = world.session()["auto_backfill_ticket_id"]
    report = stop(world, [ticket])
    assert report.stopped == [ticket]
    assert report.final_status == {ticket: "CANCELLED"}
    assert (report.stop_calls, report.describe_calls) == (1, 1)
    assert world.control.calls().get("StopMatchmaking") == 1


def test_first_poll_comes_soon_after_a_200_ms_cancel(world: World) -> None:
    """With AWS-like 200 ms asynchronous cancels, one describe 0.25 s after the stop confirms it."""
    world.control.settings(stop_delay_ms=200)
    ticket = world.session()["auto_backfill_ticket_id"]
    started = world.now()
    report = stop(world, [ticket])
    assert report.final_status == {ticket: "CANCELLED"}
    assert report.describe_calls == 1
    assert world.now() - started <= 0.3


def test_describe_that_never_answers_ends_at_the_deadline(
    world: World, manual_emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """A DescribeMatchmaking left hanging fails the stop near its deadline (not after the
    client's read timeout), naming the ticket, and leaves no thread to block the exit."""
    ticket = world.session()["auto_backfill_ticket_id"]
    proxy = FaultProxy(manual_emulator.endpoint_url)
    proxy.fault("hang", ["DescribeMatchmaking"])
    before = set(threading.enumerate())
    started = time.monotonic()
    try:
        with pytest.raises(EndpointError) as info:
            stop_and_wait(make_gamelift(proxy.endpoint_url), [ticket], timeout_seconds=1)
        elapsed = time.monotonic() - started
        blocking = [t for t in set(threading.enumerate()) - before if not t.daemon]
    finally:
        proxy.close()
    # The deadline (1 s) plus the last look's grace (2 s), not the client's 30 s read timeout:
    # a bound with room for a machine several times slower than this one.
    assert elapsed < 20
    assert blocking == []
    assert ticket in str(info.value)
    assert "DescribeMatchmaking" in str(info.value)
    assert proxy.endpoint_url in str(info.value)


def test_unanswered_stop_is_a_field_not_a_status(
    world: World, manual_emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """A StopMatchmaking still unanswered at the deadline is flagged on the remaining ticket
    (its status stays GameLift's), and phrased for the CLI as a network problem."""
    ticket = world.session()["auto_backfill_ticket_id"]
    proxy = FaultProxy(manual_emulator.endpoint_url)
    proxy.fault("hang", ["StopMatchmaking"])
    try:
        with pytest.raises(StopTimeoutError) as info:
            stop_and_wait(make_gamelift(proxy.endpoint_url), [ticket], timeout_seconds=1)
    finally:
        proxy.close()
    [remaining] = info.value.remaining
    assert remaining.ticket_id == ticket
    assert remaining.stop_unanswered
    assert remaining.status == "UNKNOWN"  # never described: no status seen, no marker added
    assert info.value.unanswered == [ticket]
    assert info.value.remedies[0] == "check_endpoint"
    assert "--endpoint-url" in str(phrase(info.value, CLI))


def test_many_tickets_are_confirmed_in_batches_of_ten(world: World) -> None:
    """25 tickets cost 25 stops and 3 describes: confirmation is batched by 10."""
    tickets = [world.session()["auto_backfill_ticket_id"] for _ in range(25)]
    report = stop(world, tickets, max_concurrency=4)
    assert sorted(report.stopped) == sorted(tickets)
    assert report.stop_calls == 25
    assert report.describe_calls == 3
    assert world.active_tickets() == []


def test_already_final_ticket_counts_as_stopped(world: World) -> None:
    """A COMPLETED ticket is refused by StopMatchmaking and reported already final."""
    ticket = world.session()["auto_backfill_ticket_id"]
    world.control.set_ticket_status(ticket, "COMPLETED")
    report = stop(world, [ticket])
    assert report.already_final == [ticket]
    assert report.final_status[ticket] == "COMPLETED"


def test_unknown_ticket_is_gone(world: World) -> None:
    """A ticket GameLift does not know (NotFound, not described) is reported gone."""
    report = stop(world, ["no-such-ticket"])
    assert report.already_final == ["no-such-ticket"]
    assert report.final_status == {"no-such-ticket": GONE}


def test_placing_ticket_is_waited_out_without_restopping(world: World) -> None:
    """A PLACING ticket is refused once, then polled until it ends on its own."""
    ticket = world.session()["auto_backfill_ticket_id"]
    world.control.set_ticket_status(ticket, "PLACING")
    placement_ends = world.now() + 5

    def sleep(seconds: float) -> None:
        world.sleep(seconds)
        if world.now() >= placement_ends and world.status(ticket) == "PLACING":
            world.control.set_ticket_status(ticket, "COMPLETED")

    report = stop(world, [ticket], sleep=sleep)
    assert report.waited_out == [ticket]
    assert report.final_status[ticket] == "COMPLETED"
    assert report.stop_calls == 1
    assert any(e.kind == "refused" for e in world.events)


def test_timeout_names_each_active_ticket_and_its_status(world: World) -> None:
    """A ticket still PLACING at the deadline raises StopTimeoutError naming it and PLACING."""
    placing = world.session()["auto_backfill_ticket_id"]
    other = world.session()["auto_backfill_ticket_id"]
    world.control.set_ticket_status(placing, "PLACING")
    with pytest.raises(StopTimeoutError) as info:
        stop(world, [placing, other], timeout_seconds=30)
    assert info.value.still_active == {placing: "PLACING"}
    assert placing in str(info.value)
    assert "PLACING" in str(info.value)
    assert info.value.code == "TIMEOUT"
    assert world.status(other) == "CANCELLED"


def test_not_found_while_still_described_is_not_reported_gone(world: World) -> None:
    """A NotFound answer for a ticket DescribeMatchmaking still shows leads to a second stop."""
    ticket = world.session()["auto_backfill_ticket_id"]
    world.control.faults(
        error_rate=1.0, error_codes=["NotFoundException"], operations=["StopMatchmaking"]
    )

    def sleep(seconds: float) -> None:
        world.control.clear_faults()
        world.sleep(seconds)

    report = stop(world, [ticket], sleep=sleep)
    assert report.stopped == [ticket]
    assert report.final_status[ticket] == "CANCELLED"
    assert report.stop_calls == 2


def test_progress_events_never_carry_player_ids(world: World) -> None:
    """Events name tickets and statuses only."""
    session = world.session()
    stop(world, [session["auto_backfill_ticket_id"]])
    teams = json.loads(session["MatchmakerData"])["teams"]
    players = [p["playerId"] for team in teams for p in team["players"]]
    text = repr(world.events)
    assert world.events
    assert not any(p in text for p in players)


def test_start_backfill_derives_players_from_matchmaker_data(world: World) -> None:
    """Without players, the game session's MatchmakerData gives them (IDs, teams, attributes)."""
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.session("manual")
    ticket = start_backfill(
        world.gamelift,
        configuration_name="manual",
        game_session_arn=session["GameSessionId"],
        ticket_id="my-ticket",
    )
    assert ticket["TicketId"] == "my-ticket"
    described = world.gamelift.describe_matchmaking(TicketIds=["my-ticket"])["TicketList"][0]
    players = {p["PlayerId"]: p for p in described["Players"]}
    assert len(players) == 2
    assert {p.get("Team") for p in players.values()} <= {"red", "blue"}
    assert all(p["PlayerAttributes"]["skill"] == {"N": 10.0} for p in players.values())


def test_start_backfill_generates_a_ticket_id(world: World) -> None:
    """Without ticket_id, a fresh one is chosen (so a rollback can always name it)."""
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.session("manual")
    ticket = start_backfill(
        world.gamelift, configuration_name="manual", game_session_arn=session["GameSessionId"]
    )
    assert world.status(ticket["TicketId"]) in ("QUEUED", "SEARCHING")


def test_start_backfill_rolls_back_when_a_later_step_fails(world: World) -> None:
    """If anything fails after the ticket started, the ticket is stopped before raising."""
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.session("manual")

    def fail(_: dict[str, Any]) -> None:
        raise RuntimeError("state could not be written")

    with pytest.raises(ServiceError, match="state could not be written"):
        start_backfill(
            world.gamelift,
            configuration_name="manual",
            game_session_arn=session["GameSessionId"],
            ticket_id="rolled-back",
            on_started=fail,
        )
    world.sleep(1)
    assert world.status("rolled-back") == "CANCELLED"


def test_start_backfill_errors_do_not_leak_player_ids(world: World) -> None:
    """A refused start names the ticket and configuration but never a player ID."""
    players = [{"PlayerId": "secret-player-7", "PlayerAttributes": {"skill": {"N": 1.0}}}]
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is asserted below
        start_backfill(world.gamelift, configuration_name="missing", players=players)
    assert "secret-player-7" not in str(info.value)
    assert info.value.code == "NOT_FOUND"  # type: ignore[attr-defined]


def test_session_without_matchmaker_data_asks_for_players(world: World) -> None:
    """Players cannot be derived from a session FlexMatch did not make: an error on players."""
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.gamelift.create_game_session(
        FleetId=world.fleet_id, MaximumPlayerSessionCount=4
    )
    with pytest.raises(MatchmakerDataError) as info:
        start_backfill(
            world.gamelift,
            configuration_name="manual",
            game_session_arn=session["GameSession"]["GameSessionId"],
        )
    assert info.value.fields == ["players"]
    assert world.control.calls().get("StartMatchBackfill", 0) == 0


def test_refused_start_stops_nothing(world: World) -> None:
    """A start refused because the chosen ID exists fails without stopping that ticket."""
    existing = world.session()["auto_backfill_ticket_id"]
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.session("manual")
    with pytest.raises(ServiceError, match="already exists"):
        start_backfill(
            world.gamelift,
            configuration_name="manual",
            game_session_arn=session["GameSessionId"],
            ticket_id=existing,
        )
    assert "StopMatchmaking" not in world.control.calls()
    assert world.status(existing) in ("QUEUED", "SEARCHING")


def test_lost_start_of_a_generated_id_is_rolled_back(world: World) -> None:
    """A 5xx answer leaves the start in doubt: a ticket ID chosen here is stopped anyway."""
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.session("manual")
    world.control.faults(error_rate=1.0, operations=["StartMatchBackfill"])
    with pytest.raises(ServiceError):
        start_backfill(
            world.gamelift, configuration_name="manual", game_session_arn=session["GameSessionId"]
        )
    assert world.control.calls().get("StopMatchmaking") == 1


def test_lost_start_of_a_chosen_id_is_left_alone_with_advice(world: World) -> None:
    """A caller's ticket ID may name someone else's ticket: not stopped, the error says so."""
    world.configuration("manual", backfill_mode="MANUAL")
    session = world.session("manual")
    world.control.faults(error_rate=1.0, operations=["StartMatchBackfill"])
    with pytest.raises(ServiceError, match="may have started") as info:
        start_backfill(
            world.gamelift,
            configuration_name="manual",
            game_session_arn=session["GameSessionId"],
            ticket_id="chosen",
        )
    assert [(t.ticket_id, t.status) for t in info.value.remaining] == [("chosen", "UNKNOWN")]
    assert "stop_remaining" in info.value.remedies
    assert "gamelift-backfill status chosen" in str(phrase(info.value, CLI))
    assert "StopMatchmaking" not in world.control.calls()
