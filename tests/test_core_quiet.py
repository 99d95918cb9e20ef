"""The drain's definition of done: every game session quiet (issue 19), on a ManualClock.

A replacement automatic ticket starts some time after a session's ticket ends on its own
(the emulator's ``auto_backfill_delay_ms``); the drain must neither report success before
it could appear nor wait when nothing can start.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gamelift_backfill.core.discovery import ListedSession
from gamelift_backfill.core.drain import WATCH_BACKOFF, DrainReport, drain
from gamelift_backfill.core.errors import NotQuietError, StopTimeoutError
from gamelift_backfill.core.quiet import QuietJudge
from gamelift_emulator import Emulator, ManualClock
from testkit.world import SESSION_MAX_PLAYERS, World, make_world

DELAY_MS = 5000.0
TIMEOUT = 120.0


@pytest.fixture
def world(manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration on an emulator driven by the test's clock."""
    return make_world(
        manual_emulator.control, make_gamelift(manual_emulator.endpoint_url), clock=manual_clock
    )


def run_drain(world: World, **kwargs: Any) -> DrainReport:
    """drain of the world's fleet on the world's clock, recording events."""
    kwargs.setdefault("timeout_seconds", TIMEOUT)
    return drain(
        world.gamelift,
        [world.fleet_id],
        clock=world.now,
        sleep=kwargs.pop("sleep", world.sleep),
        on_event=world.events.append,
        **kwargs,
    )


def automatic_tickets(world: World, session_arn: str) -> list[tuple[str, str]]:
    """The session's automatic tickets, oldest first: (ID, status)."""
    return [
        (t["TicketId"], t["Status"])
        for t in world.control.tickets()
        if t.get("Automatic") and t.get("GameSessionArn") == session_arn
    ]


def test_a_replacement_after_the_last_pass_is_caught_and_stopped(world: World) -> None:
    """A session whose ticket ended on its own just before the drain gets its replacement
    5 s later, after a pass that saw nothing active: the drain watches, stops it, and only
    then succeeds; no automatic ticket starts for that session ever after."""
    world.control.settings(auto_backfill_delay_ms=DELAY_MS)
    gap = world.session()
    busy = world.session()
    world.control.set_ticket_status(gap["auto_backfill_ticket_id"], "TIMED_OUT")
    started = world.now()
    report = run_drain(world)
    elapsed = world.now() - started
    (first, ended), (replacement, status) = automatic_tickets(world, gap["GameSessionId"])
    assert (first, ended) == (gap["auto_backfill_ticket_id"], "TIMED_OUT")
    assert status == "CANCELLED"
    assert world.status(busy["auto_backfill_ticket_id"]) == "CANCELLED"
    assert report.found_active == 2
    assert report.watched >= 1
    assert DELAY_MS / 1000 <= elapsed <= 2 * DELAY_MS / 1000 + WATCH_BACKOFF.initial
    world.sleep(TIMEOUT * 10)
    assert world.active_tickets() == []
    (listed,) = world.gamelift.describe_game_sessions(GameSessionId=gap["GameSessionId"])[
        "GameSessions"
    ]
    assert json.loads(listed["MatchmakerData"])["autoBackfillTicketId"] == replacement
    assert world.deletable()


def test_a_ticket_completing_during_the_drain_is_watched_until_its_replacement(
    world: World,
) -> None:
    """A ticket the drain saw active that then ends on its own (its stop refused while it
    was PLACING) leaves the session not quiet until the replacement is stopped."""
    world.control.settings(auto_backfill_delay_ms=DELAY_MS)
    session = world.session()
    placing = session["auto_backfill_ticket_id"]
    world.control.set_ticket_status(placing, "PLACING")
    completes_at = world.now() + 2

    def sleep(seconds: float) -> None:
        world.sleep(seconds)
        if world.now() >= completes_at and world.status(placing) == "PLACING":
            world.control.set_ticket_status(placing, "COMPLETED")

    report = run_drain(world, sleep=sleep)
    statuses = [status for _, status in automatic_tickets(world, session["GameSessionId"])]
    assert statuses == ["COMPLETED", "CANCELLED"]
    assert report.waited_out == 1
    assert report.stopped == 1
    assert world.active_tickets() == []


