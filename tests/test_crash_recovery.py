"""Crash recovery: a plugin killed (SIGKILL) mid-teardown or mid-create loses no ticket.

The engine keeps a resource in state until its delete returns, and records a created one
only when Create answers. So after a crash the next `pulumi destroy` deletes again from
the same state, and the next `pulumi up` creates again: both must finish the job. The
emulator runs on a ManualClock here, so tickets end exactly when a test moves time on
(never while a plugin is being killed), and each kill happens at a point the emulator's
call counters show, not after a guessed sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
from backfill_ticket_helpers import URN, engine_outputs, plugin, seed
from conftest import gamelift_client
from guard_helpers import calls, wait_for, when
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import settings

from gamelift_backfill.backfill_guard import BackfillGuardArgs, BackfillGuardProvider
from gamelift_backfill.backfill_ticket import (
    DERIVED_KEY,
    BackfillTicket,
    BackfillTicketArgs,
    BackfillTicketProvider,
)
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_backfill.core.errors import InputError
from gamelift_backfill.core.starting import derive_ticket_id
from gamelift_backfill.core.waiters import ACTIVE_STATUSES as ACTIVE
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import PluginError, make_urn, program_inputs, state_round_trip
from testkit.world import World, make_world

GUARD_URN = make_urn("guard", "pulumi-python:dynamic/gamelift:BackfillGuard")
PROJECT, STACK = "gamelift-backfill", "dev"


@pytest.fixture
def world(manual_emulator: Emulator) -> World:
    """MANUAL configuration `cfg`, AUTOMATIC `auto`, a fleet, on the ManualClock emulator."""
    return seed(gamelift_client(manual_emulator.endpoint_url), manual_emulator.control)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, manual_emulator: Emulator) -> None:
    """For provider classes called in this process: test credentials, the emulator's endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", manual_emulator.endpoint_url)
    clear_client_cache()


