"""The fault matrix: BackfillTicket and BackfillGuard deletes through each front end's real
plugin, under faults. Every row runs against both front ends (``front_end``: the dynamic
provider's plugin and the native plugin, driven alike by `fault_helpers.FrontEnd`).

Every row ends one of two ways, and the tests assert which:

- success, with no active ticket left on the emulator (``/_emulator/tickets``);
- a clear error (naming the ticket(s) or fleet still in question; through the dynamic
  plugin, the core's error class too), the delete raised so the engine keeps the resource
  in state, and a second delete from the same state succeeds once the fault is gone, with
  no active ticket left.

Resources are created with ``endpoint_url`` = a `FaultProxy` in front of the shared emulator,
so the proxy is stored in state and sits on the path of every delete. Faults come from the
emulator's seeded fault injection or from the proxy; events "during the delete" are run by the
proxy at an exact point of the traffic (after the first StopMatchmaking reached GameLift, before
the second page of a listing), never after a sleep. The matrix is documented in
docs/RELIABILITY.md ("Fault matrix").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import gamelift_client
from fault_helpers import FRONT_ENDS, FaultProxy, FrontEnd, Kind, Target, front_end_plugin

import gamelift_emulator.sigv4
from gamelift_backfill.core.clients import READ_TIMEOUT_SECONDS
from gamelift_emulator import Emulator, EmulatorControl, ManualClock
from testkit.plugin_host import PluginError
from testkit.seeding import seed_configuration
from testkit.world import REGION, World, make_world

KINDS: list[Kind] = ["ticket", "guard"]
MANUAL = "manual"  # MANUAL-backfill configuration of BackfillTicket rows
AUTO = "cfg"  # AUTOMATIC-backfill configuration (World's) of BackfillGuard rows
GUARD_SESSIONS = 3
STOP_TIMEOUT = 30  # seconds: rows expected to succeed never get near it
DEADLINE = 2  # seconds: stop_timeout_seconds of rows that wait out the deadline
SECRET = "wrong-secret-do-not-log"


@pytest.fixture(scope="module", params=FRONT_ENDS)
def front_end(request: pytest.FixtureRequest, _session_emulator: Emulator) -> Iterator[FrontEnd]:
    """One plugin of each front end for the module, as one `pulumi destroy` run."""
    with front_end_plugin(request.param, _session_emulator.endpoint_url) as driver:
        yield driver


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[FaultProxy]:
    """A proxy of this test's own (a new endpoint, so the plugin makes a fresh client whose
    retry quota earlier tests did not spend), closed after the test."""
    fault_proxy = FaultProxy(emulator.endpoint_url)
    yield fault_proxy
    fault_proxy.close()


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet on the reset emulator, with a MANUAL and an AUTOMATIC configuration."""
    world = make_world(control, gamelift)
    world.configuration(AUTO)
    seed_configuration(gamelift, MANUAL, backfill_mode="MANUAL", timeout_seconds=600)
    return world


def create(
    front_end: FrontEnd,
    world: World,
    proxy: FaultProxy,
    kind: Kind,
    sessions: int = GUARD_SESSIONS,
    stop_timeout: int = STOP_TIMEOUT,
) -> Target:
    """`pulumi up` of one resource whose stored endpoint is the proxy.

    A BackfillTicket starts a manual backfill for a new session; a BackfillGuard covers the
    fleet, whose ``sessions`` new sessions each have an automatic backfill ticket.
    """
    if kind == "ticket":
        session = world.control.create_game_session(world.fleet_id, MANUAL, 2, 8)
        return front_end.create(
            "ticket",
            [],
            [session["GameSessionId"]],
            configuration_name=MANUAL,
            game_session_arn=session["GameSessionId"],
            endpoint_url=proxy.endpoint_url,
            stop_timeout_seconds=stop_timeout,
        )
    made = [world.session(AUTO) for _ in range(sessions)]
    return front_end.create(
        "guard",
        [s["auto_backfill_ticket_id"] for s in made],
        [s["GameSessionId"] for s in made],
        fleet_ids=[world.fleet_id],
        endpoint_url=proxy.endpoint_url,
        stop_timeout_seconds=stop_timeout,
    )


def assert_nothing_active(world: World) -> None:
    """No ticket of any configuration is active on the emulator, and MANUAL/AUTO are deletable."""
    world.control.clear_faults()  # the delete is over; the checks must not be faulted
    assert world.active_tickets() == []
    assert world.deletable(AUTO)
    assert world.deletable(MANUAL)