def test_the_deadline_with_a_session_not_quiet_fails_naming_it(world: World) -> None:
    """A replacement due after the deadline: the drain ends at the deadline with
    NotQuietError (TIMEOUT, exit 7) naming the session and why, never with success."""
    world.control.settings(auto_backfill_delay_ms=TIMEOUT * 2 * 1000)
    gap = world.session()
    quiet = world.session()
    ended = gap["auto_backfill_ticket_id"]
    world.control.set_ticket_status(ended, "COMPLETED")
    started = world.now()
    with pytest.raises(NotQuietError) as info:
        run_drain(world, timeout_seconds=60)
    assert isinstance(info.value, StopTimeoutError)
    assert (info.value.code, info.value.exit_code) == ("TIMEOUT", 7)
    (session,) = info.value.sessions
    assert (session.game_session_arn, session.ticket_id) == (gap["GameSessionId"], ended)
    assert session.ticket_status == "COMPLETED"
    assert gap["GameSessionId"] in info.value.message
    assert f"{ended} ended COMPLETED" in info.value.message
    assert quiet["GameSessionId"] not in info.value.message
    assert world.now() - started == pytest.approx(60)
    assert any(e.kind == "watching" for e in world.events)


def test_when_every_ticket_is_stopped_by_us_there_is_no_extra_pass_or_wait(world: World) -> None:
    """Every session's ticket stopped by us: one pass, no watch, no configuration lookup, and
    the clock moves only by the confirmation polls (less than one watch pause)."""
    world.control.settings(auto_backfill_delay_ms=DELAY_MS)
    for _ in range(25):
        world.session()
    started = world.now()
    report = run_drain(world)
    assert (report.passes, report.watched, report.stopped) == (1, 0, 25)
    assert world.now() - started < WATCH_BACKOFF.initial
    assert "DescribeMatchmakingConfigurations" not in world.control.calls()


def test_sessions_of_a_manual_configuration_are_quiet_with_one_lookup(world: World) -> None:
    """Sessions of a MANUAL configuration (no automatic ticket) and of a configuration
    turned MANUAL during a ticket's gap are quiet: one pass, one DescribeMatchmakingConfigurations
    per configuration however many sessions it has."""
    world.control.settings(auto_backfill_delay_ms=DELAY_MS)
    world.configuration("manual", backfill_mode="MANUAL")
    for _ in range(3):
        world.session("manual")
    gap = world.session()
    world.session()
    world.control.set_ticket_status(gap["auto_backfill_ticket_id"], "TIMED_OUT")
    world.gamelift.update_matchmaking_configuration(Name="cfg", BackfillMode="MANUAL")
    report = run_drain(world)
    assert (report.passes, report.watched) == (1, 0)
    assert report.configuration_calls == 2
    assert world.control.calls()["DescribeMatchmakingConfigurations"] == 2


def test_full_sessions_are_quiet_without_a_lookup(world: World) -> None:
    """A full session (no open slot) can start no backfill: quiet, nothing looked up."""
    world.configuration()
    world.control.create_game_session(
        world.fleet_id, "cfg", SESSION_MAX_PLAYERS, SESSION_MAX_PLAYERS, region=world.region
    )
    report = run_drain(world)
    assert (report.passes, report.watched, report.sessions) == (1, 0, 1)
    assert "DescribeMatchmakingConfigurations" not in world.control.calls()


def test_a_watched_session_that_terminates_is_quiet(world: World) -> None:
    """A session watched for its replacement that ends (no longer ACTIVE) is quiet: the
    drain succeeds without waiting for the deadline."""
    world.control.settings(auto_backfill_delay_ms=TIMEOUT * 2 * 1000)
    gap = world.session()
    world.control.set_ticket_status(gap["auto_backfill_ticket_id"], "TIMED_OUT")

    def sleep(seconds: float) -> None:
        world.sleep(seconds)
        world.control.terminate_game_session(gap["GameSessionId"], region=world.region)

    started = world.now()
    report = run_drain(world, sleep=sleep)
    assert (report.passes, report.watched) == (2, 1)
    assert world.now() - started == pytest.approx(WATCH_BACKOFF.initial)


def test_an_activating_session_is_watched_and_lookups_are_cached() -> None:
    """An ACTIVATING session of an AUTOMATIC configuration may start backfill once ACTIVE:
    not quiet; each configuration is looked up once, and only when no cheaper rule decides."""
    asked: list[str] = []

    def read(what: str, fn: Any, client: Any, configuration: str) -> str:
        asked.append(configuration)
        return "AUTOMATIC"

    def session(
        arn: str, status: str = "ACTIVE", ticket: str | None = "t", full: bool = False
    ) -> ListedSession:
        return ListedSession(arn, status, ticket, "arn:cfg/auto", 8 if full else 2, 8)

    judge = QuietJudge(client=None, accepted={"stopped"}, read=read)
    judge.saw("t", "COMPLETED")
    judge.saw("stopped", "CANCELLED")
    sessions = [
        session("activating", status="ACTIVATING", ticket=None),
        session("full", full=True),
        session("ours", ticket="stopped"),
        session("ended"),
    ]
    states = judge.not_quiet(sessions)
    assert [(s.game_session_arn, s.ticket_status) for s in states] == [
        ("activating", None),
        ("ended", "COMPLETED"),
    ]
    assert "ACTIVATING" in states[0].reason
    assert asked == ["arn:cfg/auto"]
