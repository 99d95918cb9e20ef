"""Turning a configuration's automatic backfill off, against the emulator over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gamelift_backfill.core.backfill_mode import disable_automatic_backfill
from gamelift_backfill.core.errors import AuthError
from gamelift_emulator import Emulator, ManualClock
from testkit.world import World, make_world


@pytest.fixture
def world(manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration on an emulator driven by the test's clock."""
    return make_world(
        manual_emulator.control, make_gamelift(manual_emulator.endpoint_url), clock=manual_clock
    )


def mode(world: World, name: str = "cfg") -> str:
    (configuration,) = world.gamelift.describe_matchmaking_configurations(Names=[name])[
        "Configurations"
    ]
    return str(configuration["BackfillMode"])


def test_the_configuration_turns_manual_and_a_timed_out_ticket_is_not_replaced(
    world: World,
) -> None:
    """After the call the configuration is MANUAL, and a session whose automatic ticket
    times out gets no replacement, so the configuration can be deleted."""
    first = world.session()["auto_backfill_ticket_id"]
    disable_automatic_backfill(world.gamelift, "cfg")
    assert mode(world) == "MANUAL"
    world.control.set_ticket_status(first, "TIMED_OUT")
    world.sleep(600)
    assert world.active_tickets() == []
    assert world.deletable()


def test_by_arn_and_twice_is_the_same(world: World) -> None:
    """The configuration may be named by ARN, and a second call changes nothing."""
    arn = world.configuration_arn
    disable_automatic_backfill(world.gamelift, arn)
    disable_automatic_backfill(world.gamelift, "cfg")
    assert mode(world) == "MANUAL"


def test_a_missing_configuration_is_a_no_op(world: World) -> None:
    """A configuration that no longer exists starts no backfill: nothing to do, no error."""
    disable_automatic_backfill(world.gamelift, "gone")
    assert world.control.calls()["UpdateMatchmakingConfiguration"] == 1


def test_a_refusal_is_translated_naming_the_operation_and_configuration(
    manual_emulator: Emulator, make_gamelift: Callable[..., Any], world: World
) -> None:
    """Refused credentials become AuthError naming UpdateMatchmakingConfiguration (the IAM
    permission to add) and the configuration."""
    client = make_gamelift(manual_emulator.endpoint_url, secret_key="wrong-secret-value")
    world.configuration()
    with pytest.raises(AuthError) as info:
        disable_automatic_backfill(client, "cfg")
    assert info.value.operation == "UpdateMatchmakingConfiguration"
    assert "gamelift:UpdateMatchmakingConfiguration" in info.value.message
    assert "configuration cfg" in info.value.message
    assert mode(world) == "AUTOMATIC"
