"""The fault matrix: BackfillTicket and BackfillGuard deletes through the real plugin, under faults.

Every row ends one of two ways, and the tests assert which:

- success, with no active ticket left on the emulator (``/_emulator/tickets``);
- a clear error (the core's error class, naming the ticket(s) or fleet still in question),
  the delete raised so the engine keeps the resource in state, and a second delete from the
  same state succeeds once the fault is gone, with no active ticket left.

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
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest
from backfill_ticket_helpers import URN as TICKET_URN
from backfill_ticket_helpers import engine_outputs
from fault_helpers import FaultProxy

import gamelift_emulator.sigv4
from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs, BackfillGuardProvider
from gamelift_backfill.backfill_ticket import BackfillTicketArgs, BackfillTicketProvider
from gamelift_backfill.core.clients import READ_TIMEOUT_SECONDS
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import (
    PluginError,
    PluginHost,
    make_urn,
    program_inputs,
    state_round_trip,
    type_token,
)
from testkit.seeding import seed_configuration
from testkit.world import REGION, World, make_world

Kind = Literal["ticket", "guard"]
KINDS: list[Kind] = ["ticket", "guard"]
GUARD_URN = make_urn("guard", type_token(BackfillGuard))
MANUAL = "manual"  # MANUAL-backfill configuration of BackfillTicket rows
AUTO = "cfg"  # AUTOMATIC-backfill configuration (World's) of BackfillGuard rows
GUARD_SESSIONS = 3
STOP_TIMEOUT = 30  # seconds: rows expected to succeed never get near it
DEADLINE = 2  # seconds: stop_timeout_seconds of rows that wait out the deadline
SECRET = "wrong-secret-do-not-log"


@pytest.fixture(scope="module")
def host() -> Iterator[PluginHost]:
    """One plugin for the module, as one `pulumi destroy` run; region from the stack config."""
    with PluginHost(config={"aws:region": REGION}) as plugin_host:
        yield plugin_host


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


@dataclass
class Target:
    """A created resource (as stored in state) and the tickets and sessions it covers."""

    kind: Kind
    id: str
    urn: str
    state: dict[str, Any]
    tickets: list[str]
    sessions: list[str] = field(default_factory=list)

    def delete(self, host: PluginHost) -> None:
        """What `pulumi destroy` does for this resource: Delete with the stored outputs."""
        host.delete(self.id, self.urn, self.state)


def create(
    host: PluginHost,
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
        args = BackfillTicketArgs(
            configuration_name=MANUAL,
            game_session_arn=session["GameSessionId"],
            endpoint_url=proxy.endpoint_url,
            stop_timeout_seconds=stop_timeout,
        )
        props = program_inputs(BackfillTicketProvider(), args.to_props())
        checked = host.check(TICKET_URN, {}, props)
        assert checked.failures == []
        created = host.create(TICKET_URN, checked.inputs)
        state = state_round_trip(engine_outputs(created.outs))
        return Target(kind, created.id, TICKET_URN, state, [created.id], [session["GameSessionId"]])
    made = [world.session(AUTO) for _ in range(sessions)]
    guard_args = BackfillGuardArgs(
        fleet_ids=[world.fleet_id],
        endpoint_url=proxy.endpoint_url,
        stop_timeout_seconds=stop_timeout,
    )
    props = program_inputs(BackfillGuardProvider(), guard_args.to_props())
    checked = host.check(GUARD_URN, {}, props)
    assert checked.failures == []
    created = host.create(GUARD_URN, checked.inputs)
    assert created.outs["active_ticket_count"] == sessions
    return Target(
        kind,
        created.id,
        GUARD_URN,
        state_round_trip(created.outs),
        [s["auto_backfill_ticket_id"] for s in made],
        [s["GameSessionId"] for s in made],
    )


def assert_nothing_active(world: World) -> None:
    """No ticket of any configuration is active on the emulator, and MANUAL/AUTO are deletable."""
    world.control.clear_faults()  # the delete is over; the checks must not be faulted
    assert world.active_tickets() == []
    assert world.deletable(AUTO)
    assert world.deletable(MANUAL)


def failed_delete(host: PluginHost, target: Target, error_class: str, names: list[str]) -> str:
    """Delete, which must fail with ``error_class`` naming each of ``names``; the message."""
    with pytest.raises(PluginError) as raised:
        target.delete(host)
    message = raised.value.provider_message
    assert message.startswith(f"gamelift_backfill.core.errors.{error_class}: "), message
    for name in names:
        assert name in message, (name, message)
    return message


def subject(world: World, target: Target) -> list[str]:
    """What an error about the first call of a delete names: the ticket, or the guard's fleet."""
    return target.tickets if target.kind == "ticket" else [world.fleet_id]


