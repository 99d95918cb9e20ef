"""A BackfillGuard stored by release 1 stays destroyable: committed state, today's plugin.

The fixture holds the property bag a guard create stored (serialized provider included,
in the `stack export --show-secrets` form). Regenerate a NEW version's fixture with

    PYTHONPATH=. .venv/bin/python tests/test_plugin_backfill_guard_state.py \
        tests/fixtures/state/backfill_guard_vN.json

and never rewrite v1: old stacks hold exactly those bytes.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import gamelift_client

from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs, BackfillGuardProvider
from gamelift_emulator import Emulator, EmulatorControl
from testkit.plugin_host import (
    PluginHost,
    from_state,
    make_urn,
    program_inputs,
    state_round_trip,
    to_state,
    type_token,
)
from testkit.seeding import seed_configuration
from testkit.world import REGION, World, make_world

STATE_FIXTURE = Path(__file__).parent / "fixtures" / "state" / "backfill_guard_v1.json"
FIXTURE_FLEET_ID = "fleet-0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
URN = make_urn("guard", type_token(BackfillGuard))


def _plugin(endpoint_url: str) -> PluginHost:
    """The plugin as one `pulumi destroy` runs it: credentials and endpoint from its env."""
    env = {"AWS_ENDPOINT_URL_GAMELIFT": endpoint_url}
    return PluginHost(config={"aws:region": REGION}, env=env)


@pytest.fixture(scope="module")
def host(
    _session_emulator: Emulator,
) -> Iterator[PluginHost]:
    """One plugin process for the module, pointed at the shared emulator."""
    with _plugin(_session_emulator.endpoint_url) as plugin:
        yield plugin


def test_destroy_from_the_committed_v1_state(
    host: PluginHost, control: EmulatorControl, gamelift: Any, emulator: Emulator
) -> None:
    """A guard created by release 1 (committed bytes) drains its fleet with today's code.

    Only `endpoint_url` is pointed at this test's emulator; the serialized provider,
    property names and stored numbers are used exactly as committed.
    """
    state = from_state(json.loads(STATE_FIXTURE.read_text()))
    assert b"providers.backfill_guard" in base64.b64decode(state["__provider"].value)
    assert state["fleet_ids"] == [FIXTURE_FLEET_ID]
    state["endpoint_url"] = emulator.endpoint_url
    control.create_fleet(fleet_id=FIXTURE_FLEET_ID)
    world = World(gamelift=gamelift, control=control, fleet_id=FIXTURE_FLEET_ID)
    tickets = world.tickets(3)
    assert world.active_tickets() == tickets

    host.delete("guard-v1", URN, state)

    assert world.active_tickets() == []
    assert world.deletable()


def generate(path: Path) -> dict[str, Any]:
    """Create a guard against a private emulator and write its stored state to ``path``."""
    with Emulator() as emulator:
        world = make_world(emulator.control, gamelift_client(emulator.endpoint_url))
        emulator.control.create_fleet(fleet_id=FIXTURE_FLEET_ID)
        seed_configuration(world.gamelift, "cfg", backfill_mode="AUTOMATIC")
        args = BackfillGuardArgs(
            fleet_ids=[FIXTURE_FLEET_ID], configuration_name="cfg", stop_timeout_seconds=120
        )
        with _plugin(emulator.endpoint_url) as plugin:
            news = program_inputs(BackfillGuardProvider(), args.to_props())
            checked = plugin.check(URN, {}, news)
            created = plugin.create(URN, checked.inputs)
    state = to_state(state_round_trip(created.outs))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return state


if __name__ == "__main__":
    generate(Path(sys.argv[1]))
    print(f"wrote {sys.argv[1]}")
