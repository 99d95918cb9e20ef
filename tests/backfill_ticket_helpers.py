"""Helpers of the BackfillTicket tests: the seeded configurations, the plugin side.

The AWS environment is isolated for every test by conftest (``testkit.aws_env``); the
credentials are the emulator's (`test`/`test`), from the standard chain as in production.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from gamelift_backfill.backfill_ticket import (
    BackfillTicket,
    BackfillTicketArgs,
    BackfillTicketProvider,
)
from gamelift_emulator import EmulatorControl
from testkit.plugin_host import (
    PluginHost,
    Secret,
    make_urn,
    program_inputs,
    state_round_trip,
    type_token,
)
from testkit.world import REGION, World, make_world

EXPLICIT_PLAYERS: list[dict[str, Any]] = [
    {
        "PlayerId": "secret-player-7f3a",
        "PlayerAttributes": {"skill": {"N": 21.5}},
        "Team": "red",
        "LatencyInMs": {"us-east-1": 40},
    }
]
"""A player whose ID the tests look for in logs and error messages (it must never appear)."""


def seed(gamelift: Any, control: EmulatorControl, region: str = REGION) -> World:
    """A fleet in ``region`` (no remote location), a MANUAL configuration ``cfg`` and an
    AUTOMATIC one ``auto`` (``gamelift`` must be a client of that region)."""
    world = make_world(control, gamelift, region=region, locations=())
    world.configuration("cfg", backfill_mode="MANUAL")
    world.configuration("auto", backfill_mode="AUTOMATIC")
    return world


# -- the plugin side -----------------------------------------------------------------------

URN = make_urn("ticket", type_token(BackfillTicket))
STATE_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "state" / "backfill_ticket_v1.json"
FIXTURE_TICKET_ID = "state-fixture-ticket-v1"


def declared_secret_outputs() -> list[str]:
    """The ``additional_secret_outputs`` that `BackfillTicket` registers with, as declared."""
    seen: list[pulumi.ResourceOptions] = []

    def record(self: Any, provider: Any, name: str, props: Any, opts: Any = None) -> None:
        seen.append(opts)

    original = pulumi.dynamic.Resource.__init__
    pulumi.dynamic.Resource.__init__ = record  # type: ignore[method-assign]
    try:
        BackfillTicket("t", BackfillTicketArgs(ticket_id="t-1"))
    finally:
        pulumi.dynamic.Resource.__init__ = original  # type: ignore[method-assign]
    return list(seen[0].additional_secret_outputs or [])


def engine_outputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """What the engine stores: ``additional_secret_outputs`` of the resource made secret.

    The engine applies that option itself (the plugin cannot return secrets), so the host
    leaves it to the caller.
    """
    secret = declared_secret_outputs()
    return {
        key: Secret(value) if key in secret and not isinstance(value, Secret) else value
        for key, value in outs.items()
    }


def program(**inputs: Any) -> dict[str, Any]:
    """The inputs a program registers for ``BackfillTicket(name, BackfillTicketArgs(...))``."""
    return program_inputs(BackfillTicketProvider(), BackfillTicketArgs(**inputs).to_props())


def up(host: PluginHost, **inputs: Any) -> tuple[str, dict[str, Any]]:
    """Check then create, as ``pulumi up`` does; the ID and the outputs as stored."""
    checked = host.check(URN, {}, program(**inputs))
    assert checked.failures == []
    created = host.create(URN, checked.inputs)
    return created.id, state_round_trip(engine_outputs(created.outs))


@contextmanager
def plugin(
    endpoint_url: str | None, config: Mapping[str, str] | None = None
) -> Iterator[PluginHost]:
    """The real plugin with test credentials; the endpoint (if any) through the env."""
    env = {"AWS_ENDPOINT_URL_GAMELIFT": endpoint_url} if endpoint_url else {}
    with PluginHost(config=dict(config or {"aws:region": REGION}), env=env) as host:
        yield host
