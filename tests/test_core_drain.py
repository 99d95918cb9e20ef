"""Discovery and the drain against the emulator, over HTTP with real boto3."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fault_helpers import FaultProxy

from gamelift_backfill.core.discovery import DiscoveryStats, backfill_ticket_ids
from gamelift_backfill.core.drain import count_active, drain
from gamelift_backfill.core.errors import EndpointError, StopTimeoutError
from gamelift_backfill.core.tickets import ProgressEvent
from gamelift_emulator import Emulator, ManualClock
from testkit.world import World, make_world


@pytest.fixture
def world(manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration on an emulator driven by the test's clock."""
    return make_world(
        manual_emulator.control, make_gamelift(manual_emulator.endpoint_url), clock=manual_clock
    )


def run_drain(world: World, fleet_ids: list[str], **kwargs: Any) -> Any:
    """drain on the world's clock, recording events."""
    kwargs.setdefault("timeout_seconds", 120)
    return drain(
        world.gamelift,
        fleet_ids,
        clock=world.now,
        sleep=kwargs.pop("sleep", world.sleep),
        on_event=kwargs.pop("on_event", world.events.append),
        **kwargs,
    )


def test_discovery_reads_every_page(world: World) -> None:
    """All sessions' automatic tickets are found across many pages."""
    tickets = {world.session()["auto_backfill_ticket_id"] for _ in range(23)}
    stats = DiscoveryStats()
    found = list(backfill_ticket_ids(world.gamelift, [world.fleet_id], stats=stats, page_size=5))
    assert set(found) == tickets
    assert stats.sessions == 23
    assert stats.pages >= 5


def test_discovery_covers_remote_locations_arns_and_aliases(
    world: World, manual_emulator: Emulator
) -> None:
    """Sessions in a remote location are listed, by fleet ARN and by alias ID alike."""
    home = world.session()["auto_backfill_ticket_id"]
    remote = world.session(location="us-west-2")["auto_backfill_ticket_id"]
    alias = manual_emulator.backend().seed_alias(world.fleet_id)["alias_id"]
    for fleet in (world.fleet_id, world.fleet_arn, alias):
        assert set(backfill_ticket_ids(world.gamelift, [fleet])) == {home, remote}


def test_missing_fleet_is_reported_not_raised(world: World) -> None:
    """A fleet that no longer exists is recorded as missing and the others are listed."""
    ticket = world.session()["auto_backfill_ticket_id"]
    stats = DiscoveryStats()
    found = list(backfill_ticket_ids(world.gamelift, ["fleet-gone", world.fleet_id], stats=stats))
    assert found == [ticket]
    assert stats.missing_fleets == ["fleet-gone"]


def test_configuration_filter_by_name_or_arn(world: World) -> None:
    """Only sessions whose MatchmakerData names the configuration are kept."""
    mine = world.session("cfg")["auto_backfill_ticket_id"]
    world.session("other")
    arn = world.configuration("cfg")["ConfigurationArn"]
    for name in ("cfg", arn):
        found = list(backfill_ticket_ids(world.gamelift, [world.fleet_id], configuration_name=name))
        assert found == [mine]


@pytest.mark.parametrize("cancel_ms", [100, 200])
def test_drain_stops_everything_within_the_call_budget(world: World, cancel_ms: int) -> None:
    """60 tickets drained with at most 1.2 calls each beyond the listing pages, in one pass
    with no watch and no configuration lookup: every session's ticket was stopped by us."""
    world.control.settings(stop_delay_ms=cancel_ms)
    for _ in range(60):
        world.session()
    report = run_drain(world, [world.fleet_id], max_concurrency=8)
    calls = world.control.calls()
    assert world.active_tickets() == []
    assert report.found_active == 60
    assert report.stopped == 60
    assert calls["StopMatchmaking"] == 60
    assert calls["StopMatchmaking"] + calls["DescribeMatchmaking"] <= 1.2 * 60
    assert report.passes == 1
    assert report.watched == 0
    assert "DescribeMatchmakingConfigurations" not in calls
    kinds = {e.kind for e in world.events}
    assert {"pass", "found", "stopping", "stopped", "remaining"} <= kinds
    assert "watching" not in kinds