def subject(world: World, target: Target) -> list[str]:
    """What an error about the first call of a delete names: the ticket, or the guard's fleet."""
    return target.tickets if target.kind == "ticket" else [world.fleet_id]


# -- transient faults: absorbed by retries -------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_throttling_bursts(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """Token buckets of burst 1 at 2 calls/s (already spent) throttle the delete; botocore's
    backoff absorbs it and the delete succeeds."""
    target = create(front_end, world, proxy, kind)
    operations = ["StopMatchmaking", "DescribeMatchmaking", "DescribeGameSessions"]
    world.control.faults(seed=1, throttle={"rate": 0.5, "burst": 1}, operations=operations)
    world.gamelift.describe_matchmaking(TicketIds=target.tickets)  # spend each bucket's token
    world.gamelift.describe_game_sessions(FleetId=world.fleet_id)
    with pytest.raises(world.gamelift.exceptions.NotFoundException):
        world.gamelift.stop_matchmaking(TicketId="spend-the-token")
    front_end.delete(target)
    assert proxy.errors.get("ThrottlingException", 0) >= 1  # the delete's first call, at least
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_internal_errors_at_30_percent(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """InternalServiceException on 30% of all calls (seeded) is retried; the delete succeeds."""
    target = create(front_end, world, proxy, kind)
    world.control.faults(seed=7, error_rate=0.3, error_codes=["InternalServiceException"])
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_added_latency(front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """150 ms on every call slows the delete down but it succeeds."""
    target = create(front_end, world, proxy, kind)
    world.control.faults(latency_ms=150)
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_connection_resets(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """Connections reset after StopMatchmaking took effect (answer lost) and before a describe
    are retried; the delete succeeds."""
    target = create(front_end, world, proxy, kind)
    proxy.fault("reset_after", ["StopMatchmaking"], count=2)
    proxy.fault("reset", ["DescribeMatchmaking"], count=1)
    front_end.delete(target)
    assert proxy.faulted == {"StopMatchmaking": 2, "DescribeMatchmaking": 1}
    assert_nothing_active(world)


# -- the endpoint fails for longer than a delete -------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_server_stops_answering_stop_matchmaking(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """StopMatchmaking never answered: the delete fails at its deadline naming the tickets;
    once the server answers again a second delete succeeds."""
    target = create(front_end, world, proxy, kind, stop_timeout=DEADLINE)
    proxy.fault("hang", ["StopMatchmaking"])
    message = front_end.failed_delete(target, "StopTimeoutError", target.tickets)
    assert "StopMatchmaking unanswered" in message
    assert "GameLift did not answer StopMatchmaking" in message
    assert front_end.setting("endpoint_url") in message  # in this front end's words
    proxy.clear()
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_server_stops_answering_every_call(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """No call answered at all: the delete fails at its deadline (plus the last look's 2 s),
    not after botocore's read timeouts, naming the ticket or fleet; a second delete succeeds.

    A BackfillTicket's StopMatchmaking is unanswered (StopTimeoutError); a guard's first
    listing page is (EndpointError naming the fleet, the call and the endpoint).
    """
    target = create(front_end, world, proxy, kind, stop_timeout=DEADLINE)
    proxy.fault("hang")
    started = time.monotonic()
    if kind == "ticket":
        message = front_end.failed_delete(target, "StopTimeoutError", target.tickets)
        assert "StopMatchmaking unanswered" in message
    else:
        message = front_end.failed_delete(target, "EndpointError", [world.fleet_id])
        assert "DescribeGameSessions" in message
        assert proxy.endpoint_url in message
    # The bug this guards against waited out botocore's read timeout (20 s) ten times; the
    # deadline plus the last look take ~4 s, so one read timeout is a bound any machine meets.
    assert time.monotonic() - started < READ_TIMEOUT_SECONDS
    proxy.clear()
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_endpoint_down(front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """Nothing listens at the stored endpoint: the delete fails naming the ticket or fleet;
    a second delete succeeds once the endpoint is back.

    A BackfillTicket's StopMatchmaking is still being retried by botocore at the deadline
    (StopTimeoutError, "StopMatchmaking unanswered"); a guard's first listing runs out of
    retries (EndpointError naming the fleet and the endpoint).
    """
    target = create(front_end, world, proxy, kind, stop_timeout=DEADLINE)
    proxy.down()
    if kind == "ticket":
        message = front_end.failed_delete(target, "StopTimeoutError", target.tickets)
        assert "GameLift did not answer StopMatchmaking" in message
        assert front_end.setting("endpoint_url") in message
    else:
        message = front_end.failed_delete(target, "EndpointError", [world.fleet_id])
        assert proxy.endpoint_url in message
    proxy.up()
    front_end.delete(target)
    assert_nothing_active(world)


# -- refusals: not retried, clear at once --------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_secret(front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """A plugin run with a wrong AWS_SECRET_ACCESS_KEY fails with AuthError (secret not shown);
    a run with the right one then succeeds."""
    target = create(front_end, world, proxy, kind)
    with front_end.plugin(env={"AWS_SECRET_ACCESS_KEY": SECRET}) as wrong:
        message = front_end.failed_delete(target, "AuthError", subject(world, target), wrong)
        assert SECRET not in message
        assert SECRET not in wrong.stderr
        assert SECRET not in front_end.logs(wrong)
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_expired_signature(
    front_end: FrontEnd,
    world: World,
    proxy: FaultProxy,
    kind: Kind,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests signed an hour before the emulator's clock (a stale X-Amz-Date) fail with
    AuthError; once the clocks agree a second delete succeeds."""
    target = create(front_end, world, proxy, kind)
    an_hour_ahead = SimpleNamespace(time=lambda: time.time() + 3600, strptime=time.strptime)
    monkeypatch.setattr(gamelift_emulator.sigv4, "time", an_hour_ahead)
    front_end.failed_delete(target, "AuthError", subject(world, target))
    monkeypatch.undo()
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("code", ["AccessDeniedException", "UnauthorizedException"])
@pytest.mark.parametrize("kind", KINDS)
def test_access_denied(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind, code: str
) -> None:
    """IAM refusing every call fails the delete with AuthError naming the operation to allow;
    a second delete succeeds once it is allowed."""
    target = create(front_end, world, proxy, kind)
    world.control.faults(error_rate=1.0, error_codes=[code])
    message = front_end.failed_delete(target, "AuthError", subject(world, target))
    assert code in message
    assert "gamelift:" in message
    world.control.clear_faults()
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_unsupported_region(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """UnsupportedRegionException fails the delete with UnsupportedRegionError naming the
    region; a second delete succeeds once GameLift answers."""
    target = create(front_end, world, proxy, kind)
    world.control.faults(error_rate=1.0, error_codes=["UnsupportedRegionException"])
    message = front_end.failed_delete(target, "UnsupportedRegionError", subject(world, target))
    assert REGION in message
    world.control.clear_faults()
    front_end.delete(target)
    assert_nothing_active(world)


# -- the world changes during the delete ---------------------------------------------------


@pytest.mark.parametrize("status", ["PLACING", "COMPLETED", "TIMED_OUT"])
@pytest.mark.parametrize("kind", KINDS)
def test_ticket_moves_while_being_stopped(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind, status: str
) -> None:
    """A ticket that moves right after its StopMatchmaking was accepted: a final status ends
    the delete successfully; PLACING fails it at the deadline naming the ticket, and a second
    delete succeeds once the placement ended."""
    target = create(front_end, world, proxy, kind, stop_timeout=DEADLINE)
    moved: list[str] = []

    def move(request: dict[str, Any]) -> None:
        moved.append(request["TicketId"])
        world.control.set_ticket_status(request["TicketId"], status)

    fired = proxy.on("StopMatchmaking", move)
    if status == "PLACING":
        message = front_end.failed_delete(target, "StopTimeoutError", moved)
        assert f"{moved[0]} (PLACING)" in message
        assert world.active_tickets() == moved
        world.control.set_ticket_status(moved[0], "COMPLETED")  # the placement ended
        if kind == "guard":
            # The next drain cannot know that the failed one's accepted stop turned this
            # session's backfill off: its ticket ended on its own, so it stays not quiet
            # (never success) until its configuration is MANUAL (disableAutomaticBackfill).
            front_end.failed_delete(target, "NotQuietError", [moved[0]])
            world.gamelift.update_matchmaking_configuration(Name=AUTO, BackfillMode="MANUAL")
        front_end.delete(target)
    else:
        front_end.delete(target)
        assert world.status(moved[0]) == status
    assert fired.is_set()
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_stop_answered_not_found_while_still_described(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """StopMatchmaking answers NotFound for tickets DescribeMatchmaking still shows: the delete
    fails at the deadline naming them (never reports them gone); a second delete succeeds."""
    target = create(front_end, world, proxy, kind, stop_timeout=DEADLINE)
    world.control.faults(
        error_rate=1.0, error_codes=["NotFoundException"], operations=["StopMatchmaking"]
    )
    front_end.failed_delete(target, "StopTimeoutError", target.tickets)
    assert sorted(world.active_tickets()) == sorted(target.tickets)
    world.control.clear_faults()
    front_end.delete(target)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_automatic_ticket_regenerated_during_the_delete(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """A PLACING automatic ticket times out mid-delete and GameLift starts a replacement.

    The guard's next pass stops the replacement: nothing active. A BackfillTicket that adopted
    the automatic ticket succeeds once *its* ticket ended; the replacement is a new ticket that
    only a guard drains, and it is left active (asserted, as documented).
    """
    if kind == "guard":
        target = create(front_end, world, proxy, kind)
    else:
        session = world.session(AUTO)
        ticket_id = session["auto_backfill_ticket_id"]
        target = front_end.create(
            "ticket",
            [ticket_id],
            [session["GameSessionId"]],
            ticket_id=ticket_id,
            endpoint_url=proxy.endpoint_url,
            stop_timeout_seconds=STOP_TIMEOUT,
        )
    placing = target.tickets[0]
    world.control.set_ticket_status(placing, "PLACING")
    fired = proxy.on(
        "StopMatchmaking",
        lambda _: world.control.set_ticket_status(placing, "TIMED_OUT"),
        nth=len(target.tickets),  # every ticket's stop was sent (the PLACING one refused)
    )
    front_end.delete(target)
    assert fired.is_set()
    replacements = [t for t in world.control.tickets() if t["TicketId"] not in target.tickets]
    assert len(replacements) == 1
    assert world.status(placing) == "TIMED_OUT"
    if kind == "guard":
        assert replacements[0]["Status"] == "CANCELLED"
        assert_nothing_active(world)
    else:
        assert world.active_tickets() == [replacements[0]["TicketId"]]


@pytest.mark.parametrize("kind", KINDS)
def test_fleet_deleted_mid_delete(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """The fleet is deleted right after the first StopMatchmaking: its sessions' tickets end,
    and the delete succeeds (a guard that lists again notes the missing fleet)."""
    target = create(front_end, world, proxy, kind)
    fired = proxy.on("StopMatchmaking", lambda _: world.control.delete_fleet(world.fleet_id))
    logged = len(front_end.logs())
    front_end.delete(target)
    assert fired.is_set()
    assert_nothing_active(world)
    log = front_end.logs()[logged:]
    if kind == "guard" and "(1 pass(es)" not in log:
        assert f"fleet {world.fleet_id} not found" in log


@pytest.mark.parametrize("kind", KINDS)
def test_game_sessions_terminate_mid_delete(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """Game sessions terminate right after the first StopMatchmaking: their tickets end with
    them, and the delete succeeds."""
    target = create(front_end, world, proxy, kind)

    def terminate(_: dict[str, Any]) -> None:
        for arn in target.sessions[:2]:
            world.control.terminate_game_session(arn)

    fired = proxy.on("StopMatchmaking", terminate)
    front_end.delete(target)
    assert fired.is_set()
    assert_nothing_active(world)


def test_pages_change_while_listing(front_end: FrontEnd, world: World, proxy: FaultProxy) -> None:
    """Sessions added and terminated between the pages of a listing (120 sessions, pages of
    100): the guard drains every active ticket, the new sessions' included. (BackfillGuard
    only: a BackfillTicket lists nothing.)"""
    target = create(front_end, world, proxy, "guard", sessions=120)
    added: list[str] = []

    def reshuffle(_: dict[str, Any]) -> None:
        for arn in target.sessions[5:8] + target.sessions[105:110]:  # on page 1 and page 2
            world.control.terminate_game_session(arn)
        added.extend(world.session(AUTO)["auto_backfill_ticket_id"] for _ in range(5))

    fired = proxy.on("DescribeGameSessions", reshuffle, before=True, needs="NextToken")
    front_end.delete(target)
    assert fired.is_set()
    assert {world.status(t) for t in added} == {"CANCELLED"}
    assert_nothing_active(world)


# -- GameLift's own dynamics: real matches during the delete -------------------------------


def start_newcomers(world: World, configuration: str, sizes: list[int]) -> list[str]:
    """Matchmaking tickets of fresh players (``sizes``: players per ticket), skill 10."""
    ids = []
    for number, size in enumerate(sizes):
        players = [
            {"PlayerId": f"newcomer-{number}-{i}", "PlayerAttributes": {"skill": {"N": 10}}}
            for i in range(size)
        ]
        ticket = world.gamelift.start_matchmaking(ConfigurationName=configuration, Players=players)
        ids.append(ticket["MatchmakingTicket"]["TicketId"])
    return ids


def statuses(world: World) -> dict[str, str]:
    """Every ticket's status (a control call: the emulator's lifecycle catches up first)."""
    return {t["TicketId"]: t["Status"] for t in world.control.tickets()}


def before_the_stops(proxy: FaultProxy, kind: Kind, callback: Any) -> Any:
    """Run ``callback`` once the delete has looked at the world and before any ticket is
    stopped: after the guard's first listing, or before the BackfillTicket's only stop."""
    if kind == "guard":
        return proxy.on("DescribeGameSessions", callback)
    return proxy.on("StopMatchmaking", callback, before=True)


@pytest.mark.parametrize("kind", KINDS)
def test_a_real_match_is_placing_while_the_delete_runs(
    front_end: FrontEnd, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """Before the first StopMatchmaking, two players queue and match into a backfilled
    session: that backfill ticket is PLACING (StopMatchmaking refused), the delete waits it
    out, and (guard) stops the automatic ticket GameLift starts after it; nothing is left."""
    world.control.settings(queued_ms=0, match_delay_ms=0, placement_ms=1500)
    target = create(front_end, world, proxy, kind)
    configuration = MANUAL if kind == "ticket" else AUTO
    seen: dict[str, str] = {}

    newcomers: list[str] = []

    def newcomers_match(_: dict[str, Any]) -> None:
        newcomers.extend(start_newcomers(world, configuration, [1, 1]))  # one per team
        seen.update(statuses(world))

    fired = before_the_stops(proxy, kind, newcomers_match)
    front_end.delete(target)
    assert fired.is_set()
    placing = [t for t in target.tickets if seen.get(t) == "PLACING"]
    assert len(placing) == 1, seen  # the dynamics happened, not a forced status
    assert [seen[t] for t in newcomers] == ["PLACING", "PLACING"]
    assert world.status(placing[0]) == "COMPLETED"
    assert [world.status(t) for t in newcomers] == ["COMPLETED", "COMPLETED"]
    assert_nothing_active(world)


def test_sessions_fill_up_and_automatic_backfill_ends_by_itself(
    front_end: FrontEnd, world: World, proxy: FaultProxy
) -> None:
    """Between the guard's listing and its first stop, players fill every session: the
    automatic tickets COMPLETE and none is started again (full); the guard succeeds."""
    world.control.settings(queued_ms=0, match_delay_ms=0, placement_ms=0)
    target = create(front_end, world, proxy, "guard")
    seen: dict[str, str] = {}

    def fill(_: dict[str, Any]) -> None:
        start_newcomers(world, AUTO, [3] * (2 * GUARD_SESSIONS))  # 2 + 3 + 3 = 8 per session
        seen.update(statuses(world))

    fired = before_the_stops(proxy, "guard", fill)
    front_end.delete(target)
    assert fired.is_set()
    assert {seen[t] for t in target.tickets} == {"COMPLETED"}
    for arn in target.sessions:
        (session,) = world.gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"]
        assert session["CurrentPlayerSessionCount"] == session["MaximumPlayerSessionCount"]
    automatic = [t for t in world.control.tickets() if t["Automatic"]]
    assert sorted(t["TicketId"] for t in automatic) == sorted(target.tickets)
    assert_nothing_active(world)


def test_backfill_waiting_for_acceptance_is_stopped(
    front_end: FrontEnd, world: World, proxy: FaultProxy
) -> None:
    """With AcceptanceRequired, a newcomer's match holds an automatic ticket in
    REQUIRES_ACCEPTANCE when the guard stops it: it is cancelled, the guard succeeds, and the
    newcomer's own ticket (not backfill: not the guard's to stop) searches again."""
    world.control.settings(queued_ms=0, match_delay_ms=0)
    world.configuration(AUTO)
    world.gamelift.update_matchmaking_configuration(
        Name=AUTO, AcceptanceRequired=True, AcceptanceTimeoutSeconds=600
    )
    target = create(front_end, world, proxy, "guard")
    seen: dict[str, str] = {}

    newcomers: list[str] = []

    def newcomers_match(_: dict[str, Any]) -> None:
        newcomers.extend(start_newcomers(world, AUTO, [1, 1]))
        seen.update(statuses(world))

    fired = before_the_stops(proxy, "guard", newcomers_match)
    front_end.delete(target)
    assert fired.is_set()
    waiting = [t for t in target.tickets if seen.get(t) == "REQUIRES_ACCEPTANCE"]
    assert len(waiting) == 1, seen
    assert [seen[t] for t in newcomers] == ["REQUIRES_ACCEPTANCE"] * 2
    assert world.status(waiting[0]) == "CANCELLED"
    assert sorted(world.active_tickets()) == sorted(newcomers)  # only the game's own requests
    world.control.settings(stop_delay_ms=0)  # the game stops its own requests; at once
    for ticket_id in newcomers:
        world.gamelift.stop_matchmaking(TicketId=ticket_id)
    assert [world.status(t) for t in newcomers] == ["CANCELLED", "CANCELLED"]
    assert_nothing_active(world)


# -- a replacement automatic ticket after a gap (issue 19): done means GameLift starts no more
#
# A session whose automatic ticket ends on its own (here: TIMED_OUT, just before the destroy)
# gets a replacement automatic ticket from GameLift some time later, unless its backfill was
# turned off (a StopMatchmaking GameLift accepted), it is no longer ACTIVE or is full, or its
# configuration is not AUTOMATIC. The emulator runs on a ManualClock with that gap set to
# GAP_SECONDS, so the replacement appears exactly when a row moves the clock: after the pass
# that saw nothing active, late in the watch, or only after the delete gave up. In every row
# the guard never reports success while that session can still get a replacement.

GAP_SECONDS = 600.0  # the emulator's auto_backfill_delay: longer than any delete here
WATCH_TIMEOUT = 30  # seconds: stop_timeout_seconds of rows whose replacement comes in time
LATE_TIMEOUT = 6  # seconds: the row whose replacement comes in the watch's second half


@pytest.fixture
def gap_world(manual_emulator: Emulator, manual_clock: ManualClock) -> World:
    """A fleet and an AUTOMATIC configuration on an emulator whose clock only moves when a
    test moves it; stops land at once, replacements GAP_SECONDS after a ticket ended, and
    ended tickets stay visible far longer than that."""
    control = manual_emulator.control
    control.settings(
        stop_delay_ms=0,
        auto_backfill_delay_ms=GAP_SECONDS * 1000,
        retention_s=GAP_SECONDS * 100,  # ended tickets stay visible, as on GameLift (hours)
    )
    world = make_world(control, gamelift_client(manual_emulator.endpoint_url), clock=manual_clock)
    world.configuration(AUTO)
    return world


@pytest.fixture
def gap_proxy(manual_emulator: Emulator) -> Iterator[FaultProxy]:
    """A proxy in front of the manual-clock emulator, where the rows move its clock."""
    fault_proxy = FaultProxy(manual_emulator.endpoint_url)
    yield fault_proxy
    fault_proxy.close()


def guard_with_an_ended_ticket(
    front_end: FrontEnd, world: World, proxy: FaultProxy, stop_timeout: int
) -> tuple[Target, str]:
    """A guard over GUARD_SESSIONS sessions, then one session's automatic ticket times out
    by itself (not stopped by us): its replacement is due GAP_SECONDS later. The target and
    that session's ARN."""
    target = create(front_end, world, proxy, "guard", stop_timeout=stop_timeout)
    world.control.set_ticket_status(target.tickets[0], "TIMED_OUT")
    return target, target.sessions[0]


def automatic_tickets(world: World) -> dict[str, str]:
    """Every automatic ticket the emulator holds: ID -> status."""
    return {t["TicketId"]: t["Status"] for t in world.control.tickets() if t["Automatic"]}


def replacement_due(world: World) -> None:
    """Move the emulator's clock past the gap: a replacement GameLift still owes appears."""
    world.control.advance_clock(GAP_SECONDS + 1)


def assert_backfill_over_for_good(world: World, target: Target) -> None:
    """After a reported success: the clock moved far past any gap, no automatic ticket is
    active and no new one appeared (every session is quiet), and the configuration can be
    deleted."""
    before = automatic_tickets(world)
    world.control.advance_clock(GAP_SECONDS * 3)
    assert world.active_tickets() == []
    assert automatic_tickets(world).keys() == before.keys()
    assert world.deletable(AUTO)


def test_a_replacement_after_the_pass_that_saw_nothing_active_is_stopped(
    front_end: FrontEnd, gap_world: World, gap_proxy: FaultProxy
) -> None:
    """A replacement that GameLift starts right after a pass of the guard saw no ticket
    active (the session's ticket had ended on its own) is still stopped by the guard,
    which reports success only then; no automatic backfill starts afterwards."""
    world = gap_world
    target, session = guard_with_an_ended_ticket(front_end, world, gap_proxy, WATCH_TIMEOUT)

    def after_a_quiet_listing(_: dict[str, Any]) -> None:
        if not world.active_tickets():  # this pass's listing saw nothing active
            replacement_due(world)

    # Every listing's answer is checked; the first one with nothing active moves the clock
    # (later ones find the replacement active, or nothing owed any more).
    gap_proxy.on("DescribeGameSessions", after_a_quiet_listing, every=True)
    front_end.delete(target)
    replacements = set(automatic_tickets(world)) - set(target.tickets)
    assert len(replacements) == 1, automatic_tickets(world)  # it did appear mid-delete
    assert {world.status(t) for t in replacements} == {"CANCELLED"}
    assert world.status(target.tickets[0]) == "TIMED_OUT"
    assert session in target.sessions
    assert_backfill_over_for_good(world, target)


def test_a_replacement_late_in_the_watch_is_never_left_behind_a_success(
    front_end: FrontEnd, gap_world: World, gap_proxy: FaultProxy
) -> None:
    """A replacement that appears in the second half of the guard's deadline: the guard
    stops it and succeeds, or (no look left before the deadline) fails naming the
    session; never a success with the replacement, or one still owed, behind it (on a
    machine too slow to look in that half, the replacement is still owed at the deadline,
    and the delete must fail)."""
    world = gap_world
    target, session = guard_with_an_ended_ticket(front_end, world, gap_proxy, LATE_TIMEOUT)
    started = time.monotonic()
    moved: list[float] = []

    def late(_: dict[str, Any]) -> None:
        if not moved and time.monotonic() - started >= LATE_TIMEOUT / 2:
            moved.append(time.monotonic() - started)
            replacement_due(world)

    gap_proxy.on("DescribeGameSessions", late, every=True)
    failure: PluginError | None = None
    try:
        front_end.delete(target)
    except PluginError as failed:
        failure = failed
    if not moved:  # a slow machine: no look fell in the second half, so it is still owed
        assert failure is not None, "success with a replacement still owed"
        replacement_due(world)
    if failure is not None:  # the watch had no look left: the session is named
        assert session in failure.details, failure.details
        front_end.delete(target)  # a second destroy stops what appeared
    replacements = set(automatic_tickets(world)) - set(target.tickets)
    assert len(replacements) == 1, automatic_tickets(world)
    assert {world.status(t) for t in replacements} == {"CANCELLED"}
    assert_backfill_over_for_good(world, target)


def test_a_replacement_owed_past_the_deadline_fails_the_delete_naming_the_session(
    front_end: FrontEnd, gap_world: World, gap_proxy: FaultProxy
) -> None:
    """The session's replacement is still owed when the deadline passes (GameLift starts it
    later): the delete fails naming the session, never succeeds; once the replacement
    appears, a second destroy stops it and succeeds, and no backfill starts again."""
    world = gap_world
    target, session = guard_with_an_ended_ticket(front_end, world, gap_proxy, DEADLINE)
    front_end.failed_delete(target, None, [session])
    assert world.active_tickets() == []  # nothing active: what is owed is the replacement
    replacement_due(world)
    (replacement,) = set(automatic_tickets(world)) - set(target.tickets)
    assert world.status(replacement) in ("QUEUED", "SEARCHING")
    front_end.delete(target)
    assert world.status(replacement) == "CANCELLED"
    assert_backfill_over_for_good(world, target)
