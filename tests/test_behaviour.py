"""The shared behaviour below the front ends, called with plain values: a delete's deadline,
clock, sleep, progress, log and words are what the calling front end hands it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from gamelift_backfill.behaviour.common import Waiting
from gamelift_backfill.behaviour.guard import Guard
from gamelift_backfill.behaviour.ticket import Ticket
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_backfill.core.errors import StopTimeoutError
from gamelift_backfill.translate import CLI, NATIVE, ProviderConfig
from gamelift_emulator import Emulator, ManualClock
from testkit.world import REGION, World, make_world


@dataclass
class RecordingLog:
    """A front end's log, as a list of (level, message)."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def info(self, msg: str) -> None:
        self.lines.append(("info", msg))

    def warn(self, msg: str) -> None:
        self.lines.append(("warn", msg))

    def error(self, msg: str) -> None:
        self.lines.append(("error", msg))


@pytest.fixture
def world(
    manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Any
) -> Iterator[World]:
    """A fleet and an AUTOMATIC configuration on an emulator driven by the test's clock."""
    world = make_world(
        manual_emulator.control, make_gamelift(manual_emulator.endpoint_url), clock=manual_clock
    )
    world.configuration("cfg")
    yield world
    clear_client_cache()


def stored(endpoint: str, **props: Any) -> dict[str, Any]:
    """Properties as state holds them: region and endpoint pinned at create."""
    return {"region": REGION, "endpoint_url": endpoint, **props}


def test_a_ticket_delete_waits_on_the_front_ends_clock_until_its_deadline(
    world: World, manual_emulator: Emulator
) -> None:
    """A ticket GameLift will not cancel (PLACING) is waited for on the injected clock and
    sleep, up to the deadline the front end gives (not the stored one), then named in a
    StopTimeoutError; progress goes to the front end's callback."""
    (ticket_id,) = world.tickets(1)
    world.control.set_ticket_status(ticket_id, "PLACING")
    ticket = Ticket(ProviderConfig(), NATIVE, RecordingLog())
    started = world.now()
    waiting = Waiting(
        deadline_seconds=30, clock=world.now, sleep=world.sleep, on_event=world.events.append
    )
    props = stored(manual_emulator.endpoint_url, stop_timeout_seconds=900)
    with pytest.raises(StopTimeoutError) as failed:
        ticket.delete(ticket_id, props, waiting)
    assert [t.ticket_id for t in failed.value.remaining] == [ticket_id]
    assert 30 <= world.now() - started < 900  # the front end's deadline, on its clock
    assert world.events  # progress reached the front end


def test_a_guard_delete_logs_through_the_front_ends_log_in_its_words(
    world: World, manual_emulator: Emulator
) -> None:
    """A drain that cannot finish logs its failure through the log it was given, with the
    fix in the given phrasebook's words (the CLI's --timeout, not a Pulumi setting)."""
    (ticket_id,) = world.tickets(1)
    world.control.set_ticket_status(ticket_id, "PLACING")
    log = RecordingLog()
    guard = Guard(ProviderConfig(), CLI, log)
    props = stored(manual_emulator.endpoint_url, fleet_ids=[world.fleet_id])
    waiting = Waiting(deadline_seconds=20, clock=world.now, sleep=world.sleep)
    with pytest.raises(StopTimeoutError):
        guard.delete("guard-1", props, waiting)
    errors = [msg for level, msg in log.lines if level == "error"]
    assert len(errors) == 1
    assert "--timeout" in errors[0]
    assert "stop_timeout_seconds" not in errors[0]


def test_a_guard_delete_returns_what_it_drained(world: World, manual_emulator: Emulator) -> None:
    """Every active ticket of the fleet stopped; the report and the log's summary say so."""
    world.tickets(3)
    log = RecordingLog()
    guard = Guard(ProviderConfig(), NATIVE, log)
    props = stored(manual_emulator.endpoint_url, fleet_ids=[world.fleet_id])
    report = guard.delete("guard-1", props, Waiting(clock=world.now, sleep=world.sleep))
    assert report.found_active == 3
    assert world.active_tickets() == []
    assert any("drained: 3 active backfill ticket(s) found" in msg for _, msg in log.lines)