def test_stops_have_a_client_of_their_own(
    world: World, manual_emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """StopMatchmaking goes through ``stop_client`` and every read through the other client,
    so throttled stops cannot slow the reads down (botocore's rate limiter is per client)."""
    for _ in range(12):
        world.session()
    stop_client = make_gamelift(manual_emulator.endpoint_url)
    seen: dict[str, Counter[str]] = {"read": Counter(), "stop": Counter()}
    for role, client in (("read", world.gamelift), ("stop", stop_client)):
        client.meta.events.register(
            "before-call.gamelift",
            lambda model, counts=seen[role], **_: counts.update([model.name]),
        )
    run_drain(world, [world.fleet_id], stop_client=stop_client)
    assert world.active_tickets() == []
    assert set(seen["stop"]) == {"StopMatchmaking"}
    assert seen["stop"]["StopMatchmaking"] == 12
    assert "StopMatchmaking" not in seen["read"]
    assert {"DescribeGameSessions", "DescribeMatchmaking"} <= set(seen["read"])


def test_drain_with_every_call_hanging_ends_at_the_deadline(
    world: World, manual_emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """An endpoint that answers nothing fails the drain near its deadline, naming the fleet and
    the endpoint, with no thread left that would keep the process alive."""
    world.session()
    proxy = FaultProxy(manual_emulator.endpoint_url)
    proxy.fault("hang")
    before = set(threading.enumerate())
    started = time.monotonic()
    try:
        with pytest.raises(EndpointError) as info:
            drain(make_gamelift(proxy.endpoint_url), [world.fleet_id], timeout_seconds=1)
        elapsed = time.monotonic() - started
        blocking = [t for t in set(threading.enumerate()) - before if not t.daemon]
    finally:
        proxy.close()
    # The deadline (1 s) plus the last look's grace (2 s), not the client's 30 s read timeout:
    # a bound with room for a machine several times slower than this one.
    assert elapsed < 20
    assert blocking == []
    assert world.fleet_id in str(info.value)
    assert "DescribeGameSessions" in str(info.value)
    assert proxy.endpoint_url in str(info.value)


def test_drain_catches_tickets_regenerated_meanwhile(world: World) -> None:
    """A PLACING ticket that times out is replaced by GameLift; the session is watched and the
    next pass stops the new one."""
    placing = world.session()["auto_backfill_ticket_id"]
    others = [world.session()["auto_backfill_ticket_id"] for _ in range(3)]
    world.control.set_ticket_status(placing, "PLACING")
    times_out_at = world.now() + 3

    def sleep(seconds: float) -> None:
        world.sleep(seconds)
        if world.now() >= times_out_at and world.status(placing) == "PLACING":
            world.control.set_ticket_status(placing, "TIMED_OUT")

    report = run_drain(world, [world.fleet_id], sleep=sleep)
    assert world.active_tickets() == []
    assert report.passes == 2
    assert report.watched == 1
    assert report.found_active == 5  # 4 listed first, then the replacement
    assert report.waited_out == 1
    assert report.stopped == 4
    assert set(others) <= {t["TicketId"] for t in world.control.tickets()}


def test_drain_is_not_done_while_a_ticket_ended_between_listing_and_describe(
    world: World, manual_emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """A ticket that completes by itself after the listing named it, and before DescribeMatchmaking
    looks at it, makes GameLift start a new automatic ticket the listing never saw: the drain
    lists again instead of reporting success with that new ticket active (found by the long
    soak, scenario 359: a backfill completing a match in the middle of a drain)."""
    ended = world.session()["auto_backfill_ticket_id"]
    proxy = FaultProxy(manual_emulator.endpoint_url)
    completed = proxy.on(
        "DescribeMatchmaking",
        lambda _: world.control.set_ticket_status(ended, "COMPLETED"),
        before=True,
    )
    try:
        report = drain(
            make_gamelift(proxy.endpoint_url),
            [world.fleet_id],
            clock=world.now,
            sleep=world.sleep,
            timeout_seconds=60,
        )
    finally:
        proxy.close()
    assert completed.is_set()
    assert world.active_tickets() == []
    assert report.found_active == 1  # the replacement, found by the pass after
    assert report.stopped == 1


def test_drain_honours_the_configuration_filter_and_extra_tickets(world: World) -> None:
    """Tickets of other configurations stay; explicit ticket_ids are stopped too."""
    mine = world.session("cfg")["auto_backfill_ticket_id"]
    theirs = world.session("other")["auto_backfill_ticket_id"]
    extra = world.session("other")["auto_backfill_ticket_id"]
    report = run_drain(world, [world.fleet_id], configuration_name="cfg", ticket_ids=[extra])
    assert report.found_active == 2
    assert world.status(mine) == "CANCELLED"
    assert world.status(extra) == "CANCELLED"
    assert world.status(theirs) in ("QUEUED", "SEARCHING")


def test_drain_tolerates_a_missing_fleet(world: World) -> None:
    """A deleted fleet has nothing to drain: reported, with an event, not an error."""
    world.session()
    report = run_drain(world, ["fleet-deleted", world.fleet_id])
    assert report.missing_fleets == ["fleet-deleted"]
    assert ProgressEvent("fleet_missing", fleet_id="fleet-deleted") in world.events
    assert world.active_tickets() == []


def test_drain_timeout_names_what_is_still_active(world: World) -> None:
    """A ticket stuck in PLACING fails the drain with its ID and status after the deadline."""
    stuck = world.session()["auto_backfill_ticket_id"]
    world.session()
    world.control.set_ticket_status(stuck, "PLACING")
    with pytest.raises(StopTimeoutError) as info:
        run_drain(world, [world.fleet_id], timeout_seconds=20)
    assert info.value.still_active == {stuck: "PLACING"}


def test_second_drain_after_a_timeout_finishes(world: World) -> None:
    """After a timed-out drain, the next drain (the next destroy) finishes the job: the
    tickets the first one stopped count as turned off, and the replacement GameLift started
    when the stuck placement failed is stopped."""
    stuck, other = world.tickets(2)
    world.control.set_ticket_status(stuck, "PLACING")
    with pytest.raises(StopTimeoutError):
        run_drain(world, [world.fleet_id], timeout_seconds=5)
    assert world.status(other) == "CANCELLED"
    world.control.set_ticket_status(stuck, "FAILED")  # the placement ended meanwhile
    (replacement,) = world.active_tickets()
    report = run_drain(world, [world.fleet_id])
    assert world.active_tickets() == []
    assert report.found_active == 1
    assert report.passes == 1
    assert world.status(replacement) == "CANCELLED"


def test_count_active(world: World) -> None:
    """count_active counts active automatic tickets without stopping anything."""
    first = world.session()["auto_backfill_ticket_id"]
    world.session()
    world.control.settings(auto_backfill_regenerate=False)
    world.control.set_ticket_status(first, "COMPLETED")
    count = count_active(world.gamelift, [world.fleet_id, "fleet-gone"])
    assert count.active == 1
    assert count.missing_fleets == ["fleet-gone"]
    assert world.control.calls().get("StopMatchmaking", 0) == 0