# -- transient faults: absorbed by retries -------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_throttling_bursts(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """Token buckets of burst 1 at 2 calls/s (already spent) throttle the delete; botocore's
    backoff absorbs it and the delete succeeds."""
    target = create(host, world, proxy, kind)
    operations = ["StopMatchmaking", "DescribeMatchmaking", "DescribeGameSessions"]
    world.control.faults(seed=1, throttle={"rate": 2, "burst": 1}, operations=operations)
    world.gamelift.describe_matchmaking(TicketIds=target.tickets)  # spend each bucket's token
    world.gamelift.describe_game_sessions(FleetId=world.fleet_id)
    with pytest.raises(world.gamelift.exceptions.NotFoundException):
        world.gamelift.stop_matchmaking(TicketId="spend-the-token")
    target.delete(host)
    assert proxy.errors.get("ThrottlingException", 0) >= 1  # the delete's first call, at least
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_internal_errors_at_30_percent(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """InternalServiceException on 30% of all calls (seeded) is retried; the delete succeeds."""
    target = create(host, world, proxy, kind)
    world.control.faults(seed=7, error_rate=0.3, error_codes=["InternalServiceException"])
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_added_latency(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """150 ms on every call slows the delete down but it succeeds."""
    target = create(host, world, proxy, kind)
    world.control.faults(latency_ms=150)
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_connection_resets(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """Connections reset after StopMatchmaking took effect (answer lost) and before a describe
    are retried; the delete succeeds."""
    target = create(host, world, proxy, kind)
    proxy.fault("reset_after", ["StopMatchmaking"], count=2)
    proxy.fault("reset", ["DescribeMatchmaking"], count=1)
    target.delete(host)
    assert proxy.faulted == {"StopMatchmaking": 2, "DescribeMatchmaking": 1}
    assert_nothing_active(world)


# -- the endpoint fails for longer than a delete -------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_server_stops_answering_stop_matchmaking(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """StopMatchmaking never answered: the delete fails at its deadline naming the tickets;
    once the server answers again a second delete succeeds."""
    target = create(host, world, proxy, kind, stop_timeout=DEADLINE)
    proxy.fault("hang", ["StopMatchmaking"])
    message = failed_delete(host, target, "StopTimeoutError", target.tickets)
    assert "StopMatchmaking unanswered" in message
    assert "GameLift did not answer StopMatchmaking" in message
    proxy.clear()
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_server_stops_answering_every_call(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """No call answered at all: the delete fails at its deadline (plus the last look's 2 s),
    not after botocore's read timeouts, naming the ticket or fleet; a second delete succeeds.

    A BackfillTicket's StopMatchmaking is unanswered (StopTimeoutError); a guard's first
    listing page is (EndpointError naming the fleet, the call and the endpoint).
    """
    target = create(host, world, proxy, kind, stop_timeout=DEADLINE)
    proxy.fault("hang")
    started = time.monotonic()
    if kind == "ticket":
        message = failed_delete(host, target, "StopTimeoutError", target.tickets)
        assert "StopMatchmaking unanswered" in message
    else:
        message = failed_delete(host, target, "EndpointError", [world.fleet_id])
        assert "DescribeGameSessions" in message
        assert proxy.endpoint_url in message
    # The bug this guards against waited out botocore's read timeout (20 s) ten times; the
    # deadline plus the last look take ~4 s, so one read timeout is a bound any machine meets.
    assert time.monotonic() - started < READ_TIMEOUT_SECONDS
    proxy.clear()
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_endpoint_down(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """Nothing listens at the stored endpoint: the delete fails naming the ticket or fleet;
    a second delete succeeds once the endpoint is back.

    A BackfillTicket's StopMatchmaking is still being retried by botocore at the deadline
    (StopTimeoutError, "StopMatchmaking unanswered"); a guard's first listing runs out of
    retries (EndpointError naming the fleet and the endpoint).
    """
    target = create(host, world, proxy, kind, stop_timeout=DEADLINE)
    proxy.down()
    if kind == "ticket":
        message = failed_delete(host, target, "StopTimeoutError", target.tickets)
        assert "GameLift did not answer StopMatchmaking" in message
        assert "endpoint_url" in message
    else:
        message = failed_delete(host, target, "EndpointError", [world.fleet_id])
        assert proxy.endpoint_url in message
    proxy.up()
    target.delete(host)
    assert_nothing_active(world)


# -- refusals: not retried, clear at once --------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_secret(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind, tmp_path: Path
) -> None:
    """A plugin run with a wrong AWS_SECRET_ACCESS_KEY fails with AuthError (secret not shown);
    a run with the right one then succeeds."""
    target = create(host, world, proxy, kind)
    env = {"AWS_SECRET_ACCESS_KEY": SECRET}
    with PluginHost(config={"aws:region": REGION}, env=env) as wrong:
        message = failed_delete(wrong, target, "AuthError", subject(world, target))
        assert SECRET not in message
        assert SECRET not in wrong.stderr
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_expired_signature(
    host: PluginHost,
    world: World,
    proxy: FaultProxy,
    kind: Kind,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests signed an hour before the emulator's clock (a stale X-Amz-Date) fail with
    AuthError; once the clocks agree a second delete succeeds."""
    target = create(host, world, proxy, kind)
    an_hour_ahead = SimpleNamespace(time=lambda: time.time() + 3600, strptime=time.strptime)
    monkeypatch.setattr(gamelift_emulator.sigv4, "time", an_hour_ahead)
    failed_delete(host, target, "AuthError", subject(world, target))
    monkeypatch.undo()
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("code", ["AccessDeniedException", "UnauthorizedException"])
@pytest.mark.parametrize("kind", KINDS)
def test_access_denied(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind, code: str
) -> None:
    """IAM refusing every call fails the delete with AuthError naming the operation to allow;
    a second delete succeeds once it is allowed."""
    target = create(host, world, proxy, kind)
    world.control.faults(error_rate=1.0, error_codes=[code])
    message = failed_delete(host, target, "AuthError", subject(world, target))
    assert code in message
    assert "gamelift:" in message
    world.control.clear_faults()
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_unsupported_region(host: PluginHost, world: World, proxy: FaultProxy, kind: Kind) -> None:
    """UnsupportedRegionException fails the delete with UnsupportedRegionError naming the
    region; a second delete succeeds once GameLift answers."""
    target = create(host, world, proxy, kind)
    world.control.faults(error_rate=1.0, error_codes=["UnsupportedRegionException"])
    message = failed_delete(host, target, "UnsupportedRegionError", subject(world, target))
    assert REGION in message
    world.control.clear_faults()
    target.delete(host)
    assert_nothing_active(world)


# -- the world changes during the delete ---------------------------------------------------


@pytest.mark.parametrize("status", ["PLACING", "COMPLETED", "TIMED_OUT"])
@pytest.mark.parametrize("kind", KINDS)
def test_ticket_moves_while_being_stopped(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind, status: str
) -> None:
    """A ticket that moves right after its StopMatchmaking was accepted: a final status ends
    the delete successfully; PLACING fails it at the deadline naming the ticket, and a second
    delete succeeds once the placement ended."""
    target = create(host, world, proxy, kind, stop_timeout=DEADLINE)
    moved: list[str] = []

    def move(request: dict[str, Any]) -> None:
        moved.append(request["TicketId"])
        world.control.set_ticket_status(request["TicketId"], status)

    fired = proxy.on("StopMatchmaking", move)
    if status == "PLACING":
        message = failed_delete(host, target, "StopTimeoutError", moved)
        assert f"{moved[0]} (PLACING)" in message
        assert world.active_tickets() == moved
        world.control.set_ticket_status(moved[0], "COMPLETED")  # the placement ended
        if kind == "guard":
            # The next drain cannot know that the failed one's accepted stop turned this
            # session's backfill off: its ticket ended on its own, so it stays not quiet
            # (never success) until its configuration is MANUAL (disableAutomaticBackfill).
            failed_delete(host, target, "NotQuietError", [moved[0]])
            world.gamelift.update_matchmaking_configuration(Name=AUTO, BackfillMode="MANUAL")
        target.delete(host)
    else:
        target.delete(host)
        assert world.status(moved[0]) == status
    assert fired.is_set()
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_stop_answered_not_found_while_still_described(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """StopMatchmaking answers NotFound for tickets DescribeMatchmaking still shows: the delete
    fails at the deadline naming them (never reports them gone); a second delete succeeds."""
    target = create(host, world, proxy, kind, stop_timeout=DEADLINE)
    world.control.faults(
        error_rate=1.0, error_codes=["NotFoundException"], operations=["StopMatchmaking"]
    )
    failed_delete(host, target, "StopTimeoutError", target.tickets)
    assert sorted(world.active_tickets()) == sorted(target.tickets)
    world.control.clear_faults()
    target.delete(host)
    assert_nothing_active(world)


@pytest.mark.parametrize("kind", KINDS)
def test_automatic_ticket_regenerated_during_the_delete(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """A PLACING automatic ticket times out mid-delete and GameLift starts a replacement.

    The guard's next pass stops the replacement: nothing active. A BackfillTicket that adopted
    the automatic ticket succeeds once *its* ticket ended; the replacement is a new ticket that
    only a guard drains, and it is left active (asserted, as documented).
    """
    if kind == "guard":
        target = create(host, world, proxy, kind)
    else:
        session = world.session(AUTO)
        ticket_id = session["auto_backfill_ticket_id"]
        args = BackfillTicketArgs(
            ticket_id=ticket_id, endpoint_url=proxy.endpoint_url, stop_timeout_seconds=STOP_TIMEOUT
        )
        checked = host.check(
            TICKET_URN, {}, program_inputs(BackfillTicketProvider(), args.to_props())
        )
        created = host.create(TICKET_URN, checked.inputs)
        state = state_round_trip(engine_outputs(created.outs))
        target = Target(kind, ticket_id, TICKET_URN, state, [ticket_id], [session["GameSessionId"]])
    placing = target.tickets[0]
    world.control.set_ticket_status(placing, "PLACING")
    fired = proxy.on(
        "StopMatchmaking",
        lambda _: world.control.set_ticket_status(placing, "TIMED_OUT"),
        nth=len(target.tickets),  # every ticket's stop was sent (the PLACING one refused)
    )
    target.delete(host)
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
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """The fleet is deleted right after the first StopMatchmaking: its sessions' tickets end,
    and the delete succeeds (a guard that lists again notes the missing fleet)."""
    target = create(host, world, proxy, kind)
    fired = proxy.on("StopMatchmaking", lambda _: world.control.delete_fleet(world.fleet_id))
    logged = len(host.stderr)
    target.delete(host)
    assert fired.is_set()
    assert_nothing_active(world)
    log = host.stderr[logged:]
    if kind == "guard" and "(1 pass(es)" not in log:
        assert f"fleet {world.fleet_id} not found" in log


@pytest.mark.parametrize("kind", KINDS)
def test_game_sessions_terminate_mid_delete(
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """Game sessions terminate right after the first StopMatchmaking: their tickets end with
    them, and the delete succeeds."""
    target = create(host, world, proxy, kind)

    def terminate(_: dict[str, Any]) -> None:
        for arn in target.sessions[:2]:
            world.control.terminate_game_session(arn)

    fired = proxy.on("StopMatchmaking", terminate)
    target.delete(host)
    assert fired.is_set()
    assert_nothing_active(world)


def test_pages_change_while_listing(host: PluginHost, world: World, proxy: FaultProxy) -> None:
    """Sessions added and terminated between the pages of a listing (120 sessions, pages of
    100): the guard drains every active ticket, the new sessions' included. (BackfillGuard
    only: a BackfillTicket lists nothing.)"""
    target = create(host, world, proxy, "guard", sessions=120)
    added: list[str] = []

    def reshuffle(_: dict[str, Any]) -> None:
        for arn in target.sessions[5:8] + target.sessions[105:110]:  # on page 1 and page 2
            world.control.terminate_game_session(arn)
        added.extend(world.session(AUTO)["auto_backfill_ticket_id"] for _ in range(5))

    fired = proxy.on("DescribeGameSessions", reshuffle, before=True, needs="NextToken")
    target.delete(host)
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
    host: PluginHost, world: World, proxy: FaultProxy, kind: Kind
) -> None:
    """Before the first StopMatchmaking, two players queue and match into a backfilled
    session: that backfill ticket is PLACING (StopMatchmaking refused), the delete waits it
    out, and (guard) stops the automatic ticket GameLift starts after it; nothing is left."""
    world.control.settings(queued_ms=0, match_delay_ms=0, placement_ms=1500)
    target = create(host, world, proxy, kind)
    configuration = MANUAL if kind == "ticket" else AUTO
    seen: dict[str, str] = {}

    newcomers: list[str] = []

    def newcomers_match(_: dict[str, Any]) -> None:
        newcomers.extend(start_newcomers(world, configuration, [1, 1]))  # one per team
        seen.update(statuses(world))

    fired = before_the_stops(proxy, kind, newcomers_match)
    target.delete(host)
    assert fired.is_set()
    placing = [t for t in target.tickets if seen.get(t) == "PLACING"]
    assert len(placing) == 1, seen  # the dynamics happened, not a forced status
    assert [seen[t] for t in newcomers] == ["PLACING", "PLACING"]
    assert world.status(placing[0]) == "COMPLETED"
    assert [world.status(t) for t in newcomers] == ["COMPLETED", "COMPLETED"]
    assert_nothing_active(world)


def test_sessions_fill_up_and_automatic_backfill_ends_by_itself(
    host: PluginHost, world: World, proxy: FaultProxy
) -> None:
    """Between the guard's listing and its first stop, players fill every session: the
    automatic tickets COMPLETE and none is started again (full); the guard succeeds."""
    world.control.settings(queued_ms=0, match_delay_ms=0, placement_ms=0)
    target = create(host, world, proxy, "guard")
    seen: dict[str, str] = {}

    def fill(_: dict[str, Any]) -> None:
        start_newcomers(world, AUTO, [3] * (2 * GUARD_SESSIONS))  # 2 + 3 + 3 = 8 per session
        seen.update(statuses(world))

    fired = before_the_stops(proxy, "guard", fill)
    target.delete(host)
    assert fired.is_set()
    assert {seen[t] for t in target.tickets} == {"COMPLETED"}
    for arn in target.sessions:
        (session,) = world.gamelift.describe_game_sessions(GameSessionId=arn)["GameSessions"]
        assert session["CurrentPlayerSessionCount"] == session["MaximumPlayerSessionCount"]
    automatic = [t for t in world.control.tickets() if t["Automatic"]]
    assert sorted(t["TicketId"] for t in automatic) == sorted(target.tickets)
    assert_nothing_active(world)


def test_backfill_waiting_for_acceptance_is_stopped(
    host: PluginHost, world: World, proxy: FaultProxy
) -> None:
    """With AcceptanceRequired, a newcomer's match holds an automatic ticket in
    REQUIRES_ACCEPTANCE when the guard stops it: it is cancelled, the guard succeeds, and the
    newcomer's own ticket (not backfill: not the guard's to stop) searches again."""
    world.control.settings(queued_ms=0, match_delay_ms=0)
    world.configuration(AUTO)
    world.gamelift.update_matchmaking_configuration(
        Name=AUTO, AcceptanceRequired=True, AcceptanceTimeoutSeconds=600
    )
    target = create(host, world, proxy, "guard")
    seen: dict[str, str] = {}

    newcomers: list[str] = []

    def newcomers_match(_: dict[str, Any]) -> None:
        newcomers.extend(start_newcomers(world, AUTO, [1, 1]))
        seen.update(statuses(world))

    fired = before_the_stops(proxy, "guard", newcomers_match)
    target.delete(host)
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