def in_background(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` on a thread of its own (a blocking gRPC call the test interrupts)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(function, *args)
    pool.shutdown(wait=False)
    return future


def assert_killed(call: Future[Any]) -> None:
    """The call in flight when the plugin died fails UNAVAILABLE, as the engine sees it."""
    with pytest.raises(PluginError) as raised:
        call.result(timeout=30)
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE


def advance(control: EmulatorControl) -> None:
    """One second of emulator time: a requested cancel lands."""
    control.advance_clock(1)


def active(control: EmulatorControl) -> list[str]:
    return [t["TicketId"] for t in control.tickets() if t["Status"] in ACTIVE]


def registered_inputs(name: str, args: BackfillTicketArgs) -> dict[str, Any]:
    """The inputs `BackfillTicket(name, args)` registers in stack `dev` (SDK mocks)."""
    seen: dict[str, Any] = {}

    class Recorder(pulumi.runtime.Mocks):
        def new_resource(
            self, args: pulumi.runtime.MockResourceArgs
        ) -> tuple[str | None, dict[str, Any]]:
            seen.update(args.inputs)
            return "id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Recorder(), project=PROJECT, stack=STACK)
    try:

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def program() -> pulumi.Output[str]:
            return BackfillTicket(name, args).urn

        program()
    finally:
        settings.reset_options(
            project="project",
            stack="stack",
            root_directory="root_directory",
            organization="organization",
        )
    return seen


def configured() -> BackfillTicketProvider:
    """A provider as the plugin makes it: configured with aws:region = us-east-1."""
    provider = BackfillTicketProvider()
    config = Config(raw_config={"aws:region": "us-east-1"}, project_name=PROJECT)
    provider.configure(ConfigureRequest(config))
    return provider


def create_derived(provider: BackfillTicketProvider, derived: str, **inputs: Any) -> Any:
    """Check then create, with the derived ID the program side adds."""
    news = {**BackfillTicketArgs(**inputs).to_props(), DERIVED_KEY: derived}
    result = provider.check({}, news)
    assert result.failures == []
    return provider.create(result.inputs)


# -- killed deletes ------------------------------------------------------------------------


def test_ticket_delete_killed_mid_wait_is_finished_by_a_new_plugin(
    world: World, manual_emulator: Emulator, tmp_path: Path
) -> None:
    """A ticket delete killed while waiting for the cancel completes from the same state."""
    control = world.control
    session = world.session()
    with plugin(manual_emulator.endpoint_url) as first:
        checked = first.check(
            URN,
            {},
            program_inputs(
                BackfillTicketProvider(),
                BackfillTicketArgs(
                    configuration_name="cfg", game_session_arn=session["GameSessionId"]
                ).to_props(),
            ),
        )
        created = first.create(URN, checked.inputs)
        ticket_id, state = created.id, state_round_trip(engine_outputs(created.outs))
        describes = calls(control, "DescribeMatchmaking")
        deleting = in_background(first.delete, ticket_id, URN, state)
        wait_for(
            lambda: calls(control, "DescribeMatchmaking") > describes,
            "the delete to poll after its StopMatchmaking",
        )
        first.kill()
        assert_killed(deleting)
    assert calls(control, "StopMatchmaking") == 1
    assert active(control) == [ticket_id]  # the cancel has not landed: time has not moved

    with (
        plugin(manual_emulator.endpoint_url) as second,
        when(lambda: calls(control, "StopMatchmaking") >= 2, lambda: advance(control)),
    ):
        second.delete(ticket_id, URN, state)
    assert world.status(ticket_id) == "CANCELLED"
    assert active(control) == []
    world.gamelift.delete_matchmaking_configuration(Name="cfg")


def test_guard_drain_killed_midway_is_finished_by_a_new_plugin(
    manual_emulator: Emulator, tmp_path: Path
) -> None:
    """A guard drain killed after a few stops drains everything from the same state."""
    control = manual_emulator.control
    guard_world = make_world(control, gamelift_client(manual_emulator.endpoint_url))
    tickets = guard_world.tickets(30)
    control.faults(latency_ms=100, operations=["StopMatchmaking"])  # a drain to interrupt
    news = program_inputs(
        BackfillGuardProvider(),
        BackfillGuardArgs(
            fleet_ids=[guard_world.fleet_id], max_concurrency=2, stop_timeout_seconds=120
        ).to_props(),
    )
    with plugin(manual_emulator.endpoint_url) as first:
        created = first.create(GUARD_URN, first.check(GUARD_URN, {}, news).inputs)
        state = state_round_trip(created.outs)
        assert state["active_ticket_count"] == 30
        deleting = in_background(first.delete, created.id, GUARD_URN, state)
        wait_for(lambda: calls(control, "StopMatchmaking") >= 4, "a few StopMatchmaking calls")
        first.kill()
        assert_killed(deleting)
    stopped_before = calls(control, "StopMatchmaking")
    assert stopped_before < 30
    assert sorted(active(control)) == sorted(tickets)  # nothing ends until time moves
    control.clear_faults()

    with (
        plugin(manual_emulator.endpoint_url) as second,
        when(
            lambda: calls(control, "StopMatchmaking") >= stopped_before + 30,
            lambda: advance(control),
        ),
    ):
        second.delete(created.id, GUARD_URN, state)
    assert active(control) == []
    guard_world.gamelift.delete_matchmaking_configuration(Name="cfg")


# -- a create interrupted after StartMatchBackfill -----------------------------------------


def test_create_killed_after_start_is_adopted_by_the_retry(
    world: World, manual_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create whose StartMatchBackfill succeeded but whose plugin died before answering
    is retried by a new plugin, which adopts the started ticket: one ticket, no orphan."""
    control = world.control
    session = world.session()
    args = BackfillTicketArgs(configuration_name="cfg", game_session_arn=session["GameSessionId"])
    news = program_inputs(BackfillTicketProvider(), registered_inputs("ticket", args))
    derived = news[DERIVED_KEY]
    backend = manual_emulator.backend()
    started, release = threading.Event(), threading.Event()
    start_match_backfill = backend.start_match_backfill

    def answer_lost(**request: Any) -> Any:
        """Start the ticket, then hold the answer until the plugin is dead."""
        answer = start_match_backfill(**request)
        started.set()
        release.wait(30)
        return answer

    monkeypatch.setattr(backend, "start_match_backfill", answer_lost)
    with plugin(manual_emulator.endpoint_url) as first:
        creating = in_background(first.create, URN, first.check(URN, {}, news).inputs)
        assert started.wait(30)
        first.kill()
        release.set()
        assert_killed(creating)
    monkeypatch.undo()
    assert active(control) == [derived]

    with plugin(manual_emulator.endpoint_url) as second:
        created = second.create(URN, second.check(URN, {}, news).inputs)
        assert created.id == derived
        assert calls(control, "StartMatchBackfill") == 1
        assert [t["TicketId"] for t in control.tickets()] == [derived]
        state = state_round_trip(engine_outputs(created.outs))
        with when(lambda: calls(control, "StopMatchmaking") >= 1, lambda: advance(control)):
            second.delete(created.id, URN, state)
    assert active(control) == []


# -- the derived ticket ID -----------------------------------------------------------------


def test_program_derives_a_stable_id_from_stack_name_and_identity() -> None:
    """Without ticket_id, the same resource registers the same valid ID on every run; another
    name or game session gives another; an explicit ticket_id derives nothing."""
    args = BackfillTicketArgs(configuration_name="cfg", game_session_arn="arn:session-1")
    first = registered_inputs("arena", args)[DERIVED_KEY]
    assert first == registered_inputs("arena", args)[DERIVED_KEY]
    identity = {"configuration_name": "cfg", "game_session_arn": "arn:session-1"}
    assert first == derive_ticket_id(
        PROJECT, STACK, "arena", {**identity, "players": None, "region": None}
    )
    assert first.startswith("pulumi-arena-")
    assert len(first) <= 100
    other_name = registered_inputs("arena-2", args)[DERIVED_KEY]
    other_session = registered_inputs(
        "arena", BackfillTicketArgs(configuration_name="cfg", game_session_arn="arn:session-2")
    )[DERIVED_KEY]
    assert len({first, other_name, other_session}) == 3
    explicit = registered_inputs(
        "arena",
        BackfillTicketArgs(
            configuration_name="cfg", game_session_arn="arn:session-1", ticket_id="mine"
        ),
    )
    assert explicit.get(DERIVED_KEY) is None


def test_derived_id_is_not_part_of_diff(aws_env: None) -> None:
    """A stack created before IDs were derived sees no change when the program adds one."""
    olds = {
        "configuration_name": "cfg",
        "game_session_arn": "arn:session-1",
        "ticket_id": "0b0e9a34-random",
        "region": "us-east-1",
        "stop_timeout_seconds": 900,
        "status": "SEARCHING",
    }
    news = {
        "configuration_name": "cfg",
        "game_session_arn": "arn:session-1",
        "region": "us-east-1",
        "stop_timeout_seconds": 900,
        DERIVED_KEY: "pulumi-ticket-0123456789abcdef01234567",
    }
    diff = configured().diff("0b0e9a34-random", olds, news)
    assert (diff.changes, diff.replaces) == (False, [])


def test_check_rejects_a_derived_id_gamelift_would_refuse(aws_env: None) -> None:
    """A derived ID that breaks TicketId's pattern fails check on its own property."""
    news = {**BackfillTicketArgs(configuration_name="cfg", players=[]).to_props()}
    news[DERIVED_KEY] = "not a ticket id!"
    failures = {f.property for f in configured().check({}, news).failures}
    assert DERIVED_KEY in failures


def test_create_adopts_an_active_ticket_with_the_derived_id(aws_env: None, world: World) -> None:
    """An active ticket with the derived ID, same configuration and session, is adopted."""
    arn = world.session()["GameSessionId"]
    world.gamelift.start_match_backfill(
        TicketId="pulumi-t-1",
        ConfigurationName="cfg",
        GameSessionArn=arn,
        Players=[{"PlayerId": "p-1", "Team": "red"}],
    )
    created = create_derived(
        configured(), "pulumi-t-1", configuration_name="cfg", game_session_arn=arn
    )
    assert created.id == "pulumi-t-1"
    assert created.outs["status"] in ACTIVE
    assert calls(world.control, "StartMatchBackfill") == 1


def test_derived_id_of_an_ended_ticket_takes_the_next_suffix(aws_env: None, world: World) -> None:
    """A replacement with the same inputs (the old ticket stopped first) gets `-1`, then `-2`."""
    arn = world.session()["GameSessionId"]
    provider = configured()
    ids = []
    for _ in range(3):
        created = create_derived(
            provider, "pulumi-t-2", configuration_name="cfg", game_session_arn=arn
        )
        ids.append(created.id)
        world.control.set_ticket_status(created.id, "CANCELLED")  # the old one stopped
    assert ids == ["pulumi-t-2", "pulumi-t-2-1", "pulumi-t-2-2"]


def test_derived_id_active_for_another_configuration_is_not_adopted(
    aws_env: None, world: World
) -> None:
    """An active ticket with the derived ID but of another configuration is left alone."""
    other = world.session("auto")["GameSessionId"]
    world.gamelift.start_match_backfill(
        TicketId="pulumi-t-3",
        ConfigurationName="auto",
        GameSessionArn=other,
        Players=[{"PlayerId": "p-1", "Team": "red"}],
    )
    created = create_derived(
        configured(),
        "pulumi-t-3",
        configuration_name="cfg",
        game_session_arn=world.session()["GameSessionId"],
    )
    assert created.id == "pulumi-t-3-1"
    assert world.status("pulumi-t-3") in ACTIVE


def test_derived_ids_all_taken_fail_clearly(aws_env: None, world: World) -> None:
    """When every derived candidate is taken by an ended ticket, create says what to do."""
    arn = world.session()["GameSessionId"]
    players = [{"PlayerId": "p-1", "Team": "red"}]
    for suffix in ["", *(f"-{n}" for n in range(1, 21))]:
        ticket_id = f"pulumi-t-4{suffix}"
        world.gamelift.start_match_backfill(
            TicketId=ticket_id, ConfigurationName="cfg", GameSessionArn=arn, Players=players
        )
        world.control.set_ticket_status(ticket_id, "COMPLETED")
    with pytest.raises(InputError, match="pulumi-t-4 to pulumi-t-4-20 are all taken"):
        create_derived(configured(), "pulumi-t-4", configuration_name="cfg", game_session_arn=arn)
