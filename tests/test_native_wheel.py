"""The native plugin as the wheel installs it: the console script
`pulumi-resource-gamelift-backfill` of a new virtualenv outside the repository, started as
the engine starts it, drives a guard through create and delete against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gamelift_backfill.reference import GUARD_TOKEN, PACKAGE
from gamelift_emulator import Emulator, EmulatorControl
from testkit.packaging import REPOSITORY, WheelVenv, build_dists, make_wheel_venv
from testkit.plugin_host import EngineStub, PluginHost, make_urn, state_round_trip
from testkit.world import World, make_world

URN = make_urn("guard", GUARD_TOKEN, project="wheel-test")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """A new virtualenv outside the repository with only the built wheel installed."""
    dists = build_dists(tmp_path_factory.mktemp("build"))
    return make_wheel_venv(dists.wheel, tmp_path_factory.mktemp("venv") / "venv")


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    return make_world(control, gamelift)


def test_installed_plugin_drives_a_guard_through_create_and_delete(
    venv: WheelVenv, world: World, emulator: Emulator, tmp_path: Path
) -> None:
    """From the wheel alone (no checkout on the path): schema, create, then a delete that
    drains every backfill ticket of the fleet."""
    assert REPOSITORY not in tmp_path.parents
    tickets = world.tickets(5)
    host = PluginHost(
        tmp_path,
        command=[str(venv.script("pulumi-resource-gamelift-backfill"))],
        package=PACKAGE,
        engine=EngineStub(),
        config={"region": "us-east-1", "endpointUrl": emulator.endpoint_url},
        env={"PYTHONPATH": ""},
    )
    with host:
        assert GUARD_TOKEN in host.get_schema()["resources"]
        checked = host.check(URN, {}, {"fleetIds": [world.fleet_id], "stopTimeoutSeconds": 60})
        assert checked.failures == []
        created = host.create(URN, checked.inputs)
        assert created.outs["activeTicketCount"] == 5
        host.delete(created.id, URN, state_round_trip(created.outs))
    assert {world.status(t) for t in tickets} == {"CANCELLED"}
    assert world.deletable()
