"""`disableAutomaticBackfill` / `disable_automatic_backfill` / `drain
--disable-automatic-backfill`: on delete, before draining, the guarded configuration is set
to BackfillMode MANUAL, through each of the three front ends; off by default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from doctor_helpers import run_cli
from native_helpers import GUARD_URN, native_plugin
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from gamelift_backfill.backfill_guard import BackfillGuardProvider
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import state_round_trip
from testkit.world import REGION, World, make_world


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> Iterator[World]:
    """A fleet and an AUTOMATIC configuration `cfg` with two sessions' automatic tickets."""
    world = make_world(control, gamelift)
    world.configuration("cfg", backfill_mode="AUTOMATIC")
    world.tickets(2)
    yield world
    clear_client_cache()


def mode(world: World, name: str = "cfg") -> str:
    (configuration,) = world.gamelift.describe_matchmaking_configurations(Names=[name])[
        "Configurations"
    ]
    return str(configuration["BackfillMode"])


def provider() -> BackfillGuardProvider:
    guard = BackfillGuardProvider()
    guard.configure(ConfigureRequest(Config({"aws:region": REGION}, "gamelift-backfill")))
    return guard


def dynamic_up(emulator: Emulator, world: World, **inputs: Any) -> tuple[str, dict[str, Any]]:
    guard = provider()
    news = {"fleet_ids": [world.fleet_id], "endpoint_url": emulator.endpoint_url, **inputs}
    checked = guard.check({}, news)
    assert checked.failures == []
    created = guard.create(checked.inputs)
    return created.id, dict(created.outs or {})


def test_dynamic_delete_turns_the_configuration_manual_before_draining(
    emulator: Emulator, world: World
) -> None:
    """A Python guard with the opt-in leaves `cfg` in MANUAL mode and nothing active, so the
    configuration can be deleted."""
    id_, outs = dynamic_up(
        emulator, world, configuration_name="cfg", disable_automatic_backfill=True
    )
    assert outs["disable_automatic_backfill"] is True
    assert mode(world) == "AUTOMATIC"  # create and read change nothing
    provider().delete(id_, outs)
    assert mode(world) == "MANUAL"
    assert world.active_tickets() == []
    assert world.deletable("cfg")


def test_off_by_default_the_configuration_is_left_as_it_is(
    emulator: Emulator, world: World
) -> None:
    """Without the opt-in (the default, stored as false) the drain leaves `cfg` AUTOMATIC:
    a configuration that may belong to others is never changed unasked."""
    id_, outs = dynamic_up(emulator, world, configuration_name="cfg")
    assert outs["disable_automatic_backfill"] is False
    provider().delete(id_, outs)
    assert mode(world) == "AUTOMATIC"
    assert world.active_tickets() == []


def test_a_state_from_before_the_input_diffs_as_unchanged(emulator: Emulator, world: World) -> None:
    """A guard stored before the input existed (no key in state) shows no change when the
    program does not set it either: upgrading changes no stack."""
    _, outs = dynamic_up(emulator, world, configuration_name="cfg")
    old = {k: v for k, v in outs.items() if k != "disable_automatic_backfill"}
    news = provider().check({}, {k: v for k, v in old.items() if k != "active_ticket_count"})
    assert provider().diff("id", old, news.inputs).changes is False


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"disable_automatic_backfill": True}, "needs configuration_name"),
        ({"configuration_name": "cfg", "disable_automatic_backfill": "yes"}, "true or false"),
    ],
)
def test_check_refuses_the_opt_in_without_a_configuration(
    inputs: dict[str, Any], reason: str
) -> None:
    """The opt-in needs the configuration it changes, and is a boolean; Check says so
    offline, on the property."""
    checked = provider().check({}, {"fleet_ids": ["fleet-1"], **inputs})
    assert [f.property for f in checked.failures] == ["disable_automatic_backfill"]
    assert reason in checked.failures[0].reason


def test_native_delete_turns_the_configuration_manual(emulator: Emulator, world: World) -> None:
    """The native provider's `disableAutomaticBackfill` does the same, under its own name."""
    with native_plugin(emulator.endpoint_url) as host:
        news = {
            "fleetIds": [world.fleet_id],
            "configurationName": "cfg",
            "disableAutomaticBackfill": True,
        }
        checked = host.check(GUARD_URN, {}, news)
        assert checked.failures == []
        created = host.create(GUARD_URN, checked.inputs)
        assert created.outs["disableAutomaticBackfill"] is True
        host.delete(created.id, GUARD_URN, state_round_trip(created.outs))
        assert host.engine is not None
        logged = host.engine.text
    assert mode(world) == "MANUAL"
    assert world.active_tickets() == []
    assert "automatic backfill of configuration cfg turned off" in logged


def test_native_check_names_the_camel_case_property() -> None:
    """The native provider's failure names `disableAutomaticBackfill` and
    `configurationName`, as its users write them."""
    with native_plugin("http://127.0.0.1:9") as host:
        checked = host.check(
            GUARD_URN, {}, {"fleetIds": ["fleet-1"], "disableAutomaticBackfill": True}
        )
    assert [f.property for f in checked.failures] == ["disableAutomaticBackfill"]
    assert "configurationName" in checked.failures[0].reason


def test_cli_drain_with_the_option_turns_the_configuration_manual(
    emulator: Emulator, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """`drain --disable-automatic-backfill` sets `cfg` to MANUAL, then drains it empty."""
    code, out, _ = run_cli(
        capsys,
        "drain",
        "--fleet-id",
        world.fleet_id,
        "--configuration-name",
        "cfg",
        "--disable-automatic-backfill",
        "--region",
        REGION,
        "--endpoint-url",
        emulator.endpoint_url,
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)["data"]["found_active"] == 2
    assert mode(world) == "MANUAL"
    assert world.active_tickets() == []


def test_cli_drain_option_without_a_configuration_is_a_usage_error(
    emulator: Emulator, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --configuration-name nothing is called: exit 2 naming the option."""
    before = world.control.calls()
    code, out, _ = run_cli(
        capsys,
        "drain",
        "--fleet-id",
        world.fleet_id,
        "--disable-automatic-backfill",
        "--region",
        REGION,
        "--endpoint-url",
        emulator.endpoint_url,
        "--json",
    )
    assert code == 2
    message = json.loads(out)["error"]["message"]
    assert message.startswith("--disable-automatic-backfill: needs --configuration-name")
    assert world.control.calls() == before
    assert mode(world) == "AUTOMATIC"
